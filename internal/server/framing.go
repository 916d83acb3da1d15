package server

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/httpx"
)

// ambiguousFraming answers 400 and closes the connection when a request
// carries both Transfer-Encoding and Content-Length, and reports
// whether it did. RFC 9112 (section 6.3) calls such a request a likely
// smuggling attempt, to be refused or answered and then closed: a proxy
// in front that framed it by Content-Length would see a different next
// request than we do. fasthttp reads it by Transfer-Encoding and keeps the
// connection open, and keeps no trace of the Content-Length but the raw
// header bytes (and, once the body is read, not even that it was
// chunked), which are scanned here.
func (s *Server) ambiguousFraming(ctx *fasthttp.RequestCtx) bool {
	var cl, te bool
	for line := range bytes.SplitSeq(ctx.Request.Header.RawHeaders(), []byte("\n")) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		cl = cl || bytes.EqualFold(name, []byte(fasthttp.HeaderContentLength))
		te = te || bytes.EqualFold(name, []byte(fasthttp.HeaderTransferEncoding))
	}
	if !cl || !te {
		return false
	}
	s.conns.Errors.Inc()
	ctx.SetConnectionClose()
	httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest,
		"the request has both Transfer-Encoding and Content-Length; send one of them (RFC 9112, section 6.3)")
	return true
}
