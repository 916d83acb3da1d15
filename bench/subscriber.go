package bench

import (
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms count microseconds from 1 µs to 60 s. The final one
// keeps 3 significant digits; the progress line's keep 2, which makes them
// a seventh of the size and cheap to merge every second.
const (
	latencyMin     = 1
	latencyMax     = 60_000_000
	latencyDigits  = 3
	progressDigits = 2
	// handOverEvery is how often a subscriber hands its recent latencies
	// to the progress reporter.
	handOverEvery = 250 * time.Millisecond
)

// feed is one subscriber connection.
type feed interface {
	// next returns the next message's payload, valid until the next call,
	// and when it was received in Unix nanoseconds.
	next() (payload []byte, received int64, err error)
	// stop asks the broker to end the stream; next then fails. Any
	// goroutine may call it.
	stop()
	// abort makes next fail at once. Any goroutine may call it.
	abort()
	// close releases the connection once next is no longer called.
	close()
}

// subscriber checks and times every message of one connection. Its
// goroutine owns every field but the atomics and those guarded by mu.
type subscriber struct {
	feed feed
	run  uint32
	size int
	win  *window

	next     []uint64       // per publisher: the counter expected next
	errors   uint64         // messages repeated, out of order or not ours
	measured uint64         // deliveries received inside the window
	hist     *hdr.Histogram // latency of the messages sent inside the window
	interval *hdr.Histogram // latency of every message since the last hand-over
	handOver int64          // when to hand interval over next
	err      error          // why the connection failed, if it did
	done     chan struct{}  // closed when receive returns

	delivered atomic.Uint64 // messages received in order (after a gap, too)
	lost      atomic.Uint64 // counters skipped
	closing   atomic.Bool   // the run is ending the connection: a read error is expected

	mu     sync.Mutex
	recent *hdr.Histogram // latencies handed over, taken by the progress reporter
}

func newSubscriber(f feed, run uint32, size, publishers int, win *window) *subscriber {
	return &subscriber{
		feed:     f,
		run:      run,
		size:     size,
		win:      win,
		next:     newCounters(publishers),
		hist:     hdr.New(latencyMin, latencyMax, latencyDigits),
		interval: hdr.New(latencyMin, latencyMax, progressDigits),
		recent:   hdr.New(latencyMin, latencyMax, progressDigits),
		done:     make(chan struct{}),
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
			if !s.closing.Load() {
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
	lat := min(max((now-st.sent)/1000, latencyMin), latencyMax)
	_ = s.interval.RecordValue(lat)
	if s.win.contains(st.sent) {
		_ = s.hist.RecordValue(lat)
	}
	if s.win.contains(now) {
		s.measured++
	}
	if now >= s.handOver {
		s.handOver = now + int64(handOverEvery)
		s.mu.Lock()
		if s.recent.TotalCount() == 0 {
			s.recent, s.interval = s.interval, s.recent
		}
		s.mu.Unlock()
	}
}

// takeRecent adds the latencies handed over since the last call to h.
func (s *subscriber) takeRecent(h *hdr.Histogram) {
	s.mu.Lock()
	h.Merge(s.recent)
	s.recent.Reset()
	s.mu.Unlock()
}

// position is how far the subscriber got: every counter it received or
// found skipped, over all publishers.
func (s *subscriber) position() uint64 { return s.delivered.Load() + s.lost.Load() }

// settle counts as lost what never arrived of each publisher's final
// counter. Call it after receive has returned.
func (s *subscriber) settle(final []uint64) {
	for p, last := range final {
		if next := s.next[p]; last >= next {
			s.lost.Add(last + 1 - next)
		}
	}
}
