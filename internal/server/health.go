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

// readyz answers 200 while accepting, 503 draining while draining and
// 503 overloaded while over a limits.ready_max_* threshold (overload.go),
// 503 unavailable while the redis engine cannot reach Redis (engine.go).
func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	if s.draining.Load() {
		httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining, "the server is draining")
		return
	}
	if s.engineDown(ctx) {
		return
	}
	if why := s.overload(); why != "" {
		httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeOverloaded, why)
		return
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ready\n")
}
