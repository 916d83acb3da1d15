package ingress

import (
	"errors"
	"net"
	"sync"
	"time"
)

// errAborted fails a dial after Shutdown's context ended.
var errAborted = errors.New("ingress: source shut down")

// connTracker dials TCP connections for a fasthttp client and keeps them
// until they close, so that Shutdown can close one still in use when its
// context ends: fasthttp's client takes no context to cancel a request.
// (egress has its own for webhooks: the two packages share no code.)
type connTracker struct {
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	aborted bool
}

func newConnTracker() *connTracker {
	return &connTracker{conns: map[*trackedConn]struct{}{}}
}

// dial is a fasthttp.DialFuncWithTimeout.
func (ct *connTracker) dial(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, ct: ct}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.aborted {
		_ = c.Close()
		return nil, errAborted
	}
	ct.conns[tc] = struct{}{}
	return tc, nil
}

// abort closes every connection and fails every later dial.
func (ct *connTracker) abort() {
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
	ct   *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.ct.mu.Lock()
		delete(c.ct.conns, c)
		c.ct.mu.Unlock()
	})
	return c.Conn.Close()
}
