package egress

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/broker"
)

// Limits of a WebSocket destination.
const (
	wsWriteBatch = 256  // frames written before the actor looks at its channels again
	wsMaxUnacked = 4096 // frames written and not yet confirmed, every topic together
)

// wsHandshakeHeaders are the headers the WebSocket handshake sets itself.
var wsHandshakeHeaders = []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"}

// wsClient pushes each message as a frame to a WebSocket server it dials
// (syslog-ng's "client mode"), with fasthttp/websocket's Dialer. A frame
// counts as delivered when the peer answers a ping sent after it: its
// WebSocket library reads frames in order, so the pong proves that the
// peer's reader took every frame before the ping. Only then does the
// cursor move. Frames written but not confirmed when the connection drops
// are written again on the next one, so nothing is missing, and a peer may
// see a frame twice (at least once). A peer that answers no ping (RFC 6455
// says it must) confirms nothing and is dropped after two ping intervals.
//
// One goroutine, the actor, dials, writes every frame and ping, and
// confirms; a reader goroutine per connection reads pongs (the pong
// handler) and discards data frames.
type wsClient struct {
	d      *destination
	dialer websocket.Dialer
	header http.Header

	mu      sync.Mutex // guards conn and aborted, for abort
	conn    *websocket.Conn
	aborted bool

	// The actor's.
	owned    []*topicSub // subscriptions it reads
	turn     int         // next of owned to read
	sending  []*topicSub // subscriptions with unacked[sent:] to write
	marked   []*topicSub // written since the last ping
	unacked  int         // frames written and not confirmed, every topic
	pingID   uint64
	pingOut  bool      // a ping is waiting for its pong
	pingAt   time.Time // when it was sent
	marks    []ackMark // what the pong of ping pingID confirms
	msgs     []*broker.Message
	frame    []byte
	pingText []byte
}

// ackMark says that a pong confirms the first n frames of ts.unacked.
type ackMark struct {
	ts *topicSub
	n  int
}

func newWSClient(d *destination) (*wsClient, error) {
	cfg := &d.cfg
	w := &wsClient{d: d, header: http.Header{}, msgs: make([]*broker.Message, wsWriteBatch)}
	for _, k := range slices.Sorted(maps.Keys(cfg.Headers)) {
		if slices.Contains(wsHandshakeHeaders, http.CanonicalHeaderKey(k)) {
			return nil, fmt.Errorf("headers: %s is set by the WebSocket handshake (use protocol for Sec-WebSocket-Protocol)", k)
		}
		w.header.Set(k, cfg.Headers[k])
	}
	if w.header.Get("User-Agent") == "" {
		w.header.Set("User-Agent", cfg.UserAgent)
	}
	var protocols []string
	for p := range strings.SplitSeq(cfg.Protocol, ",") {
		if p = strings.TrimSpace(p); p != "" {
			protocols = append(protocols, p)
		}
	}
	w.dialer = websocket.Dialer{
		NetDialContext:   (&net.Dialer{}).DialContext,
		HandshakeTimeout: cfg.Timeout,
		TLSClientConfig:  cfg.TLS,
		Subprotocols:     protocols,
		ReadBufferSize:   1024,
		WriteBufferSize:  16 << 10,
	}
	return w, nil
}

// start starts the actor.
func (w *wsClient) start() {
	w.d.wg.Add(1)
	go w.run()
}

// abort closes the connection, unblocking a write or a dial's handshake.
func (w *wsClient) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// setConn records the connection for abort.
func (w *wsClient) setConn(c *websocket.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = c
	if w.aborted && c != nil {
		_ = c.Close()
	}
}

// run is the actor: dial, serve until the connection fails, wait a
// jittered backoff, dial again.
func (w *wsClient) run() {
	d := w.d
	defer d.wg.Done()
	for failures := 0; ; {
		d.setState(StateConnecting, nil)
		conn, err := w.dial()
		if err == nil {
			failures = 0
			d.setState(StateUp, nil)
			err = w.serve(conn)
		}
		if d.ctx.Err() != nil {
			return
		}
		failures++
		d.setState(StateDown, err)
		w.rewind()
		if !d.sleep(d.cfg.Reconnect.Delay(failures)) {
			return
		}
	}
}

// dial opens the connection, within the timeout.
func (w *wsClient) dial() (*websocket.Conn, error) {
	cfg := &w.d.cfg
	ctx, cancel := context.WithTimeout(w.d.ctx, cfg.Timeout)
	defer cancel()
	conn, resp, err := w.dialer.DialContext(ctx, cfg.URL, w.header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: the server answered the handshake with %s", redact(cfg.URL), resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", redact(cfg.URL), err)
	}
	return conn, nil
}

// rewind makes every frame not confirmed go again on the next connection,
// in order, before anything newer of its topic.
func (w *wsClient) rewind() {
	d := w.d
	d.mu.Lock()
	subs := slices.Collect(maps.Values(d.subs))
	d.mu.Unlock()
	again := 0
	w.sending = w.sending[:0]
	for _, ts := range subs {
		ts.queued, ts.marked = false, false
		if len(ts.unacked) > 0 {
			again += ts.sent
			ts.sent = 0
			w.enqueue(ts)
		}
	}
	w.marked, w.marks, w.pingOut = w.marked[:0], w.marks[:0], false
	d.countRetries(again)
}

// enqueue puts ts in the send list.
func (w *wsClient) enqueue(ts *topicSub) {
	if !ts.queued {
		ts.queued = true
		w.sending = append(w.sending, ts)
	}
}

// serve writes frames to conn until it fails or Shutdown; it returns why
// the connection ended (nil on Shutdown).
func (w *wsClient) serve(conn *websocket.Conn) error {
	d := w.d
	w.setConn(conn)
	defer w.setConn(nil)
	pongs := make(chan uint64, 1)
	conn.SetPongHandler(func(s string) error {
		_ = conn.SetReadDeadline(time.Now().Add(2 * d.cfg.PingInterval))
		if id, err := strconv.ParseUint(s, 10, 64); err == nil {
			select {
			case pongs <- id:
			default: // an unasked pong; ours are one at a time
			}
		}
		return nil
	})
	_ = conn.SetReadDeadline(time.Now().Add(2 * d.cfg.PingInterval))
	readErr := make(chan error, 1)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		readErr <- discard(conn, 2*d.cfg.PingInterval)
	}()
	readerDone, err := w.loop(conn, pongs, readErr)
	_ = conn.Close()
	if !readerDone {
		<-readErr
	}
	return err
}

// discard reads conn until it fails: the pong handler runs meanwhile, and
// data frames, which a destination's peer has no reason to send, are
// dropped. Every frame extends the read deadline; when it passes, the
// peer answered no ping.
func discard(conn *websocket.Conn, idle time.Duration) error {
	for {
		if _, _, err := conn.NextReader(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errNoPong
			}
			return fmt.Errorf("connection lost: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(idle))
	}
}

// ready is a closed channel: a select case on it is always ready, so a
// select with it waits for nothing.
var ready = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// loop is serve's actor loop. readerDone reports whether it took the
// reader's error.
func (w *wsClient) loop(conn *websocket.Conn, pongs <-chan uint64, readErr <-chan error) (readerDone bool, err error) {
	d := w.d
	tick := time.NewTicker(d.cfg.PingInterval)
	defer tick.Stop()
	w.owned = d.takeReady(w.owned)
	for {
		if err := w.write(conn); err != nil {
			return false, err
		}
		if len(w.marked) > 0 && !w.pingOut {
			if err := w.ping(conn); err != nil {
				return false, err
			}
		}
		var more <-chan struct{} // with frames left to write, the select only polls
		if w.canWrite() {
			more = ready
		}
		select {
		case id := <-pongs:
			w.confirm(id)
		case <-d.wake:
			w.owned = d.takeReady(w.owned)
		case <-tick.C:
			switch {
			case !w.pingOut:
				if err := w.ping(conn); err != nil {
					return false, err
				}
			case time.Since(w.pingAt) > 2*d.cfg.PingInterval:
				return false, errNoPong
			}
		case err := <-readErr:
			return true, err
		case <-d.ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "ringcast is shutting down"), time.Now().Add(time.Second))
			return false, nil
		case <-more:
		}
	}
}

// canWrite reports whether write has something to do.
func (w *wsClient) canWrite() bool {
	return len(w.sending) > 0 || len(w.owned) > 0 && w.unacked < wsMaxUnacked
}

// write writes up to a batch of frames: first those of the send list (the
// rest of a batch, or what a dropped connection left unconfirmed), then
// new messages, while fewer than wsMaxUnacked wait for confirmation.
func (w *wsClient) write(conn *websocket.Conn) error {
	d := w.d
	budget := wsWriteBatch
	if !w.canWrite() {
		return nil
	}
	if err := conn.SetWriteDeadline(time.Now().Add(d.cfg.Timeout)); err != nil {
		return err
	}
	for len(w.sending) > 0 && budget > 0 {
		ts := w.sending[0]
		for ts.sent < len(ts.unacked) && budget > 0 {
			if err := w.writeFrame(conn, ts); err != nil {
				return err
			}
			budget--
		}
		if ts.sent == len(ts.unacked) {
			ts.queued = false
			w.sending = slices.Delete(w.sending, 0, 1)
		}
	}
	for budget > 0 && len(w.owned) > 0 && w.unacked < wsMaxUnacked {
		w.turn %= len(w.owned)
		ts := w.owned[w.turn]
		n := d.read(ts, w.msgs[:min(budget, wsMaxUnacked-w.unacked)])
		if n == 0 {
			w.owned = slices.Delete(w.owned, w.turn, w.turn+1)
			continue
		}
		ts.unacked = append(ts.unacked, w.msgs[:n]...)
		clear(w.msgs[:n])
		w.unacked += n
		w.turn++
		for ts.sent < len(ts.unacked) {
			if err := w.writeFrame(conn, ts); err != nil {
				w.enqueue(ts)
				return err
			}
			budget--
		}
	}
	return nil
}

// writeFrame writes the next frame of ts, text when it is valid UTF-8.
func (w *wsClient) writeFrame(conn *websocket.Conn, ts *topicSub) error {
	m := ts.unacked[ts.sent]
	data := m.Data
	if t := w.d.cfg.Template; t != nil && !t.IsPayload() {
		w.frame = t.Append(w.frame[:0], m)
		data = w.frame
	}
	kind := websocket.BinaryMessage
	if utf8.Valid(data) {
		kind = websocket.TextMessage
	}
	if err := conn.WriteMessage(kind, data); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	ts.sent++
	if !ts.marked {
		ts.marked = true
		w.marked = append(w.marked, ts)
	}
	return nil
}

// ping sends a ping whose pong will confirm every frame written so far.
func (w *wsClient) ping(conn *websocket.Conn) error {
	w.pingID++
	w.marks = w.marks[:0]
	for _, ts := range w.marked {
		w.marks = append(w.marks, ackMark{ts, ts.sent})
		ts.marked = false
	}
	clear(w.marked)
	w.marked = w.marked[:0]
	w.pingOut, w.pingAt = true, time.Now()
	w.pingText = strconv.AppendUint(w.pingText[:0], w.pingID, 10)
	if err := conn.WriteControl(websocket.PingMessage, w.pingText, time.Now().Add(w.d.cfg.Timeout)); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// confirm handles the pong of ping id: the frames its marks cover are
// delivered, and each topic's cursor moves past them.
func (w *wsClient) confirm(id uint64) {
	if !w.pingOut || id != w.pingID {
		return
	}
	w.pingOut = false
	for _, mk := range w.marks {
		ts := mk.ts
		done := ts.unacked[:mk.n]
		w.d.countDelivered(mk.n, done[0])
		ts.sub.Commit(done[mk.n-1].Seq + 1)
		ts.unacked = slices.Delete(ts.unacked, 0, mk.n)
		ts.sent -= mk.n
		w.unacked -= mk.n
	}
	clear(w.marks)
	w.marks = w.marks[:0]
}

// errNoPong is why a connection whose peer answers no ping ends.
var errNoPong = errors.New("no pong within two ping intervals")
