package server

import (
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/httpx"
)

// listDestinations answers GET /v1/destinations: each configured
// destination's name, type, state, patterns, cursor per topic, lag, last
// error and counts, in configuration order; [] when there are none.
func (s *Server) listDestinations(ctx *fasthttp.RequestCtx) {
	httpx.WriteJSON(ctx, fasthttp.StatusOK, s.dests.Status())
}
