package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests live in e2e/ and run with node's test runner:
// client.test.mjs and types.test.mjs (the JavaScript client against a real
// server, the npm package and its types), console.test.mjs (the console in
// headless Chromium through Playwright). They need node, the npm packages of
// e2e/package-lock.json and Debian's chromium; `make test-deps` installs
// them. A missing one fails these tests with what to run: it never skips.

// chromiumPath is Debian's chromium; RINGCAST_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("RINGCAST_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needNodeModules fails t unless npm ci has installed e2e/'s packages.
func needNodeModules(t *testing.T) {
	t.Helper()
	for _, pkg := range []string{"playwright-core", "ws", "typescript"} {
		if _, err := os.Stat(filepath.Join("e2e", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("web/e2e/node_modules/%s is missing: run `npm ci --prefix web/e2e` (make test-deps does): %v", pkg, err)
		}
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ringcastBinary builds ./cmd/ringcast once per test run (with -race when
// this test binary has it, so both share the build cache and the server's
// races are caught too) and returns its path.
func ringcastBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is needed to build the server for the end-to-end tests: %w", err)
			return
		}
		buildDir, err = os.MkdirTemp("", "ringcast-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(buildDir, "ringcast")
		args := []string{"build", "-o", builtBin}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/ringcast/ringcast/cmd/ringcast")
		out, err := exec.Command(goTool, args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// runNode runs `node --test` on files in e2e/ with the server binary in
// RINGCAST_BIN; it fails t with node's report when a test fails.
func runNode(t *testing.T, timeout time.Duration, files ...string) {
	t.Helper()
	node := nodePath(t)
	needNodeModules(t)
	bin := ringcastBinary(t)
	artifacts, err := filepath.Abs(filepath.Join("..", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec", "--test-concurrency=1"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(),
		"RINGCAST_BIN="+bin,
		"RINGCAST_ARTIFACTS="+artifacts,
		"RINGCAST_CHROMIUM="+chromiumPath(),
		"NO_COLOR=1",
	)
	// Its own process group, so a timeout also ends the servers and the
	// browser it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("node --test %s did not finish within %v:\n%s", strings.Join(files, " "), timeout, out.String())
	}
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(files, " "), err, out.String())
	}
	// A skipped case says why (auth before issue 6); show it, not only under -v.
	for _, m := range regexp.MustCompile(`(?m)^.*# SKIP.*$|^.*﹣.*$`).FindAllString(out.String(), -1) {
		t.Logf("skipped: %s", strings.TrimSpace(m))
	}
	if testing.Verbose() {
		t.Logf("node --test %s (%v):\n%s", strings.Join(files, " "), time.Since(start).Round(time.Millisecond), out.String())
	}
}

// TestJSClientAgainstServer runs the JavaScript client against real servers
// (resume after a cut connection, gaps of a lapped subscriber, epoch resets
// across restarts, SSE fallback, the streaming publisher) and checks the npm
// package and its TypeScript declarations.
func TestJSClientAgainstServer(t *testing.T) {
	runNode(t, 3*time.Minute, "client.test.mjs", "types.test.mjs")
}

// TestConsoleInBrowser runs the console in headless Chromium: two pages
// chatting, a server restart, a lapped subscriber's gap, the topic list,
// labels and keyboard use. Screenshots go to artifacts/screenshots/.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser tests are heavy; make test runs them")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("the browser tests need Debian's chromium at %s: apt-get install -y chromium (make test-deps does): %v", chromiumPath(), err)
	}
	runNode(t, 4*time.Minute, "console.test.mjs")
}

// TestServerServesTheClient checks that the built server answers
// /v1/client.js with exactly the module the console imports.
func TestServerServesTheClient(t *testing.T) {
	bin := ringcastBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "--listen", addr)
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	}()
	var res *http.Response
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err = http.Get("http://" + addr + "/v1/client.js")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on %s never answered: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/client.js: %s\n%s", res.Status, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("GET /v1/client.js: Content-Type %q, want text/javascript", ct)
	}
	if want := readFile(t, FS(), ClientFile); string(body) != want {
		t.Errorf("GET /v1/client.js serves %d bytes that differ from static/%s (%d bytes)", len(body), ClientFile, len(want))
	}
	res, err = http.Post("http://"+addr+"/v1/client.js", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/client.js: %s, want 405", res.Status)
	}
}
