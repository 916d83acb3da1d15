package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docTree makes a document root with files, a directory with an index, one
// without, a dotfile, a FIFO, and symlinks in and out of the root; it
// returns the root and the outside directory.
func docTree(t *testing.T) (root, outside string) {
	t.Helper()
	dir := t.TempDir()
	root, outside = filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	files := map[string]string{
		"root/index.html":     "<h1>home</h1>\n",
		"root/style.css":      "body{}\n",
		"root/app.js":         "export const x = 1;\n",
		"root/data.json":      "{}\n",
		"root/big.txt":        strings.Repeat("0123456789", 100),
		"root/sub/index.html": "<h1>sub</h1>\n",
		"root/nodir/a.txt":    "a\n",
		"root/.secret":        "dotfile\n",
		"root/.git/config":    "[core]\n",
		"root/healthz":        "a file named healthz\n",
		"root/metrics":        "a file named metrics\n",
		"outside/secret.txt":  "TOP SECRET\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"root/link-in":      "index.html",
		"root/sub/link-up":  "../style.css",
		"root/link-out":     "../outside/secret.txt",
		"root/link-abs":     filepath.Join(outside, "secret.txt"),
		"root/linkdir-out":  "../outside",
		"root/sub/link-etc": "/etc",
		"root/indexless/x":  "../index.html",
	}
	for name, target := range links {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	// A directory whose index.html is a link out of the root.
	if err := os.MkdirAll(filepath.Join(root, "evil"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "evil", "index.html")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

// rawAnswer is a response to a request sent byte for byte.
type rawAnswer struct {
	status int
	header http.Header
	body   string
}

// rawGet sends "METHOD target HTTP/1.1" with the headers as written, over
// a fresh TCP connection, so that no client cleans the target first.
func rawGet(t *testing.T, addr, method, target string, header ...string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	for i := 0; i+1 < len(header); i += 2 {
		req += header[i] + ": " + header[i+1] + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, target, err)
	}
	return rawAnswer{resp.StatusCode, resp.Header, string(b)}
}

// code is the contract's error code of a JSON error body, "" if none.
func (a rawAnswer) code() string {
	var e struct{ Error, Code string }
	if json.Unmarshal([]byte(a.body), &e) != nil || e.Error == "" {
		return ""
	}
	return e.Code
}

// TestStaticTraversal sends every way out of the root we know of and
// checks that each is refused with its exact status and code, and that no
// answer carries the secret.
func TestStaticTraversal(t *testing.T) {
	root, _ := docTree(t)
	s := start(t, Config{DocumentRoot: root})
	addr := s.Addr().String()
	for _, c := range []struct {
		target string
		status int
		code   string
	}{
		{"/../outside/secret.txt", 400, "bad_request"},
		{"/../../../../etc/passwd", 400, "bad_request"},
		{"/sub/../../outside/secret.txt", 400, "bad_request"},
		{"/sub/../index.html", 400, "bad_request"}, // harmless, but ".." is never needed
		{"/%2e%2e/outside/secret.txt", 400, "bad_request"},
		{"/%2E%2E/outside/secret.txt", 400, "bad_request"},
		{"/%2e%2e%2foutside%2fsecret.txt", 400, "bad_request"},
		{"/..%2foutside%2fsecret.txt", 400, "bad_request"},
		{"/sub%2f..%2f..%2foutside%2fsecret.txt", 400, "bad_request"},
		{"/.%2e/outside/secret.txt", 400, "bad_request"},
		{"/%252e%252e%252foutside%252fsecret.txt", 400, "bad_request"},         // double-encoded
		{"/%25252e%25252e%25252foutside%25252fsecret.txt", 400, "bad_request"}, // triple
		{`/..\outside\secret.txt`, 400, "bad_request"},
		{"/sub/..%5c..%5coutside%5csecret.txt", 400, "bad_request"},
		{"/%5c..%5coutside%5csecret.txt", 400, "bad_request"},
		{"/index.html%00.txt", 400, "bad_request"},
		{"/index.html%2500.txt", 400, "bad_request"},
		{"/%0a", 400, "bad_request"},
		{"/%zz", 400, "bad_request"},
		{"/link-out", 403, "forbidden"},
		{"/link-abs", 403, "forbidden"},
		{"/linkdir-out/secret.txt", 403, "forbidden"},
		{"/linkdir-out/", 403, "forbidden"},
		{"/sub/link-etc/passwd", 403, "forbidden"},
		{"/evil/", 403, "forbidden"},
		{"/indexless/x", 200, ""}, // ../index.html from a subdirectory: still inside
		{"/%2F%2Fetc%2Fpasswd", 404, "not_found"},
		{"//etc/passwd", 404, "not_found"},
		{"/etc/passwd", 404, "not_found"},
		{"/.secret", 404, "not_found"},
		{"/%2esecret", 404, "not_found"},
		{"/.git/config", 404, "not_found"},
		{"/sub/.%2e", 400, "bad_request"},
		{"/nodir/", 404, "not_found"},
		{"/fifo", 404, "not_found"},
		{"/missing.html", 404, "not_found"},
		{"/console/../../outside/secret.txt", 404, "not_found"}, // the embedded console: no files outside it
		{"/console/%2e%2e/%2e%2e/outside/secret.txt", 404, "not_found"},
	} {
		a := rawGet(t, addr, "GET", c.target)
		if a.status != c.status || a.code() != c.code {
			t.Errorf("GET %s: %d %q, want %d %q (body %q)", c.target, a.status, a.code(), c.status, c.code, a.body)
		}
		if strings.Contains(a.body, "TOP SECRET") || strings.Contains(a.body, "root:") || strings.Contains(a.body, "dotfile") {
			t.Errorf("GET %s leaked: %q", c.target, a.body)
		}
	}
}

// TestStaticFiles checks content types, ranges, conditional requests,
// HEAD, methods, directories and that the API routes win over files.
func TestStaticFiles(t *testing.T) {
	root, _ := docTree(t)
	s := start(t, Config{DocumentRoot: root})
	addr := s.Addr().String()
	for _, c := range []struct {
		target, ctype, body string
	}{
		{"/", "text/html; charset=utf-8", "<h1>home</h1>\n"},
		{"/index.html", "text/html; charset=utf-8", "<h1>home</h1>\n"},
		{"/style.css", "text/css; charset=utf-8", "body{}\n"},
		{"/app.js", "text/javascript; charset=utf-8", "export const x = 1;\n"},
		{"/data.json", "application/json", "{}\n"},
		{"/link-in", "text/html; charset=utf-8", "<h1>home</h1>\n"},
		{"/sub/", "text/html; charset=utf-8", "<h1>sub</h1>\n"},
		{"/sub/link-up", "text/plain; charset=utf-8", "body{}\n"}, // typed by the link's name (none) and sniffing
		{"/%73tyle.css", "text/css; charset=utf-8", "body{}\n"},
	} {
		a := rawGet(t, addr, "GET", c.target)
		if a.status != 200 || a.body != c.body || a.header.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: %d %q %q, want 200 %q %q", c.target, a.status, a.header.Get("Content-Type"), a.body, c.ctype, c.body)
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", c.target)
		}
	}

	t.Run("range", func(t *testing.T) {
		a := rawGet(t, addr, "GET", "/big.txt", "Range", "bytes=10-19")
		if a.status != 206 || a.body != "0123456789" || a.header.Get("Content-Range") != "bytes 10-19/1000" {
			t.Errorf("bytes=10-19: %d %q %q", a.status, a.header.Get("Content-Range"), a.body)
		}
		a = rawGet(t, addr, "GET", "/big.txt", "Range", "bytes=-5")
		if a.status != 206 || a.body != "56789" {
			t.Errorf("bytes=-5: %d %q", a.status, a.body)
		}
		for _, r := range []string{"bytes=5000-6000", "bytes=abc", "bytes=20-10"} {
			a = rawGet(t, addr, "GET", "/big.txt", "Range", r)
			if a.status != 416 || a.code() != "bad_request" || a.header.Get("Content-Range") != "bytes */1000" {
				t.Errorf("%s: %d %q %q %q, want 416 bad_request bytes */1000", r, a.status, a.code(), a.header.Get("Content-Range"), a.body)
			}
		}
	})

	t.Run("if-modified-since", func(t *testing.T) {
		a := rawGet(t, addr, "GET", "/style.css")
		lm := a.header.Get("Last-Modified")
		if lm == "" {
			t.Fatal("no Last-Modified")
		}
		if a = rawGet(t, addr, "GET", "/style.css", "If-Modified-Since", lm); a.status != 304 || a.body != "" {
			t.Errorf("If-Modified-Since %s: %d %q, want 304", lm, a.status, a.body)
		}
		old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
		if err := os.Chtimes(filepath.Join(root, "style.css"), time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if a = rawGet(t, addr, "GET", "/style.css", "If-Modified-Since", old); a.status != 200 || a.body != "body{}\n" {
			t.Errorf("If-Modified-Since %s: %d %q, want 200", old, a.status, a.body)
		}
	})

	t.Run("head", func(t *testing.T) {
		a := rawGet(t, addr, "HEAD", "/big.txt")
		if a.status != 200 || a.body != "" || a.header.Get("Content-Length") != "1000" {
			t.Errorf("HEAD: %d %q %q", a.status, a.header.Get("Content-Length"), a.body)
		}
	})

	t.Run("methods and directories", func(t *testing.T) {
		for _, c := range []struct {
			method, target string
			status         int
			code, location string
		}{
			{"POST", "/index.html", 405, "method_not_allowed", ""},
			{"DELETE", "/", 405, "method_not_allowed", ""},
			{"PUT", "/missing", 404, "not_found", ""},
			{"GET", "/sub", 302, "", "/sub/"},
			{"GET", "/console", 302, "", "/console/"},
			{"GET", "/console?topic=a", 302, "", "/console/?topic=a"},
		} {
			a := rawGet(t, addr, c.method, c.target)
			if a.status != c.status || a.code() != c.code || !strings.HasSuffix(a.header.Get("Location"), c.location) {
				t.Errorf("%s %s: %d %q %q, want %d %q %q", c.method, c.target, a.status, a.code(), a.header.Get("Location"), c.status, c.code, c.location)
			}
			if c.status == 405 && a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", c.method, c.target, a.header.Get("Allow"))
			}
		}
	})

	t.Run("console and API win", func(t *testing.T) {
		for _, c := range []struct{ target, want, ctype string }{
			{"/console/", "<title>", "text/html"},
			{"/console/console.js", "import", "text/javascript"},
			{"/console/ringcast.js", "RingcastClient", "text/javascript"},
			{"/v1/client.js", "RingcastClient", "text/javascript"},
			{"/healthz", "", ""},
			{"/metrics", "ringcast_", "text/plain"},
		} {
			a := rawGet(t, addr, "GET", c.target)
			if a.status != 200 || !strings.Contains(a.body, c.want) || !strings.HasPrefix(a.header.Get("Content-Type"), c.ctype) || strings.Contains(a.body, "a file named") {
				t.Errorf("GET %s: %d %q %.80q", c.target, a.status, a.header.Get("Content-Type"), a.body)
			}
		}
		if a := rawGet(t, addr, "GET", "/v1/nothing"); a.status != 404 || a.code() != "not_found" {
			t.Errorf("GET /v1/nothing: %d %q", a.status, a.body)
		}
	})
}

// TestStaticRootIsSymlink checks that a document root reached through a
// symlink serves its files, and that its own links in stay allowed.
func TestStaticRootIsSymlink(t *testing.T) {
	root, _ := docTree(t)
	link := filepath.Join(t.TempDir(), "www")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{DocumentRoot: link})
	addr := s.Addr().String()
	if a := rawGet(t, addr, "GET", "/link-in"); a.status != 200 || a.body != "<h1>home</h1>\n" {
		t.Errorf("GET /link-in: %d %q", a.status, a.body)
	}
	if a := rawGet(t, addr, "GET", "/link-out"); a.status != 403 {
		t.Errorf("GET /link-out: %d %q", a.status, a.body)
	}
}

// TestConsoleWithoutDocumentRoot checks that the console stays at / when
// no document root is set, and that /console is then nothing.
func TestConsoleWithoutDocumentRoot(t *testing.T) {
	s := start(t, Config{})
	addr := s.Addr().String()
	if a := rawGet(t, addr, "GET", "/"); a.status != 200 || !strings.Contains(a.body, "<title>") {
		t.Errorf("GET /: %d %.80q", a.status, a.body)
	}
	if a := rawGet(t, addr, "GET", "/console/"); a.status != 404 || a.code() != "not_found" {
		t.Errorf("GET /console/: %d %.80q", a.status, a.body)
	}
}

// TestDocumentRootInvalid checks that a missing root or a file fails New
// with an error naming document_root.
func TestDocumentRootInvalid(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		_, err := New(Config{DocumentRoot: root, Listen: "127.0.0.1:0"})
		if err == nil || !strings.Contains(err.Error(), "document_root") {
			t.Errorf("DocumentRoot %s: %v, want an error naming document_root", root, err)
		}
	}
}
