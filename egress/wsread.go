package egress

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
)

// backpressureRetry is the pause before a pubsub frame refused with
// broker.ErrBackpressure is offered again.
const backpressureRetry = 10 * time.Millisecond

// inbox is how the reader hands work to the writer, which alone writes.
type inbox struct {
	closing atomic.Bool // the connection is ending: publish nothing more

	mu       sync.Mutex
	pong     string // payload of the latest unanswered ping
	hasPong  bool
	violated reason // why the reader wants the connection closed
	failText string // reasonPublishFailed's close text
	code     int    // the peer's close code, 0 before its close frame
	gone     bool   // the reader returned
}

func (in *inbox) peerCode() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.code
}

func (in *inbox) failure() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.failText
}

// post runs f on the inbox and wakes the writer.
func (w *wsConn) post(f func(in *inbox)) {
	w.in.mu.Lock()
	f(&w.in)
	w.in.mu.Unlock()
	w.notify()
}

// violate asks the writer to close with r; the reader keeps reading (and
// discarding) until the peer's close frame, so the peer sees our close
// frame rather than a reset.
func (w *wsConn) violate(r reason, text string) {
	w.in.closing.Store(true)
	w.post(func(in *inbox) {
		if in.violated == reasonNone {
			in.violated, in.failText = r, text
		}
	})
}

// takeInbox appends a pending pong to pre and returns why the connection
// must end, if it must: Shutdown, the reader's violation, or the reader's
// end (the peer's close frame, or a failed read).
func (w *wsConn) takeInbox(pre []byte) ([]byte, reason) {
	w.in.mu.Lock()
	defer w.in.mu.Unlock()
	if w.in.hasPong {
		pre = appendControl(pre, opPong, w.in.pong)
		w.in.pong, w.in.hasPong = "", false
	}
	switch {
	case w.in.violated != reasonNone:
		return pre, w.in.violated
	case w.stopping.Load():
		return pre, reasonShutdown
	case !w.in.gone:
		return pre, reasonNone
	case w.in.code != 0:
		return pre, reasonPeerClosed
	}
	return pre, reasonGone
}

// read is the reader goroutine: it extends the read deadline on every
// frame, passes pings and the peer's close to the writer and, in
// mode=pubsub, publishes every non-empty data frame.
func (w *wsConn) read() {
	defer w.e.wg.Done()
	defer close(w.readerDone)
	defer w.post(func(in *inbox) { in.gone = true })
	var extended time.Time
	extend := func() {
		now := time.Now()
		if now.Sub(extended) < w.e.cfg.PingInterval/2 {
			return
		}
		extended = now
		_ = w.ws.NetConn().SetReadDeadline(now.Add(2 * w.e.cfg.PingInterval))
	}
	w.ws.SetPongHandler(func(string) error {
		extend()
		return nil
	})
	w.ws.SetPingHandler(func(data string) error {
		extend()
		w.post(func(in *inbox) { in.pong, in.hasPong = data, true })
		return nil
	})
	w.ws.SetCloseHandler(func(code int, _ string) error {
		w.in.mu.Lock()
		w.in.code = code
		w.in.mu.Unlock()
		return nil
	})
	for {
		extend()
		op, r, err := w.ws.NextReader()
		if err != nil {
			return
		}
		if !w.pubsub || w.in.closing.Load() {
			continue // NextReader discards the rest of an unread message
		}
		w.readMessage(op, r)
	}
}

// scratchPool holds the buffers pubsub frames are read into.
var scratchPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readMessage reads one data message and publishes it, unless it is empty
// (ignored), over MaxMessageBytes (1009) or a text frame that is not valid
// UTF-8 (1007). A read error is left for the next NextReader to report.
func (w *wsConn) readMessage(op int, r io.Reader) {
	buf := scratchPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			scratchPool.Put(buf)
		}
	}()
	buf.Reset()
	lr := io.LimitedReader{R: r, N: int64(w.maxSize) + 1}
	if _, err := buf.ReadFrom(&lr); err != nil {
		return
	}
	switch {
	case buf.Len() > w.maxSize:
		w.violate(reasonTooBig, "")
	case buf.Len() == 0:
	case op == websocket.TextMessage && !utf8.Valid(buf.Bytes()):
		w.violate(reasonBadUTF8, "")
	default:
		w.publish(buf.Bytes())
	}
}

// publish offers data until it is accepted, the connection ends, or it is
// refused for another reason than backpressure (then the writer closes
// with 1001 on shutdown, else 1011). While it waits nothing is read, so
// TCP pushes back on the client.
func (w *wsConn) publish(data []byte) {
	for {
		err := w.e.cfg.Publish(w.ctx, w.topic, data, w.attrs, w.origin)
		switch {
		case err == nil:
			return
		case w.ctx.Err() != nil:
			return
		case errors.Is(err, broker.ErrClosed):
			w.violate(reasonShutdown, "")
			return
		case !errors.Is(err, broker.ErrBackpressure):
			w.violate(reasonPublishFailed, "publish failed: "+err.Error())
			return
		}
		t := time.NewTimer(backpressureRetry)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			return
		}
	}
}
