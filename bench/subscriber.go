package bench

import (
	"sync/atomic"
)

// feed is one subscriber connection.
type feed interface {
	// next returns the next message's payload, valid until the next call,
	// and when it was received in Unix nanoseconds.
	next() (payload []byte, received int64, err error)
	// closedByPolicy reports whether err, returned by next, is the broker
	// closing the subscription under policy disconnect (WebSocket close
	// 1008; an SSE stream that ends).
	closedByPolicy(err error) bool
	// stop asks the broker to end the stream; next then fails. Any
	// goroutine may call it.
	stop()
	// abort makes next fail at once. Any goroutine may call it.
	abort()
	// close releases the connection once next is no longer called.
	close()
}

// subscriber checks and times every message of one connection. Its
// goroutine owns every field but the atomics and the latencies' hand-over.
type subscriber struct {
	feed   feed
	run    uint32
	size   int
	win    *window
	policy string

	next     []uint64      // per publisher: the counter expected next
	errors   uint64        // messages repeated, out of order or not ours
	measured uint64        // deliveries received inside the window
	err      error         // why the connection failed, if it did
	done     chan struct{} // closed when receive returns
	latencies

	delivered    atomic.Uint64 // messages received in order (after a gap, too)
	lost         atomic.Uint64 // counters skipped
	closing      atomic.Bool   // the run is ending the connection: a read error is expected
	disconnected atomic.Bool   // the broker closed it under policy disconnect
}

func newSubscriber(f feed, run uint32, size, publishers int, win *window) *subscriber {
	return &subscriber{
		feed:      f,
		run:       run,
		size:      size,
		win:       win,
		policy:    PolicyDropOldest,
		next:      newCounters(publishers),
		latencies: newLatencies(),
		done:      make(chan struct{}),
	}
}

// newCounters returns n expected counters, each starting at 1.
func newCounters(n int) []uint64 {
	c := make([]uint64, n)
	for i := range c {
		c[i] = 1
	}
	return c
}

// receive reads and checks messages until the connection ends.
func (s *subscriber) receive() {
	defer close(s.done)
	defer s.feed.close()
	for {
		b, received, err := s.feed.next()
		if err != nil {
			switch {
			case s.closing.Load():
			case s.policy == PolicyDisconnect && s.feed.closedByPolicy(err):
				s.disconnected.Store(true)
			default:
				s.err = err
			}
			return
		}
		s.handle(b, received)
	}
}

// handle checks one message received at now: per publisher, counters must
// come in order; a skipped counter is lost, a repeated or older one an
// error, as is a message of another run or size.
func (s *subscriber) handle(b []byte, now int64) {
	st, ok := readStamp(b)
	if !ok || len(b) != s.size || st.run != s.run || st.pub >= uint32(len(s.next)) || st.counter < s.next[st.pub] {
		s.errors++
		return
	}
	if gap := st.counter - s.next[st.pub]; gap > 0 {
		s.lost.Add(gap)
	}
	s.next[st.pub] = st.counter + 1
	s.delivered.Add(1)
	s.record(now-st.sent, s.win.contains(st.sent), now)
	if s.win.contains(now) {
		s.measured++
	}
}

// position is how far the subscriber got: every counter it received or
// found skipped, over all publishers.
func (s *subscriber) position() uint64 { return s.delivered.Load() + s.lost.Load() }

// settle counts as lost what never arrived of each publisher's final
// counter, and returns that count. Call it after receive has returned.
func (s *subscriber) settle(final []uint64) (missing uint64) {
	for p, last := range final {
		if next := s.next[p]; last >= next {
			missing += last + 1 - next
		}
	}
	s.lost.Add(missing)
	return missing
}
