package ingress

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// wsSource dials a WebSocket server with fasthttp/websocket's Dialer and
// publishes each data frame it reads as one message (empty frames are
// skipped: Ringcast has no empty messages). It dials again with jittered
// backoff whenever the connection fails. Its goroutine alone reads the
// connection and publishes, in order; while a publish waits for block
// subscribers nothing is read, so TCP pushes back on the server.
type wsSource struct {
	sourceBase
	dialer websocket.Dialer
	header http.Header

	mu      sync.Mutex // guards conn and aborted, for abort
	conn    *websocket.Conn
	aborted bool
}

func newWSSource(b sourceBase) *wsSource {
	w := &wsSource{sourceBase: b, header: http.Header{}}
	for _, k := range slices.Sorted(maps.Keys(b.cfg.Headers)) {
		w.header.Set(k, b.cfg.Headers[k])
	}
	if w.header.Get("User-Agent") == "" {
		w.header.Set("User-Agent", b.cfg.UserAgent)
	}
	var protocols []string
	for p := range strings.SplitSeq(b.cfg.Protocol, ",") {
		if p = strings.TrimSpace(p); p != "" {
			protocols = append(protocols, p)
		}
	}
	w.dialer = websocket.Dialer{
		NetDialContext:   (&net.Dialer{}).DialContext,
		HandshakeTimeout: b.cfg.Timeout,
		TLSClientConfig:  b.cfg.TLS,
		Subprotocols:     protocols,
		ReadBufferSize:   4096,
		WriteBufferSize:  1024,
	}
	return w
}

// run dials, reads until the connection fails, waits, dials again.
func (w *wsSource) run() {
	ctx := w.s.ctx
	for failures := 0; ; {
		conn, err := w.dial(ctx)
		if err == nil {
			failures = 0
			w.log.Info("source connected", "url", redact(w.cfg.URL))
			err = w.read(conn)
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		w.log.Warn("source disconnected", "err", err)
		if !w.sleep(w.cfg.Reconnect.Delay(failures)) {
			return
		}
	}
}

// dial opens the connection, within the timeout.
func (w *wsSource) dial(ctx context.Context) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	conn, resp, err := w.dialer.DialContext(ctx, w.cfg.URL, w.header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: the server answered the handshake with %s", redact(w.cfg.URL), resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", redact(w.cfg.URL), err)
	}
	return conn, nil
}

// read publishes conn's frames until it fails or Shutdown, when it sends a
// close frame with 1001.
func (w *wsSource) read(conn *websocket.Conn) error {
	w.setConn(conn)
	defer w.setConn(nil)
	defer conn.Close()
	conn.SetReadLimit(int64(w.s.i.maxMessage))
	stop := context.AfterFunc(w.s.ctx, func() {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "ringcast is shutting down"), time.Now().Add(time.Second))
		_ = conn.SetReadDeadline(time.Now())
	})
	defer stop()
	for {
		// ReadMessage returns a fresh buffer per frame: the message owns it.
		_, data, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				return fmt.Errorf("a frame is over the limit of %d bytes (--max-message-bytes): %w", w.s.i.maxMessage, err)
			}
			return fmt.Errorf("read: %w", err)
		}
		if len(data) == 0 {
			continue
		}
		if err := w.publish(data, w.attrs); err != nil {
			return err
		}
	}
}

// setConn records the connection for abort.
func (w *wsSource) setConn(c *websocket.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = c
	if w.aborted && c != nil {
		_ = c.Close()
	}
}

// abort closes the connection at once.
func (w *wsSource) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// redact hides the password of a URL with user info.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}
