package edge

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pires/go-proxyproto"
)

// Connection states.
const (
	stateNew       uint32 = iota // not admitted yet
	stateAdmitting               // Admit is running
	stateOpen                    // admitted and counted
	stateClosed                  // closed; counted no more
)

// Conn is what the edge knows of an accepted connection: its peer, whether
// that is a trusted proxy, and whether it is refused. Of finds it from the
// net.Conn the Listener returned.
//
// The net.Conn the Listener returns embeds the concrete connection
// (*net.TCPConn, *proxyproto.Conn or *tls.Conn) and overrides only Close,
// so Read and Write cost no extra stack frame: an idle WebSocket
// subscriber's goroutines keep their smallest stacks, and *net.TCPConn's
// ReadFrom (sendfile) and writev stay in reach.
type Conn struct {
	nc    net.Conn // the connection this describes
	l     *Listener
	state atomic.Uint32

	// Written by Admit before state becomes stateOpen, then only read.
	peer    netip.Addr
	trusted bool
	refusal Refusal
}

// meta is Conn under the field name the connection types embed it as.
type meta = Conn

// tcpConn, proxyConn and tlsConn are the connections Accept returns.
type (
	tcpConn struct {
		*net.TCPConn
		meta
	}
	proxyConn struct {
		*proxyproto.Conn
		meta
	}
	tlsConn struct {
		*tls.Conn // Handshake and ConnectionState: fasthttp's RequestCtx.IsTLS
		meta
	}
	// otherConn is any other connection an inner listener returns.
	otherConn struct {
		net.Conn
		e *Conn
	}
)

// Close releases the connection's counts, once, and closes it.
func (c *tcpConn) Close() error { c.meta.release(); return c.TCPConn.Close() }

// Close releases the connection's counts, once, and closes it.
func (c *proxyConn) Close() error { c.meta.release(); return c.Conn.Close() }

// Close releases the connection's counts, once, and closes it.
func (c *tlsConn) Close() error { c.meta.release(); return c.Conn.Close() }

// Close releases the connection's counts, once, and closes it.
func (c *otherConn) Close() error { c.e.release(); return c.Conn.Close() }

// wrap returns the connection Accept hands out for nc, and its Conn.
func (l *Listener) wrap(nc net.Conn) (net.Conn, *Conn) {
	switch v := nc.(type) {
	case *net.TCPConn:
		c := &tcpConn{TCPConn: v}
		c.meta.l, c.meta.nc = l, c
		return c, &c.meta
	case *proxyproto.Conn:
		c := &proxyConn{Conn: v}
		c.meta.l, c.meta.nc = l, c
		return c, &c.meta
	case *tls.Conn:
		c := &tlsConn{Conn: v}
		c.meta.l, c.meta.nc = l, c
		return c, &c.meta
	}
	c := &otherConn{Conn: nc, e: &Conn{l: l}}
	c.e.nc = c
	return c, c.e
}

// Of returns the edge's Conn of a connection the Listener returned, or nil
// for any other connection (a handler run without the Listener, as in
// tests).
func Of(c net.Conn) *Conn {
	switch v := c.(type) {
	case *tcpConn:
		return &v.meta
	case *proxyConn:
		return &v.meta
	case *tlsConn:
		return &v.meta
	case *otherConn:
		return v.e
	}
	return nil
}

// Admit takes the peer's address (after PROXY protocol, so it may read
// the header), checks the ACL and counts the connection, the first time it
// is called. The goroutine serving the connection calls it, when its
// first request starts (fasthttp's StateActive), and Refusal calls it too.
func (c *Conn) Admit() {
	if c.state.Load() != stateNew || !c.state.CompareAndSwap(stateNew, stateAdmitting) {
		return
	}
	l := c.l
	c.peer = AddrOf(c.nc.RemoteAddr())
	c.trusted = l.trusted.Contains(c.peer)
	c.refusal = l.cnt.acquire(c.peer, !c.trusted)
	if !c.trusted && !l.acl.Allows(c.peer) {
		c.refusal = Denied
	}
	l.m.refused(c.refusal)
	if !c.state.CompareAndSwap(stateAdmitting, stateOpen) {
		l.cnt.release(c.peer, !c.trusted) // closed meanwhile
	}
}

// release uncounts the connection, the first time it is called after
// Admit.
func (c *Conn) release() {
	if c.state.Swap(stateClosed) == stateOpen {
		c.l.release(c)
	}
}

// Peer returns the address of the peer after PROXY protocol: the client,
// or a trusted proxy that sent no PROXY header. Valid after Admit.
func (c *Conn) Peer() netip.Addr { return c.peer }

// Trusted reports whether the peer is a trusted proxy, whose
// X-Forwarded-For is believed and which is not limited per address.
// Valid after Admit.
func (c *Conn) Trusted() bool { return c.trusted }

// Refusal admits the connection if need be and says whether and why it
// is refused. The server answers a refused connection's request with an
// error and closes it. Call it from the goroutine serving the connection.
func (c *Conn) Refusal() Refusal {
	c.Admit()
	return c.refusal
}
