package ingress

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

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
	// maxBatch bounds how many frames a publisher publishes as one batch
	// (fewer if the topic's ring is smaller); MaxBatchBytes bounds their
	// bytes.
	maxBatch = 256
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
// A frame is accepted once it is read and stored; frames that arrive
// together are stored together, as one batch. While block subscribers hold
// the ring full the connection is simply not read from. The server
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
	// The messages read but not yet published, their payload bytes, and
	// how many of them observe the publish duration.
	batch      []*broker.Message
	batchBytes int
	samples    int

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
//
// Frames the websocket library has already buffered whole are published
// together: after each frame, while the next message is in the buffer
// complete (see wholeMessage), the reader takes it too, up to maxBatch
// messages or MaxBatchBytes, and then publishes them as one batch with
// contiguous seqs; with the redis engine that is one script instead of one
// round trip per frame. While messages wait to be published nothing is read
// that could wait for the peer, fail or close (only pings are answered), so
// a batch is never held back by a slow peer and every close follows the
// publish of the frames read before it: a text frame that is not valid
// UTF-8 is refused (1007) after the frames before it are accepted; an
// oversize frame (1009), a close or a protocol error is read only once
// they are. Each frame is paced (Config.Pace) as it is read, before it
// joins the batch.
func (p *wsPublisher) read() ending {
	in := p.in
	p.due.Store(true)
	defer func() {
		if p.recheck != nil {
			p.recheck.Stop()
		}
	}()
	limit := min(maxBatch, in.b.RingSize(p.topic))
	br := bufferedReader(p.conn)
	for {
		if len(p.batch) > 0 && (len(p.batch) >= limit || p.batchBytes > in.maxBatch-in.maxMessage ||
			!wholeMessage(buffered(br), int64(in.maxMessage))) {
			if e, ok := p.flush(); !ok {
				return e
			}
		}
		p.keepDeadline()
		typ, r, err := p.conn.NextReader()
		if err != nil {
			return p.flushThen(p.readFailed(err))
		}
		p.scratch.Reset()
		if _, err := p.scratch.ReadFrom(r); err != nil {
			return p.flushThen(p.readFailed(err))
		}
		payload := p.scratch.Bytes()
		if len(payload) == 0 {
			continue
		}
		if typ == websocket.TextMessage && !utf8.Valid(payload) {
			return p.flushThen(p.badUTF8())
		}
		m := &broker.Message{Data: bytes.Clone(payload), Attrs: p.attrs}
		if p.scratch.Cap() > keepScratch {
			p.scratch = bytes.Buffer{}
		}
		if in.pace != nil && in.pace(in.ctx, p.attrs[httpx.AttrRemoteAddr]) != nil {
			return p.flushThen(p.paceFailed())
		}
		p.batch = append(p.batch, m)
		p.batchBytes += len(m.Data)
		if sampleWS() {
			p.samples++
		}
	}
}

// flush publishes the messages read so far as one batch; false means the
// connection ends as the returned ending says.
func (p *wsPublisher) flush() (ending, bool) {
	if len(p.batch) == 0 {
		return ending{}, true
	}
	err := p.in.publishFrames(p.in.ctx, p.topic, p.batch, p.samples)
	clear(p.batch) // the ring holds the messages; the batch must not
	p.batch, p.batchBytes, p.samples = p.batch[:0], 0, 0
	if err != nil {
		r := refuse(err)
		return ending{r.closeCode, r.reason, r.code != httpx.CodeDraining}, false
	}
	return ending{}, true
}

// flushThen publishes the messages read so far and ends with e, or as the
// publish fails: the frames before the one that ends the connection were
// read, and are accepted first.
func (p *wsPublisher) flushThen(e ending) ending {
	if f, ok := p.flush(); !ok {
		return f
	}
	return e
}

// badUTF8 refuses a text frame that is not valid UTF-8.
func (p *wsPublisher) badUTF8() ending {
	p.in.m.rejectedCounter(httpx.CodeBadRequest).Inc()
	return ending{websocket.CloseInvalidFramePayloadData,
		"text frame is not valid UTF-8; send binary payloads in binary frames", true}
}

// paceFailed refuses a frame whose pacing Shutdown ended.
func (p *wsPublisher) paceFailed() ending {
	p.in.m.rejectedCounter(httpx.CodeDraining).Inc()
	return ending{closeCode: websocket.CloseGoingAway, text: "the server is shutting down"}
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

// bufferedReader returns the bufio.Reader conn reads frames through, or
// nil if this version of the websocket library does not have it where
// expected; then each frame is published on its own. The library does not
// say how much it has buffered, and a reader that must not block needs to
// know. It is read by the connection's reader goroutine only, at message
// boundaries, and never read from: only Buffered and Peek within what is
// buffered, which leave it as it was.
func bufferedReader(conn *websocket.Conn) *bufio.Reader {
	offset, ok := brOffset()
	if !ok {
		return nil
	}
	return *(**bufio.Reader)(unsafe.Add(unsafe.Pointer(conn), offset))
}

// brOffset finds websocket.Conn's unexported br field, its read buffer.
var brOffset = sync.OnceValues(func() (uintptr, bool) {
	f, ok := reflect.TypeFor[websocket.Conn]().FieldByName("br")
	if !ok || f.Type != reflect.TypeFor[*bufio.Reader]() {
		return 0, false
	}
	return f.Offset, true
})

// buffered returns the bytes br holds, without reading; nil for a nil br.
func buffered(br *bufio.Reader) []byte {
	if br == nil {
		return nil
	}
	b, _ := br.Peek(br.Buffered())
	return b
}

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opPing         = 0x9
	opPong         = 0xa
)

// wholeMessage reports whether b, the bytes the websocket library holds at
// a message boundary, begins with a whole data message that the library
// reads from b alone and without an error: masked frames with no reserved
// bit, the message's fragments ending with FIN, at most limit payload
// bytes in all, with only pings and pongs (under 126 bytes, final) before
// it or between its fragments. It says false whenever that is not sure: a
// partial frame, a close frame, anything the library would refuse.
func wholeMessage(b []byte, limit int64) bool {
	var size int64
	inMessage := false
	for {
		if len(b) < 2 || b[0]&0x70 != 0 || b[1]&0x80 == 0 {
			return false
		}
		op, fin := b[0]&0x0f, b[0]&0x80 != 0
		n, h := int64(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return false
			}
			n, h = int64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return false
			}
			u := binary.BigEndian.Uint64(b[2:])
			if u > uint64(limit) {
				return false
			}
			n, h = int64(u), 10
		}
		h += 4 // the mask key
		if int64(len(b)-h) < n {
			return false
		}
		switch op {
		case opPing, opPong:
			if !fin || n > 125 {
				return false
			}
		case opText, opBinary, opContinuation:
			if (op == opContinuation) != inMessage {
				return false
			}
			if size += n; size > limit {
				return false
			}
			if fin {
				return true
			}
			inMessage = true
		default: // close, or an opcode the library refuses
			return false
		}
		b = b[h+int(n):]
	}
}
