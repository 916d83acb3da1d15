package bench

import (
	"testing"
	"time"
)

// nopFeed delivers nothing: these tests call handle directly.
type nopFeed struct{}

func (nopFeed) next() ([]byte, int64, error) { return nil, 0, nil }
func (nopFeed) closedByPolicy(error) bool    { return false }
func (nopFeed) stop()                        {}
func (nopFeed) abort()                       {}
func (nopFeed) close()                       {}

func TestLossAccounting(t *testing.T) {
	const run, size = 42, 64
	win := &window{start: 0}
	win.end.Store(1 << 62)
	s := newSubscriber(nopFeed{}, run, size, 2, win)
	msg := func(run, pub uint32, counter uint64, size int) []byte {
		b := newPayload(size)
		stamp{run: run, pub: pub, counter: counter, sent: time.Now().UnixNano()}.put(b)
		return b
	}
	now := time.Now().UnixNano()
	for _, c := range []uint64{1, 2, 4} { // 3 skipped: lost
		s.handle(msg(run, 0, c, size), now)
	}
	s.handle(msg(run, 1, 1, size), now)
	s.handle(msg(run, 0, 4, size), now)   // repeated: an error
	s.handle(msg(run, 0, 3, size), now)   // late: an error
	s.handle(msg(run+1, 0, 5, size), now) // another run's: an error
	s.handle(msg(run, 2, 1, size), now)   // no such publisher: an error
	s.handle(msg(run, 0, 5, size-1), now) // wrong size: an error
	s.handle(make([]byte, 10), now)       // no stamp: an error
	if d, l, e := s.delivered.Load(), s.lost.Load(), s.errors; d != 4 || l != 1 || e != 6 {
		t.Fatalf("delivered %d, lost %d, errors %d; want 4, 1, 6", d, l, e)
	}
	if p := s.position(); p != 5 {
		t.Fatalf("position %d, want 5 (4 delivered + 1 lost)", p)
	}
	s.settle([]uint64{6, 3}) // publisher 0 sent up to 6, publisher 1 up to 3
	if l := s.lost.Load(); l != 1+2+2 {
		t.Fatalf("after settle: lost %d, want 5", l)
	}
	if n := s.hist.TotalCount(); n != 4 {
		t.Fatalf("latency samples %d, want 4", n)
	}
}

func TestLatencyOnlyInsideTheWindow(t *testing.T) {
	const run, size = 1, MinPayloadSize
	now := time.Now().UnixNano()
	win := &window{start: now}
	win.end.Store(now + int64(time.Second))
	s := newSubscriber(nopFeed{}, run, size, 1, win)
	for i, sent := range []int64{now - 1, now, now + int64(time.Second) - 1, now + int64(time.Second)} {
		b := newPayload(size)
		stamp{run: run, counter: uint64(i + 1), sent: sent}.put(b)
		s.handle(b, sent+int64(time.Millisecond))
	}
	if n := s.hist.TotalCount(); n != 2 {
		t.Fatalf("%d latency samples, want the 2 sent inside the window", n)
	}
	if s.delivered.Load() != 4 {
		t.Fatalf("delivered %d, want 4", s.delivered.Load())
	}
	if got := s.hist.Max(); got < 999 || got > 1001 {
		t.Fatalf("latency %d µs, want 1000", got)
	}
}
