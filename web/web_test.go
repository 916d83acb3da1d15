package web

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func readFile(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("console file %s: %v", name, err)
	}
	return string(b)
}

// jsFiles returns the names of the console's JavaScript modules.
func jsFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(FS(), "*.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no .js files in FS()")
	}
	return names
}

func TestFSHasTheConsole(t *testing.T) {
	for _, name := range []string{"index.html", "console.js", "console.css", ClientFile, "ringcast.d.ts"} {
		st, err := fs.Stat(FS(), name)
		if err != nil {
			t.Errorf("FS() lacks %s: %v", name, err)
			continue
		}
		if st.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

func TestIndexReferencesItsFiles(t *testing.T) {
	html := readFile(t, FS(), "index.html")
	if !regexp.MustCompile(`<script type="module" src="\./console\.js"></script>`).MatchString(html) {
		t.Error(`index.html does not load ./console.js as a module (<script type="module" src="./console.js">)`)
	}
	if !strings.Contains(html, `href="./console.css"`) {
		t.Error("index.html does not link ./console.css")
	}
	// Relative references only, so the console also works under /console/.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"#][^"]*)"`).FindAllStringSubmatch(html, -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue
		}
		if !strings.HasPrefix(ref, "./") {
			t.Errorf("index.html refers to %q; use a ./relative path", ref)
			continue
		}
		if _, err := fs.Stat(FS(), strings.TrimPrefix(ref, "./")); err != nil {
			t.Errorf("index.html refers to %q, which FS() lacks", ref)
		}
	}
}

// The ids and markers that browser tests rely on; keep them stable.
var stableIDs = []string{
	"topic", "from", "from-seq", "policy", "format", "transport", "connect", "disconnect", "state", "messages", "announce",
	"pause", "filter", "send-text", "send", "batch-text", "send-batch",
	"topics", "token", "destinations", "error",
}

func TestStableIDs(t *testing.T) {
	html := readFile(t, FS(), "index.html")
	var js strings.Builder
	for _, name := range jsFiles(t) {
		js.WriteString(readFile(t, FS(), name))
	}
	for _, id := range stableIDs {
		n := strings.Count(html, `id="`+id+`"`)
		switch {
		case n > 1:
			t.Errorf("id %q appears %d times in index.html", id, n)
		case n == 0 && !strings.Contains(js.String(), `id = '`+id+`'`):
			t.Errorf("id %q is neither in index.html nor created by the JavaScript", id)
		}
	}
	// Row markers: message rows carry data-seq, gap rows class "gap" with
	// data-from/data-to, resets class "reset", topic rows data-topic.
	for _, marker := range []string{
		"dataset.seq", "'gap'", "dataset.from", "dataset.to", "'reset'", "dataset.topic", "dataset.destination",
	} {
		if !strings.Contains(js.String(), marker) {
			t.Errorf("the JavaScript no longer sets %s", marker)
		}
	}
	// #state must be announced.
	if !regexp.MustCompile(`id="state"[^>]*aria-live="polite"`).MatchString(html) {
		t.Error(`#state is not an aria-live="polite" region`)
	}
}

func TestEveryIDTheJSUsesExists(t *testing.T) {
	html := readFile(t, FS(), "index.html")
	js := readFile(t, FS(), "console.js")
	for _, m := range regexp.MustCompile(`\$\('([^']+)'\)`).FindAllStringSubmatch(js, -1) {
		if !strings.Contains(html, `id="`+m[1]+`"`) {
			t.Errorf("console.js looks up #%s, which index.html lacks", m[1])
		}
	}
}

func TestEveryControlHasALabel(t *testing.T) {
	html := readFile(t, FS(), "index.html")
	ctl := regexp.MustCompile(`<(input|select|textarea)\b[^>]*\bid="([^"]+)"`)
	for _, m := range ctl.FindAllStringSubmatch(html, -1) {
		if !strings.Contains(html, `<label for="`+m[2]+`"`) {
			t.Errorf("<%s id=%q> has no <label for>", m[1], m[2])
		}
	}
}

func TestImportsResolve(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^import\s[^;]*?from\s+'([^']+)';`)
	for _, name := range jsFiles(t) {
		src := readFile(t, FS(), name)
		for _, m := range imp.FindAllStringSubmatch(src, -1) {
			ref := m[1]
			if !strings.HasPrefix(ref, "./") {
				t.Errorf("%s imports %q: the console has no dependencies, import ./files only", name, ref)
				continue
			}
			if _, err := fs.Stat(FS(), path.Clean(ref)); err != nil {
				t.Errorf("%s imports %q, which FS() lacks", name, ref)
			}
		}
	}
}

// nodePath returns node; the console's checks need it, so its absence fails.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to check the console's JavaScript (apt-get install nodejs): %v", err)
	}
	return p
}

// copyModules writes the console's modules into dir with the given extension
// and returns dir. A package.json makes node treat .js as ES modules.
func copyModules(t *testing.T, dir, ext string) {
	t.Helper()
	for _, name := range jsFiles(t) {
		dst := filepath.Join(dir, strings.TrimSuffix(name, ".js")+ext)
		if err := os.WriteFile(dst, []byte(readFile(t, FS(), name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJSSyntax runs `node --check` on every module. Node 20 silently accepts
// a .js file with import statements even when it does not parse, so each
// file is checked as .mjs.
func TestJSSyntax(t *testing.T) {
	node := nodePath(t)
	dir := t.TempDir()
	copyModules(t, dir, ".mjs")
	for _, name := range jsFiles(t) {
		f := filepath.Join(dir, strings.TrimSuffix(name, ".js")+".mjs")
		out, err := exec.Command(node, "--check", f).CombinedOutput()
		if err != nil {
			t.Errorf("node --check %s: %v\n%s", name, err, out)
		}
	}
}

// TestJSBehaviour runs testdata/client_test.mjs (node:test) against the
// console's DOM-free modules and the client with fakes for fetch and
// WebSocket: resume, gaps, epoch resets, auth probing, SSE fallback,
// publishing, backpressure, formatting. (package.json makes static/*.js ES
// modules for node.)
func TestJSBehaviour(t *testing.T) {
	node := nodePath(t)
	cmd := exec.Command(node, "--test", "--test-reporter=spec", filepath.Join("testdata", "client_test.mjs"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
