package egress

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
// mode=pubsub, publishes every non-empty data message. A frame that breaks
// the protocol makes the writer close with 1002.
func (w *wsConn) read() {
	defer w.e.wg.Done()
	defer close(w.readerDone)
	defer w.post(func(in *inbox) { in.gone = true })
	if err := w.readFrames(); errors.Is(err, errProtocol) {
		// The stream cannot be parsed past this frame: the writer sends
		// 1002 and closes without waiting for the peer.
		w.violate(reasonProtocol, "")
	}
}

// extend moves the read deadline to two ping intervals from now, at most
// twice an interval.
func (w *wsConn) extend() {
	now := time.Now()
	if now.Sub(w.extended) < w.e.cfg.PingInterval/2 {
		return
	}
	w.extended = now
	_ = w.raw.SetReadDeadline(now.Add(2 * w.e.cfg.PingInterval))
}

// readFrames reads frames until the peer's close frame, a read error or a
// protocol error. A message is assembled from its fragments into a pooled
// buffer only in mode=pubsub; otherwise, and once the connection is
// closing, payloads are skipped.
func (w *wsConn) readFrames() error {
	var (
		op   byte          // opcode of the message being read; 0: none
		buf  *bytes.Buffer // its payload, in mode=pubsub
		over bool          // it is over MaxMessageBytes: the rest is skipped
	)
	defer func() {
		if buf != nil && buf.Cap() <= 64<<10 {
			scratchPool.Put(buf)
		}
	}()
	for {
		w.extend()
		f, err := w.fr.next()
		if err != nil {
			return err
		}
		switch f.op {
		case opPing, opPong:
			p, err := w.fr.control(f)
			if err != nil {
				return err
			}
			w.extend()
			if f.op == opPing {
				w.post(func(in *inbox) { in.pong, in.hasPong = string(p), true })
			}
			continue
		case opClose:
			p, err := w.fr.control(f)
			if err != nil {
				return err
			}
			code, err := closeCodeOf(p)
			if err != nil {
				return err
			}
			w.in.mu.Lock()
			w.in.code = code
			w.in.mu.Unlock()
			return nil
		case 0: // continuation
			if op == 0 {
				return errProtocol
			}
		default: // text or binary
			if op != 0 {
				return errProtocol
			}
			op, over = f.op, false
		}
		if !w.pubsub || w.in.closing.Load() || over {
			if err := w.fr.discard(f.n); err != nil {
				return err
			}
		} else {
			if buf == nil {
				buf = scratchPool.Get().(*bytes.Buffer)
				buf.Reset()
			}
			if int64(buf.Len())+f.n > int64(w.maxSize) {
				over = true
				buf.Reset()
				w.violate(reasonTooBig, "")
				if err := w.fr.discard(f.n); err != nil {
					return err
				}
			} else {
				start := buf.Len()
				if _, err := io.CopyN(buf, w.fr, f.n); err != nil {
					return err
				}
				unmask(f.mask, 0, buf.Bytes()[start:])
			}
		}
		if !f.fin {
			continue
		}
		if buf != nil && !over {
			w.message(op, buf.Bytes())
		}
		op = 0
		if buf != nil {
			if buf.Cap() <= 64<<10 {
				scratchPool.Put(buf)
			}
			buf = nil
		}
	}
}

// scratchPool holds the buffers pubsub messages are read into.
var scratchPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// message publishes one data message, unless it is empty (ignored) or a
// text message that is not valid UTF-8 (1007).
func (w *wsConn) message(op byte, data []byte) {
	switch {
	case len(data) == 0:
	case op == opText && !utf8.Valid(data):
		w.violate(reasonBadUTF8, "")
	default:
		w.publish(data)
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
