package server

import (
	"net"

	"github.com/valyala/fasthttp"
)

// connState counts TCP connections: ringcast_connections{kind="http"} and
// the open and close events. A hijacked connection (a WebSocket) leaves the
// http gauge here; its new owner counts it as ws and counts its close.
func (s *Server) connState(_ net.Conn, state fasthttp.ConnState) {
	switch state {
	case fasthttp.StateNew:
		s.conns.Open["http"].Inc()
		s.conns.Opened.Inc()
	case fasthttp.StateHijacked:
		s.conns.Open["http"].Dec()
	case fasthttp.StateClosed:
		s.conns.Open["http"].Dec()
		s.conns.Closed.Inc()
	}
}
