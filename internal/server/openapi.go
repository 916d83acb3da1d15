package server

import (
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/api"
)

// openAPI answers GET /v1/openapi.yaml with the embedded OpenAPI
// description. Any origin may read it, so that API tools on other sites
// can load it.
func (s *Server) openAPI(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType(api.ContentType)
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("Access-Control-Allow-Origin", "*")
	ctx.SetBody(api.Spec())
}
