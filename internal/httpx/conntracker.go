package httpx

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ErrAborted fails a dial after ConnTracker.Abort.
var ErrAborted = errors.New("httpx: the client was shut down")

// ConnTracker dials TCP connections for a fasthttp client and keeps them
// until they close, so that a shutdown whose context ends can close those
// still in use: fasthttp's client takes no context to cancel a request.
// The webhook destinations (egress) and the http_poll sources (ingress)
// use it.
type ConnTracker struct {
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	aborted bool
}

// NewConnTracker returns a tracker with no connection.
func NewConnTracker() *ConnTracker {
	return &ConnTracker{conns: map[*trackedConn]struct{}{}}
}

// Dial is a fasthttp.DialFuncWithTimeout.
func (ct *ConnTracker) Dial(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, ct: ct}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.aborted {
		_ = c.Close()
		return nil, ErrAborted
	}
	ct.conns[tc] = struct{}{}
	return tc, nil
}

// Abort closes every connection and fails every later dial.
func (ct *ConnTracker) Abort() {
	ct.mu.Lock()
	ct.aborted = true
	conns := make([]*trackedConn, 0, len(ct.conns))
	for c := range ct.conns {
		conns = append(conns, c)
	}
	ct.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackedConn forgets itself when closed.
type trackedConn struct {
	net.Conn
	ct   *ConnTracker
	once sync.Once
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.ct.mu.Lock()
		delete(c.ct.conns, c)
		c.ct.mu.Unlock()
	})
	return c.Conn.Close()
}
