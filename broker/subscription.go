package broker

import (
	"context"
	"sync/atomic"
)

// SubscribeOptions says where a subscription starts and how it treats
// falling behind.
type SubscribeOptions struct {
	From   Position // zero value: latest
	Epoch  string   // the epoch From belongs to; a different epoch starts at the oldest retained
	Policy Policy   // zero value: DropOldest
	// Trusted marks a subscriber the server's own configuration made (a
	// destination): it may use Block on any topic, whatever the topic's
	// rule says. Never set it for a client's request. false: Block only
	// where the rule has AllowBlock.
	Trusted bool
	// ManualCommit makes Read leave the cursor alone: it moves only with
	// Commit, so a Block subscriber holds the ring until it has handled each
	// message it read, and Lag counts what is read but not committed.
	// false: Read moves the cursor past what it returns.
	ManualCommit bool
}

// Subscription is one subscriber's cursor into a topic. One goroutine reads
// it (Read, Next, Wait); Close may come from any goroutine.
type Subscription struct {
	t       *Topic
	policy  Policy
	cursor  atomic.Uint64 // next seq to read; with manual, next seq not committed
	dropped atomic.Uint64
	closed  atomic.Bool
	reads   uint32     // for sampling lag; owned by the reader
	manual  bool       // ManualCommit
	read    uint64     // with manual, the next seq to read; owned by the reader
	pre     []*Message // an engine's history before the cursor, read first; owned by the reader
}

// lagSampleEvery is how many reads share one lag observation.
const lagSampleEvery = 64

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Topic returns the subscribed topic.
func (s *Subscription) Topic() *Topic { return s.t }

// Policy returns the subscription's policy.
func (s *Subscription) Policy() Policy { return s.policy }

// Cursor returns the next seq the subscription will read or, with
// ManualCommit, the first seq it has not committed.
func (s *Subscription) Cursor() uint64 { return s.cursor.Load() }

// position returns the next seq Read takes. Only the reader calls it.
func (s *Subscription) position() uint64 {
	if s.manual {
		return s.read
	}
	return s.cursor.Load()
}

// Dropped returns how many messages this subscription missed.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Lag returns how many published messages the subscription has not read.
func (s *Subscription) Lag() uint64 {
	head, c := s.t.Head(), s.cursor.Load()
	if c > head {
		return 0
	}
	return head - c + 1
}

// Read copies every ready message, up to len(buf), into buf and returns how
// many. It never blocks: 0 and a nil error mean nothing is ready (see Wait).
// A drop-oldest subscription that was lapped skips to the oldest retained
// message and counts the gap; a disconnect one ends with ErrLapped. After
// Close, or once the broker closes, it returns ErrClosed.
func (s *Subscription) Read(buf []*Message) (int, error) {
	t := s.t
	if s.closed.Load() || t.closed.Load() {
		return 0, ErrClosed
	}
	if len(s.pre) > 0 {
		return s.readPre(buf), nil
	}
	c := s.position()
	n, next, lapped := t.readFrom(c, buf)
	for lapped {
		if err := s.lapped(c); err != nil {
			return 0, err
		}
		c = s.position()
		n, next, lapped = t.readFrom(c, buf)
	}
	if n == 0 {
		return 0, nil
	}
	if s.manual {
		s.read = next
	} else {
		s.cursor.Store(next)
		if s.policy == Block {
			t.publishers.broadcast()
		}
	}
	if s.reads++; s.reads%lagSampleEvery == 0 {
		t.m.lag.Observe(float64(s.Lag()))
	}
	return n, nil
}

// lapped applies the policy to a reader whose next seq c is gone.
func (s *Subscription) lapped(c uint64) error {
	t := s.t
	switch s.policy {
	case DropOldest:
		o := t.oldest.Load()
		gap := o - c
		s.dropped.Add(gap)
		t.dropped.Add(gap)
		t.m.droppedOldest.Add(float64(gap))
		if !s.manual {
			s.cursor.Store(o)
			return nil
		}
		// The cursor stays on messages read and not yet committed; with
		// none, it skips the gap too.
		s.cursor.CompareAndSwap(c, o)
		s.read = o
		return nil
	default:
		// Disconnect, and Block should its guarantee ever break: end the
		// subscription rather than skip silently.
		gap := t.Head() - c + 1
		s.dropped.Add(gap)
		t.dropped.Add(gap)
		t.m.droppedDisconnect.Add(float64(gap))
		s.Close()
		return ErrLapped
	}
}

// Wait returns a channel that is closed when Read may have something new:
// a message, a lap, or the end of the subscription. Call Read first and Wait
// only when Read returned nothing; if something is already ready, the
// channel returned is closed.
func (s *Subscription) Wait() <-chan struct{} {
	t := s.t
	wake := t.readers.arm()
	if s.closed.Load() || t.closed.Load() || len(s.pre) > 0 || t.ready(s.position()) {
		return closedChan
	}
	return wake
}

// Next is Read that parks until at least one message is ready, the
// subscription ends, or ctx is done (then it returns ctx.Err()).
func (s *Subscription) Next(ctx context.Context, buf []*Message) (int, error) {
	for {
		n, err := s.Read(buf)
		if n > 0 || err != nil {
			return n, err
		}
		select {
		case <-s.Wait():
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Commit tells a ManualCommit subscription that every message before seq
// next was handled: the cursor moves up to next, never back, and a Block
// subscription lets publishers overwrite what it passed. next must not be
// beyond what Read returned. Commit may be called from any goroutine; it
// does nothing without ManualCommit.
func (s *Subscription) Commit(next uint64) {
	if !s.manual {
		return
	}
	for {
		c := s.cursor.Load()
		if next <= c {
			return
		}
		if s.cursor.CompareAndSwap(c, next) {
			break
		}
	}
	if s.policy == Block {
		s.t.publishers.broadcast()
	}
}

// Close ends the subscription; a parked reader wakes and gets ErrClosed.
// It is safe to call more than once and from any goroutine.
func (s *Subscription) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.t.unsubscribe(s)
}
