package bench

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/fasthttp/websocket"
)

// wsFeed reads a raw-format WebSocket subscription.
type wsFeed struct {
	conn  *websocket.Conn
	clock *clockConn
	buf   []byte
}

// dialWSFeed subscribes over WebSocket at u; d is copied.
func dialWSFeed(ctx context.Context, d websocket.Dialer, u string, size int) (*wsFeed, error) {
	f := &wsFeed{buf: make([]byte, size+1)}
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		f.clock = &clockConn{Conn: c}
		return f.clock, nil
	}
	conn, err := dialWS(ctx, &d, u)
	if err != nil {
		return nil, err
	}
	f.conn = conn
	return f, nil
}

func (f *wsFeed) next() ([]byte, int64, error) {
	_, r, err := f.conn.NextReader()
	if err != nil {
		return nil, 0, err
	}
	n := 0
	for {
		if n == len(f.buf) {
			f.buf = append(f.buf, make([]byte, len(f.buf))...)
		}
		m, err := r.Read(f.buf[n:])
		n += m
		if err == io.EOF {
			return f.buf[:n], f.clock.read, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// closedByPolicy: the broker closes a lapped disconnect subscriber with
// 1008 (policy violation).
func (f *wsFeed) closedByPolicy(err error) bool {
	return websocket.IsCloseError(err, websocket.ClosePolicyViolation)
}

func (f *wsFeed) stop() {
	_ = f.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func (f *wsFeed) abort() { _ = f.conn.Close() }

func (f *wsFeed) close() { _ = f.conn.Close() }

// clockConn notes when each read returned, which is when the bytes it
// read left the kernel: the receive time of every message completed by
// those bytes. It costs one clock reading per read system call instead of
// one per message, a fifth of the subscriber's time when it reads large
// batches. Only the subscriber's goroutine reads.
type clockConn struct {
	net.Conn
	read int64 // Unix nanoseconds
}

// Read reads from the connection and notes when the bytes arrived.
func (c *clockConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read = time.Now().UnixNano()
	return n, err
}
