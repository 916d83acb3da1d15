package bench

import (
	"errors"
	"sync/atomic"
	"time"
)

// paceSlice is how often a paced publisher sends what its rate makes due.
const paceSlice = time.Millisecond

// errRejected is what a sender returns for a message the broker refused
// without failing the connection (503 backpressure): the publisher sends
// the same counter again.
var errRejected = errors.New("bench: the broker refused the message")

// sender is how a publisher's messages reach the broker: a mode=pub
// WebSocket (wsSender) or HTTP POSTs over one keep-alive connection
// (httpSender). Only the publisher's goroutine calls send; read runs on a
// goroutine of its own; stop and abort may be called from any goroutine.
type sender interface {
	// send writes one message stamped at sent (Unix nanoseconds). It
	// returns errRejected for a message the broker refused but may take
	// again, any other error for a failed connection.
	send(payload []byte, sent int64) error
	// flush writes what send gathered but has not written yet; a sender
	// that writes every message at once returns nil.
	flush() error
	// read serves the connection's incoming side until it ends.
	read()
	// readDone is closed when read has returned.
	readDone() <-chan struct{}
	// readErr is why the incoming side failed, once readDone is closed;
	// nil when it ended because the run closed it.
	readErr() error
	// stop asks the broker to close the connection.
	stop()
	// abort closes the connection at once.
	abort()
}

// publisher sends stamped messages over one sender. Its sending goroutine
// owns every field but the atomics.
type publisher struct {
	conn    sender
	payload []byte
	stamp   stamp
	win     *window

	measured uint64 // messages accepted inside the window
	rejected uint64 // messages the broker refused (sent again)

	sent    atomic.Uint64 // messages sent so far, that is the last counter
	closing atomic.Bool   // the run is ending the connection
}

func newPublisher(conn sender, run, id uint32, size int, win *window) *publisher {
	return &publisher{
		conn:    conn,
		payload: newPayload(size),
		stamp:   stamp{run: run, pub: id},
		win:     win,
	}
}

// publish sends up to limit messages, at rate messages/s counted from
// start (0: as fast as the connection takes them), until end or until stop
// is closed.
func (p *publisher) publish(start, end time.Time, rate float64, limit uint64, stop <-chan struct{}) error {
	tick := time.NewTicker(paceSlice)
	defer tick.Stop()
	for {
		now := time.Now()
		if !now.Before(end) {
			return nil
		}
		due := limit
		if rate > 0 {
			due = min(uint64(now.Sub(start).Seconds()*rate), limit)
		}
		if err := p.sendUntil(due, end, stop); err != nil {
			return err
		}
		if p.stamp.counter >= limit {
			// The run cuts the window once every publisher has returned:
			// a cut while others still send would leave their messages
			// measured here but not by the subscribers.
			return nil
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

// sendUntil sends messages until due have been sent; unpaced (a large
// due), it also stops at end or when stop is closed. Whatever the sender
// gathered is written before it returns.
func (p *publisher) sendUntil(due uint64, end time.Time, stop <-chan struct{}) error {
	for p.stamp.counter < due {
		if p.stamp.counter%256 == 0 || p.rejected > 0 {
			p.sent.Store(p.stamp.counter)
			select {
			case <-stop:
				return p.conn.flush()
			default:
			}
			if !time.Now().Before(end) {
				return p.conn.flush()
			}
		}
		if err := p.send(); err != nil {
			return err
		}
	}
	p.sent.Store(p.stamp.counter)
	return p.conn.flush()
}

// send writes the next message; a refused one is sent again next time.
func (p *publisher) send() error {
	p.stamp.counter++
	p.stamp.sent = time.Now().UnixNano()
	p.stamp.put(p.payload)
	if err := p.conn.send(p.payload, p.stamp.sent); err != nil {
		p.stamp.counter--
		if errors.Is(err, errRejected) {
			p.rejected++
			return nil
		}
		return err
	}
	if p.win.contains(p.stamp.sent) {
		p.measured++
	}
	return nil
}
