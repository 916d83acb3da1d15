package egress

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
)

// readBufferSize is the websocket library's read buffer, used only until
// the upgrade is done: the reader then reads frames itself (frameReader).
const readBufferSize = 128

// wsConn is one WebSocket subscriber.
type wsConn struct {
	conn
	fr         *frameReader  // the reader's; no websocket.Conn is kept
	extended   time.Time     // the reader's: when the read deadline was last pushed back
	in         inbox         // the reader posts here, then wakes the writer
	readerDone chan struct{} // closed when the reader returns

	// mode=pubsub
	topic   string
	attrs   map[string]string
	pubsub  bool
	origin  uint64
	ctx     context.Context // cancelled when the connection ends
	cancel  context.CancelFunc
	maxSize int
}

// wsSetup is what the handler copies out of the request for the actor.
type wsSetup struct {
	topic  string
	opts   broker.SubscribeOptions
	json   bool
	pubsub bool
	echo   bool
	attrs  map[string]string
}

// WebSocket serves GET /v1/topics/{topic}/ws in mode=sub (the default) and
// mode=pubsub. Bad query values are refused with 400 and policy=block where
// the topic's rule does not allow it with 403, before the upgrade; the
// subscription (and the topic) is created only once the upgrade is done,
// from a position fixed before the 101 is sent (see pinLatest).
//
// Each message is one frame: with format=raw its payload, text if valid
// UTF-8 else binary; with format=json a text frame with the envelope. In
// mode=pubsub every non-empty text or binary frame the client sends is
// published, with the upgrade request's attributes. The server closes with
// 1001 on shutdown (with a reconnect hint, see Shutdown), 1007 for a text
// frame that is not UTF-8, 1008 when policy=disconnect fell behind a whole
// ring, 1009 for a frame over MaxMessageBytes, 1011 when publishing
// failed, 1002 for a frame that breaks RFC 6455.
func (e *Egress) WebSocket(ctx *fasthttp.RequestCtx, topic string) {
	if e.draining.Load() {
		writeDraining(ctx)
		return
	}
	args := ctx.QueryArgs()
	p, err := parseSubscribe(args)
	if err != nil {
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, err.Error())
		return
	}
	s := &wsSetup{topic: strings.Clone(topic), opts: p.opts, json: p.json}
	s.pubsub = string(args.Peek("mode")) == "pubsub"
	if s.echo, err = parseEcho(args); err != nil {
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, err.Error())
		return
	}
	if !e.checkPolicy(ctx, s.topic, p.opts.Policy) {
		return
	}
	if s.pubsub {
		if e.cfg.Publish == nil {
			httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden, "mode=pubsub is not enabled on this server; publish with mode=pub or POST")
			return
		}
		s.attrs = httpx.Attrs(ctx, false)
	}
	s.opts.From, s.opts.Epoch = e.pinLatest(s.topic, s.opts.From, s.opts.Epoch)
	_ = e.upgrader.Upgrade(ctx, func(ws *websocket.Conn) { e.serveWS(ws, s) })
}

// pinLatest turns from=latest into the seq that the next publish will get,
// so that a client holding the 101 (the actor subscribes after it is sent)
// misses nothing published after its handshake. A topic that does not
// exist yet starts at seq 1 of whichever incarnation exists when the actor
// subscribes. An epoch the client gave is kept, and still compared.
func (e *Egress) pinLatest(topic string, from broker.Position, epoch string) (broker.Position, string) {
	if from.Kind != broker.Latest {
		return from, epoch
	}
	pinned := broker.Position{Kind: broker.AtSeq, Seq: 1}
	if t := e.b.Attached(topic); t != nil { // with the redis engine: the caught-up mirror
		pinned.Seq = t.Head() + 1
		if epoch == "" {
			epoch = t.Epoch()
		}
	}
	return pinned, epoch
}

// checkPolicy answers 403 and reports false when policy is block on a
// topic whose rule does not allow it.
func (e *Egress) checkPolicy(ctx *fasthttp.RequestCtx, topic string, p broker.Policy) bool {
	if p != broker.Block || e.b.AllowsBlock(topic) {
		return true
	}
	if e.b.Shared() {
		httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden,
			"policy=block is not available with the redis engine: a subscriber cannot hold back publishers on other instances; use drop-oldest or disconnect and resume with from")
		return false
	}
	httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden,
		"policy=block is not allowed on topic "+strconv.Quote(topic)+": only topics whose configuration rule has allow_block: true may use it")
	return false
}

// writeDraining refuses a new subscriber while shutting down.
func writeDraining(ctx *fasthttp.RequestCtx) {
	httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining,
		"the server is shutting down; reconnect to another instance")
}

// handshakeError answers a refused WebSocket handshake with the JSON error.
func handshakeError(ctx *fasthttp.RequestCtx, status int, reason error) {
	code := httpx.CodeBadRequest
	switch status {
	case fasthttp.StatusForbidden:
		code = httpx.CodeForbidden
	case fasthttp.StatusMethodNotAllowed:
		httpx.MethodNotAllowed(ctx, fasthttp.MethodGet)
		return
	}
	httpx.WriteError(ctx, status, code, reason.Error())
}

// serveWS runs the actor of an upgraded connection; it is the writer
// goroutine and returns when the connection is done.
func (e *Egress) serveWS(ws *websocket.Conn, s *wsSetup) {
	enc := wsRaw
	if s.json {
		enc = wsJSON
	}
	// From here on frames are read and written on the socket itself; ws,
	// the hijacked connection and fasthttp's request reader it holds are
	// let go, so an idle subscriber keeps none of their buffers.
	nc := ws.NetConn()
	w := &wsConn{
		conn:       e.newConn(nc, e.ws, enc),
		fr:         newFrameReader(nc, rawConn(nc)),
		readerDone: make(chan struct{}),
		topic:      s.topic,
		attrs:      s.attrs,
		pubsub:     s.pubsub,
		maxSize:    e.cfg.MaxMessageBytes,
	}
	if s.pubsub {
		w.origin = e.origins.Add(1)
		if !s.echo {
			w.skip = w.origin
		}
		w.ctx, w.cancel = context.WithCancel(context.Background())
		w.abortFn = w.cancel
	}
	if !e.register(&w.conn) {
		w.reject(closeGoingAway, drainCloseText(e.reconnectHint()))
		return
	}
	e.hijacked(func() { w.serve(s.opts) })
}

// serve subscribes, starts the reader and runs the writer loop.
func (w *wsConn) serve(opts broker.SubscribeOptions) {
	if err := w.subscribe(w.topic, opts); err != nil {
		ref := refuse(err)
		w.reject(ref.closeCode, ref.sentence)
		w.e.unregister(&w.conn, ref.reason())
		return
	}
	w.e.wg.Add(1)
	go w.read()
	w.e.unregister(&w.conn, w.run())
}

// reject closes a connection that never got to subscribe.
func (w *wsConn) reject(code int, text string) {
	_ = w.write(appendClose(nil, code, text))
	_ = w.raw.Close()
	if w.cancel != nil {
		w.cancel()
	}
}
