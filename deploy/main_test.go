package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// workDir is the temporary directory of this test run: the ringcast binary
// and every generated config file live under it, never in the repo.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ringcast-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy: cannot make the test run's directory:", err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2")); err != nil {
			fmt.Fprintln(os.Stderr, "deploy: goroutines left behind:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ringcastBinary builds cmd/ringcast once per test run into workDir (with
// -race when the tests run with it) and returns its path;
// $RINGCAST_E2E_BINARY, when set, names a binary to test instead.
func ringcastBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RINGCAST_E2E_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("cannot find the go command on PATH to build ringcast: %w", err)
			return
		}
		binPath = filepath.Join(workDir, "ringcast")
		args := []string{"build", "-o", binPath}
		if raceBuild {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool, append(args, "./cmd/ringcast")...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go %s ./cmd/ringcast: %w\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// need returns the path of a program the tests run, failing the test with
// what installs it when it is missing.
func need(t *testing.T, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s is not installed (looked in %v and PATH): the load-balancer end-to-end tests need it; `make test-deps` installs it", name, paths)
	return ""
}

// heavy skips t under -short: it starts processes.
func heavy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts ringcast, HAProxy, nginx or redis-server processes; skipped under -short")
	}
}
