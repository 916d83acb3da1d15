package ingress

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

const (
	// wsReadBufferSize is small: an idle publisher holds little, and a
	// large message bypasses the buffer anyway.
	wsReadBufferSize = 1024
	// keepScratch is the largest read buffer a connection keeps between
	// messages; a larger one, grown for a large message, is let go.
	keepScratch = 64 << 10
)

// wsWritePool is never drawn from: a publisher connection writes only
// control frames, which need no write buffer, and with a pool set the
// upgrader does not allocate one per connection.
var wsWritePool sync.Pool

// newUpgrader returns the upgrader of WebSocket publishers. It accepts any
// Origin (publishers are programs and browsers on other sites alike) and
// answers a refused handshake with the contract's JSON error.
func newUpgrader(i *Ingress) websocket.FastHTTPUpgrader {
	return websocket.FastHTTPUpgrader{
		ReadBufferSize:  wsReadBufferSize,
		WriteBufferPool: &wsWritePool,
		CheckOrigin:     func(*fasthttp.RequestCtx) bool { return true },
		Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
			code := codeInternal
			switch status {
			case fasthttp.StatusBadRequest:
				code = httpx.CodeBadRequest
			case fasthttp.StatusForbidden:
				code = httpx.CodeForbidden
			case fasthttp.StatusMethodNotAllowed:
				code = httpx.CodeMethodNotAllowed
				ctx.Response.Header.Set(fasthttp.HeaderAllow, fasthttp.MethodGet)
			}
			i.fail(ctx, status, code, reason.Error())
		},
	}
}

// WebSocket handles GET /v1/topics/{topic}/ws?mode=pub: each text or binary
// frame the client sends is one message. Empty frames are ignored; a text
// frame that is not valid UTF-8 closes the connection with 1007 and one
// over MaxMessageBytes with 1009, and neither is accepted. The upgrade
// request's X-Ringcast-Attr-* headers and address are every message's
// attributes.
//
// A frame is accepted once it is read and stored; while block subscribers
// hold the ring full the connection is simply not read from. The server
// pings every PingInterval and closes a peer silent for two intervals. It
// closes with 1001 on Shutdown and with 1008 when the broker's topic limit
// is reached.
func (i *Ingress) WebSocket(ctx *fasthttp.RequestCtx, topic string) {
	if i.isDraining() {
		i.fail(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining,
			"the server is shutting down; connect to another instance")
		return
	}
	// Everything taken from ctx is copied now: ctx dies when the handler
	// returns, before the connection is served.
	p := &wsPublisher{in: i, topic: strings.Clone(topic), attrs: httpx.Attrs(ctx, false)}
	_ = i.upgrader.Upgrade(ctx, p.serve) // a refused handshake is answered by upgrader.Error
}

// wsPublisher is one mode=pub connection. Its goroutine (the one fasthttp
// hijacks the connection into) is the only reader; pings are written by a
// timer callback and close frames by the reader, through WriteControl,
// which the websocket library allows concurrently with reading.
type wsPublisher struct {
	in    *Ingress
	topic string
	attrs map[string]string // shared by every message of the connection
	conn  *websocket.Conn

	// Owned by the reader goroutine.
	extended time.Time    // when the read deadline was last pushed back
	recheck  *time.Timer  // sets due when the deadline may need pushing back
	scratch  bytes.Buffer // a message is read here, then copied to its exact size
	due      atomic.Bool  // the reader reads the clock before its next frame

	mu      sync.Mutex // guards the fields below and every read deadline change
	stopped bool       // the connection is ending: no more pings
	leaving bool       // Shutdown asked for a close with 1001
	aborted bool       // Shutdown's deadline passed: no more waiting on the peer
	done    bool       // serve is returning: fasthttp will close and recycle the connection
	pinger  *time.Timer
	pinging sync.WaitGroup // a ping being written
}

// ending says how a publisher connection ends.
type ending struct {
	closeCode int    // close frame to send, then wait for the peer's; 0: none
	text      string // the close frame's reason
	abnormal  bool   // counted as a connection error
}

// serve runs the connection until it ends.
func (p *wsPublisher) serve(conn *websocket.Conn) {
	p.conn = conn
	in := p.in
	if !in.track(p) {
		in.m.rejectedCounter(httpx.CodeDraining).Inc()
		p.finish(ending{closeCode: websocket.CloseGoingAway, text: "the server is shutting down"})
		return
	}
	defer in.untrack(p)
	in.conns.Open[httpx.KindWS].Inc()
	conn.SetReadLimit(int64(in.maxMessage))
	conn.SetPongHandler(p.pong)
	p.startPings()
	e := p.read()
	p.stopPings()
	p.finish(e)
	p.release()
	// With the server's KeepHijackedConns this closes the socket; without
	// it, it is a no-op and fasthttp closes the socket when serve returns.
	_ = conn.Close()
	in.conns.Open[httpx.KindWS].Dec()
	in.conns.Closed.Inc()
	if e.abnormal {
		in.conns.Errors.Inc()
	}
}

// read publishes every frame until the connection ends, and says how.
func (p *wsPublisher) read() ending {
	in := p.in
	p.due.Store(true)
	defer func() {
		if p.recheck != nil {
			p.recheck.Stop()
		}
	}()
	for {
		p.keepDeadline()
		typ, r, err := p.conn.NextReader()
		if err != nil {
			return p.readFailed(err)
		}
		p.scratch.Reset()
		if _, err := p.scratch.ReadFrom(r); err != nil {
			return p.readFailed(err)
		}
		payload := p.scratch.Bytes()
		if len(payload) == 0 {
			continue
		}
		if typ == websocket.TextMessage && !utf8.Valid(payload) {
			in.m.rejectedCounter(httpx.CodeBadRequest).Inc()
			return ending{websocket.CloseInvalidFramePayloadData,
				"text frame is not valid UTF-8; send binary payloads in binary frames", true}
		}
		m := &broker.Message{Data: bytes.Clone(payload), Attrs: p.attrs}
		if p.scratch.Cap() > keepScratch {
			p.scratch = bytes.Buffer{}
		}
		if err := in.publishFrame(in.ctx, p.topic, m); err != nil {
			r := refuse(err)
			return ending{r.closeCode, r.reason, r.code != httpx.CodeDraining}
		}
	}
}

// keepDeadline pushes the read deadline back as extendDeadline does before
// every frame, but reads the clock only once a timer says that a quarter
// of a ping interval has passed since the deadline last moved: at a
// million frames a second, a time.Now per frame was 7% of the server's
// CPU.
func (p *wsPublisher) keepDeadline() {
	if !p.due.Load() {
		return
	}
	p.due.Store(false)
	now := time.Now()
	p.extendDeadline(now)
	wait := p.in.ping/4 - now.Sub(p.extended)
	if p.recheck == nil {
		p.recheck = time.AfterFunc(wait, func() { p.due.Store(true) })
		return
	}
	p.recheck.Reset(wait)
}

// readFailed says how the connection ends after a read error.
func (p *wsPublisher) readFailed(err error) ending {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		// The peer closed and the library has answered its close frame.
		normal := ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway ||
			ce.Code == websocket.CloseNoStatusReceived
		return ending{abnormal: !normal}
	case errors.Is(err, websocket.ErrReadLimit):
		// The library sent the close frame with 1009 as soon as it read the
		// frame header; sending it again is a harmless no-op.
		p.in.m.rejectedCounter(httpx.CodeTooLarge).Inc()
		return ending{websocket.CloseMessageTooBig, "message over the size limit (--max-message-bytes)", true}
	case p.isLeaving():
		return ending{closeCode: websocket.CloseGoingAway, text: "the server is shutting down"}
	}
	// The peer vanished, broke the protocol (the library sent 1002) or
	// was silent for two ping intervals.
	return ending{abnormal: true}
}
