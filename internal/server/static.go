package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/httpx"
)

// consolePrefix is where the console lives when a document root is set.
const consolePrefix = "/console/"

// staticFiles serves Config.DocumentRoot with fasthttp's FS.
//
// fasthttp's FS follows symlinks and trusts ctx.Path(), which it has
// already percent-decoded and cleaned of "." and ".." segments. Before a
// request reaches it, serve refuses:
//
//   - 400 bad_request: a path whose raw form, or any of up to three rounds
//     of percent-decoding of it, has a ".." segment, a backslash, a NUL or
//     another control byte, or is not valid percent-encoding;
//   - 404 not_found (by reporting false): a segment that starts with "."
//     (.git, .env, .htpasswd), a path that does not exist, one that is not
//     a regular file or a directory with a regular index.html (a FIFO or a
//     device would hold a worker), and a directory without index.html (no
//     listings);
//   - 403 forbidden: a path whose real path, symlinks resolved with
//     filepath.EvalSymlinks, is outside the root's real path.
//
// Every request resolves its path afresh (a few lstat calls; the file
// cache of FS is off too, SkipCache), so a symlink changed in the root is
// judged as it is now. What remains is a race: a symlink swapped between
// the check and FS's open. Whoever can write the root can serve anything
// anyway; the check is against links that point out of it by mistake.
//
// Compression is off: FS compresses by writing .fasthttp.gz files next to
// the originals, which needs a writable document root and leaves files in
// it; put a compressing proxy in front when the bytes matter.
type staticFiles struct {
	root    string // absolute, symlinks resolved
	handler fasthttp.RequestHandler
}

// newStaticFiles checks root, the document_root setting, and returns its
// server; nil when root is "".
func newStaticFiles(root string) (*staticFiles, error) {
	if root == "" {
		return nil, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("server: document_root %q: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("server: document_root %q: %w; set it to a directory of files to serve, or remove it", root, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("server: document_root %q: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("server: document_root %q is not a directory; set it to a directory of files to serve, or remove it", root)
	}
	sf := &staticFiles{root: real}
	fsys := &fasthttp.FS{
		Root:            real,
		IndexNames:      []string{"index.html"},
		AcceptByteRange: true,
		SkipCache:       true, // no cache cleaner goroutine, no stale file after an edit
		PathNotFound: func(ctx *fasthttp.RequestCtx) {
			httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no file at "+quote(string(ctx.Path())))
		},
	}
	sf.handler = fsys.NewRequestHandler()
	return sf, nil
}

// consoleOrStatic serves what is not an API route: with no document root
// the console at /, else the console under /console/ and the document
// root's files everywhere else. It reports false when nothing matches.
func (s *Server) consoleOrStatic(ctx *fasthttp.RequestCtx, urlPath string) bool {
	if s.static == nil {
		return s.console(ctx, urlPath)
	}
	if urlPath == strings.TrimSuffix(consolePrefix, "/") {
		// The console's files are relative (./console.js): it needs the
		// slash. Its query (?topic=…) is kept.
		to := "console/"
		if q := ctx.URI().QueryString(); len(q) > 0 {
			to += "?" + string(q)
		}
		ctx.Redirect(to, fasthttp.StatusFound)
		return true
	}
	if rest, ok := strings.CutPrefix(urlPath, consolePrefix); ok {
		return s.console(ctx, "/"+rest)
	}
	return s.static.serve(ctx)
}

// serve answers from the document root, or reports false when there is
// no such file (the router answers 404).
func (sf *staticFiles) serve(ctx *fasthttp.RequestCtx) bool {
	if msg := badStaticPath(string(ctx.URI().PathOriginal())); msg != "" {
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, msg)
		return true
	}
	rel := strings.TrimPrefix(path.Clean("/"+string(ctx.Path())), "/")
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return false
		}
	}
	fi, err := sf.resolve(rel)
	switch {
	case errors.Is(err, errOutsideRoot):
		httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden, "path "+quote(string(ctx.Path()))+" resolves outside document_root")
		return true
	case err != nil:
		return false
	}
	if fi.IsDir() {
		ifi, err := sf.resolve(path.Join(rel, "index.html"))
		if errors.Is(err, errOutsideRoot) {
			httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden, "index.html of "+quote(string(ctx.Path()))+" resolves outside document_root")
			return true
		}
		if err != nil || !ifi.Mode().IsRegular() {
			return false
		}
	} else if !fi.Mode().IsRegular() {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		httpx.MethodNotAllowed(ctx, "GET, HEAD")
		return true
	}
	sf.handler(ctx)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	if ctx.Response.StatusCode() == fasthttp.StatusRequestedRangeNotSatisfiable {
		httpx.WriteError(ctx, fasthttp.StatusRequestedRangeNotSatisfiable, httpx.CodeBadRequest,
			"Range "+quote(string(ctx.Request.Header.Peek("Range")))+" is not satisfiable for "+quote(string(ctx.Path())))
		if !fi.IsDir() {
			ctx.Response.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(fi.Size(), 10))
		}
	}
	return true
}

// errOutsideRoot is a path whose real path leaves the document root.
var errOutsideRoot = errors.New("server: path resolves outside document_root")

// resolve returns the file info of rel (slash-separated, cleaned,
// relative to the root) after resolving its symlinks; errOutsideRoot when
// they lead out of the root.
func (sf *staticFiles) resolve(rel string) (fs.FileInfo, error) {
	real, err := filepath.EvalSymlinks(filepath.Join(sf.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	if real != sf.root && !strings.HasPrefix(real, sf.root+string(filepath.Separator)) {
		return nil, errOutsideRoot
	}
	return os.Stat(real)
}

// badStaticPath returns why the raw request path p is refused, "" if it is
// not: it, and each of up to three rounds of percent-decoding of it, must
// have no ".." segment, backslash or control byte.
func badStaticPath(p string) string {
	for range 4 {
		for i := 0; i < len(p); i++ {
			if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
				return "path " + quote(p) + " has a control byte or a backslash; static files are named with plain slashes"
			}
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == ".." {
				return "path " + quote(p) + " climbs out with \"..\"; static files are named from the document root down"
			}
		}
		if !strings.Contains(p, "%") {
			return ""
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return "path " + quote(p) + " is not valid percent-encoding"
		}
		p = d
	}
	return ""
}
