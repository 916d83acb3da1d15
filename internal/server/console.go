package server

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/ringcast/ringcast/web"
)

// console serves the embedded web console: index.html for "/", its other
// files by name. urlPath is relative to where the console lives: / without
// a document root, /console/ with one (consoleOrStatic). It reports false
// when no file matches.
func (s *Server) console(ctx *fasthttp.RequestCtx, urlPath string) bool {
	name := strings.TrimPrefix(path.Clean(urlPath), "/")
	if name == "" {
		name = "index.html"
	}
	data, err := fs.ReadFile(web.FS(), name)
	if err != nil {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		httpx.MethodNotAllowed(ctx, "GET, HEAD")
		return true
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".js") {
		ctype = "text/javascript; charset=utf-8" // module scripts need a JavaScript type everywhere
	}
	ctx.SetContentType(ctype)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetBody(data)
	return true
}

// clientJS serves the JavaScript client (web/static/ringcast.js, the module
// the console itself imports) at /v1/client.js.
func (s *Server) clientJS(ctx *fasthttp.RequestCtx) {
	data, err := fs.ReadFile(web.FS(), web.ClientFile)
	if err != nil {
		panic("BUG: server: the embedded console lacks " + web.ClientFile + ": " + err.Error())
	}
	ctx.SetContentType("text/javascript; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Access-Control-Allow-Origin", "*")
	ctx.SetBody(data)
}
