package egress

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// Batching limits of a subscriber's writer.
const (
	batchMessages = 256       // messages taken off the ring per write
	flushBytes    = 128 << 10 // a batch buffer this full is written before the batch ends
	directBytes   = 32 << 10  // a frame this large is written from its cache, not copied
)

// Pools shared by every writer, so an idle subscriber holds no buffer.
var (
	msgPool = sync.Pool{New: func() any {
		s := make([]*broker.Message, batchMessages)
		return &s
	}}
	bufPool = sync.Pool{New: func() any {
		b := make([]byte, 0, 4096)
		return &b
	}}
)

// conn is what every subscriber actor has: its socket, its subscription
// and the state its writer goroutine owns.
type conn struct {
	e    *Egress
	tr   *transport
	enc  encoding
	raw  net.Conn // the TCP (or TLS) connection itself, below fasthttp's hijack wrapper
	sub  *broker.Subscription
	skip uint64 // Origin whose messages are not delivered (echo=false); 0: none
	live uint64 // first seq published after the subscription: latency is sampled from here

	wake     chan struct{} // capacity 1: something for the writer besides messages
	stopping atomic.Bool   // Shutdown asks the subscriber to end

	batches uint32 // batches written, for latency sampling
	abortFn func() // extra work of abort, set before registration
}

// newConn returns a subscriber's conn over the hijacked socket nc.
func (e *Egress) newConn(nc net.Conn, tr *transport, enc encoding) conn {
	raw := rawConn(nc)
	if e.wrap != nil {
		raw = e.wrap(raw)
	}
	return conn{e: e, tr: tr, enc: enc, raw: raw, wake: make(chan struct{}, 1)}
}

// notify wakes the writer without blocking; one pending wake-up is enough.
func (c *conn) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop asks the writer to end with reasonShutdown.
func (c *conn) stop() {
	c.stopping.Store(true)
	c.notify()
}

// rawConn returns the connection below fasthttp's hijack wrapper, whose
// Close is a no-op while the hijack handler runs.
func rawConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// subscribe starts c's subscription and marks where live messages begin.
func (c *conn) subscribe(topic string, opts broker.SubscribeOptions) error {
	sub, err := c.e.b.Subscribe(topic, opts)
	if err != nil {
		return err
	}
	c.sub = sub
	c.live = sub.Topic().Head() + 1
	return nil
}

// abort closes the socket at once, unblocking the writer and the reader.
// Shutdown calls it from its own goroutine when its ctx ends.
func (c *conn) abort() {
	_ = c.raw.Close()
	if c.abortFn != nil {
		c.abortFn()
	}
}

// deliver takes every ready message, up to one batch, and writes their
// frames after pre (control frames, headers). It returns how many messages
// it took off the ring, and why the subscriber must end: reasonGone when a
// write failed, reasonLapped or reasonShutdown when the subscription ended.
func (c *conn) deliver(pre []byte) (int, reason) {
	mp := msgPool.Get().(*[]*broker.Message)
	msgs := *mp
	n, err := c.sub.Read(msgs)
	r := subscriptionEnd(err)
	if (n > 0 || len(pre) > 0) && !c.writeBatch(pre, msgs[:n]) {
		r = reasonGone
	}
	clear(msgs[:n])
	msgPool.Put(mp)
	return n, r
}

// writeBatch writes pre and the frames of msgs (but those of the skipped
// origin) with one write, or a few when the batch is large, from a pooled
// buffer, and counts what was written. It reports whether every write
// succeeded.
func (c *conn) writeBatch(pre []byte, msgs []*broker.Message) bool {
	bp := bufPool.Get().(*[]byte)
	buf := append((*bp)[:0], pre...)
	var first *broker.Message // first message of the batch written
	sent, pending := 0, 0     // messages written, messages in buf
	var err error
	for _, m := range msgs {
		if c.skip != 0 && m.Origin == c.skip {
			continue
		}
		if first == nil {
			first = m
		}
		f := c.enc.bytes(m)
		if len(f) >= directBytes {
			if err = c.write(buf); err != nil {
				break
			}
			sent, pending, buf = sent+pending, 0, buf[:0]
			if err = c.write(f); err != nil {
				break
			}
			sent++
			continue
		}
		buf = append(buf, f...)
		pending++
		if len(buf) >= flushBytes {
			if err = c.write(buf); err != nil {
				break
			}
			sent, pending, buf = sent+pending, 0, buf[:0]
		}
	}
	if err == nil {
		if err = c.write(buf); err == nil {
			sent += pending
		}
	}
	*bp = buf[:0]
	bufPool.Put(bp)
	c.account(first, sent)
	return err == nil
}

// subscriptionEnd maps a Read error to a reason.
func subscriptionEnd(err error) reason {
	switch {
	case err == nil:
		return reasonNone
	case errors.Is(err, broker.ErrLapped):
		return reasonLapped
	}
	return reasonShutdown // broker.ErrClosed: the broker is closing
}

// write writes b with one write, failing if the peer does not take it
// within two ping intervals.
func (c *conn) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := c.raw.SetWriteDeadline(time.Now().Add(c.e.writeLimit)); err != nil {
		return err
	}
	_, err := c.raw.Write(b)
	return err
}

// account counts sent delivered messages, and every latencySampleEvery
// batches observes the delivery latency of the batch's first message if it
// was published after the subscription started (not replayed).
func (c *conn) account(first *broker.Message, sent int) {
	if sent == 0 {
		return
	}
	c.tr.delivered.Add(float64(sent))
	if c.batches++; c.batches%latencySampleEvery == 1 && first.Seq >= c.live {
		c.tr.latency.Observe(time.Since(first.Time).Seconds())
	}
}
