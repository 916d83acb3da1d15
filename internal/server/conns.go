package server

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/edge"
)

// connState counts TCP connections: ringcast_connections{kind="http"} and
// the open and close events, and has the edge admit each connection. A
// hijacked connection (a WebSocket) leaves the http gauge here; its new
// owner counts it as ws and counts its close.
func (s *Server) connState(nc net.Conn, state fasthttp.ConnState) {
	switch state {
	case fasthttp.StateNew:
		s.conns.Open["http"].Inc()
		s.conns.Opened.Inc()
		s.served.add(nc)
	case fasthttp.StateActive:
		// The first request starts: the edge admits the connection (the
		// ACL, the connection limits) in this, its serving goroutine;
		// later requests find it admitted.
		if c := edge.Of(nc); c != nil {
			c.Admit()
		}
	case fasthttp.StateHijacked:
		s.conns.Open["http"].Dec()
		s.served.remove(nc)
	case fasthttp.StateClosed:
		s.conns.Open["http"].Dec()
		s.conns.Closed.Inc()
		s.served.remove(nc)
	}
}

// servedConns are the connections fasthttp serves, hijacked ones not
// included.
//
// fasthttp's Shutdown closes keep-alive connections idle between
// requests, but waits for a connection that never sent its first request
// (a client's spare connection) until its read timeout, longer than a
// drain may take. shutdownHTTP therefore ends every read on them
// (stopReads) until fasthttp is done.
type servedConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (sc *servedConns) add(nc net.Conn) {
	sc.mu.Lock()
	if sc.conns == nil {
		sc.conns = map[net.Conn]struct{}{}
	}
	sc.conns[nc] = struct{}{}
	sc.mu.Unlock()
}

func (sc *servedConns) remove(nc net.Conn) {
	sc.mu.Lock()
	delete(sc.conns, nc)
	sc.mu.Unlock()
}

// stopReads makes every pending and later read on the connections fail.
// A request whose handler runs has its body read already, and gets its
// answer (with Connection: close while draining); a request still being
// read is cut, and one not started never will be.
func (sc *servedConns) stopReads() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for nc := range sc.conns {
		_ = nc.SetReadDeadline(time.Unix(1, 0))
	}
}

// shutdownHTTP stops fasthttp, ending reads on its connections every
// 100 ms meanwhile: fasthttp sets its own read deadline when a request
// starts, so a connection accepted just before the listener closed is
// caught by a later round.
func (s *Server) shutdownHTTP(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.http.ShutdownWithContext(ctx) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		s.served.stopReads()
		select {
		case err := <-done:
			return err
		case <-tick.C:
		}
	}
}
