package server

import (
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/httpx"
)

// healthz answers 200 while the process serves.
func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// readyz answers 200 while accepting and 503 while draining.
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	if s.draining.Load() {
		httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining, "the server is draining")
		return
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ready\n")
}
