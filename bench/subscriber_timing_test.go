package bench

import (
	"testing"
	"time"
)

// BenchmarkSubscriberHandle is the subscriber's per-message cost: decode,
// order check, two histogram records and the delivered counter.
func BenchmarkSubscriberHandle(b *testing.B) {
	s, msg := handleFixture()
	now := time.Now().UnixNano()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; b.Loop(); i++ {
		stamp{run: 1, counter: uint64(i + 1), sent: now - 250_000}.put(msg)
		s.handle(msg, now)
	}
}

func TestSubscriberHandleDoesNotAllocate(t *testing.T) {
	s, msg := handleFixture()
	now := time.Now().UnixNano()
	counter := uint64(0)
	if n := testing.AllocsPerRun(1000, func() {
		counter++
		stamp{run: 1, counter: counter, sent: now - 250_000}.put(msg)
		s.handle(msg, now)
	}); n != 0 {
		t.Fatalf("handle allocates %v times per message", n)
	}
	if s.errors != 0 || s.lost.Load() != 0 {
		t.Fatalf("errors %d, lost %d", s.errors, s.lost.Load())
	}
}

func handleFixture() (*subscriber, []byte) {
	win := &window{start: 0}
	win.end.Store(1 << 62)
	return newSubscriber(nopFeed{}, 1, 100, 1, win), newPayload(100)
}
