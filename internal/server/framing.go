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
	if !hasCLAndTE(ctx.Request.Header.RawHeaders()) {
		return false
	}
	s.conns.Errors.Inc()
	ctx.SetConnectionClose()
	httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest,
		"the request has both Transfer-Encoding and Content-Length; send one of them (RFC 9112, section 6.3)")
	return true
}

// hasCLAndTE reports whether the raw header lines name both
// Content-Length and Transfer-Encoding (case-insensitively, the name
// trimmed of spaces). It runs for every request, so it looks at a name
// only when its line is long enough to hold one of the two, and stops
// once it has seen both.
func hasCLAndTE(raw []byte) bool {
	var cl, te bool
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		// Trimming only shortens a name, and the shorter of the two is
		// Content-Length. A name that folds to one of them is as long or,
		// with U+017F (ſ, 2 bytes) for the s of Transfer, one byte longer:
		// no other character folds to one of their letters. (fasthttp
		// refuses names that are not ASCII, but a folded continuation
		// line of a value is here too, and may hold any byte.)
		colon := bytes.IndexByte(line, ':')
		if colon < len(fasthttp.HeaderContentLength) {
			continue
		}
		switch name := bytes.TrimSpace(line[:colon]); len(name) {
		case len(fasthttp.HeaderContentLength):
			cl = cl || bytes.EqualFold(name, []byte(fasthttp.HeaderContentLength))
		case len(fasthttp.HeaderTransferEncoding), len(fasthttp.HeaderTransferEncoding) + 1:
			te = te || bytes.EqualFold(name, []byte(fasthttp.HeaderTransferEncoding))
		}
		if cl && te {
			return true
		}
	}
	return false
}
