package edge

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// fakeClock is a RateLimiter's clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeRate(perSecond int) (*RateLimiter, *fakeClock) {
	l := NewRateLimiter(perSecond)
	c := &fakeClock{t: time.Unix(1e9, 0)}
	l.now = c.now
	return l, c
}

func TestRateLimiterAllow(t *testing.T) {
	if NewRateLimiter(0) != nil {
		t.Fatal("a rate of 0 is no limiter")
	}
	l, clock := newFakeRate(10)
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	for i := range 10 {
		if ok, _ := l.Allow(a, 1); !ok {
			t.Fatalf("message %d of the first second refused", i+1)
		}
	}
	ok, wait := l.Allow(a, 1)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("11th message: %v, wait %v; want refused, 100ms", ok, wait)
	}
	if ok, _ := l.Allow(b, 1); !ok {
		t.Fatal("another address shares the bucket")
	}
	clock.add(100 * time.Millisecond)
	if ok, _ := l.Allow(a, 1); !ok {
		t.Fatal("refused after the wait it was told")
	}
	// A batch costs its size; one over the bucket needs it full, then
	// leaves debt.
	clock.add(time.Second)
	if ok, wait := l.Allow(a, 11); !ok {
		t.Fatalf("a batch of 11 with a full bucket of 10: refused, wait %v", wait)
	}
	if ok, wait := l.Allow(a, 1); ok || wait != 200*time.Millisecond {
		t.Fatalf("after a batch of 11: %v, wait %v; want refused, 200ms (1 of debt + 1)", ok, wait)
	}
	clock.add(500 * time.Millisecond)
	if ok, wait := l.Allow(a, 11); ok || wait != 600*time.Millisecond {
		t.Fatalf("a batch of 11 with 4 tokens: %v, wait %v; want refused, 600ms to fill", ok, wait)
	}
	if ok, _ := l.Allow(a, 0); !ok {
		t.Fatal("nothing to publish is refused")
	}
}

func TestRateLimiterForgetsIdleBuckets(t *testing.T) {
	l, clock := newFakeRate(5)
	for i := range 100 {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 1)
	}
	if n := l.Buckets(); n != 100 {
		t.Fatalf("%d buckets, want 100", n)
	}
	busy := netip.MustParseAddr("10.1.0.1")
	clock.add(sweepEvery)
	l.Allow(busy, 5) // sweeps: every bucket but busy's is full again
	if n := l.Buckets(); n != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", n)
	}
	if ok, _ := l.Allow(busy, 1); ok {
		t.Fatal("the busy bucket was forgotten: its debt is gone")
	}
}

func TestRateLimiterWait(t *testing.T) {
	l := NewRateLimiter(1000)
	ip := netip.MustParseAddr("127.0.0.2")
	waited := false
	for range 1100 {
		w, err := l.Wait(context.Background(), ip)
		if err != nil {
			t.Fatal(err)
		}
		waited = waited || w
	}
	if !waited {
		t.Fatal("1100 messages at 1000/s with a bucket of 1000 never waited")
	}
	l = NewRateLimiter(1)
	l.Wait(context.Background(), ip) // empties the bucket
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if w, err := l.Wait(ctx, ip); !w || err == nil {
		t.Fatalf("Wait with an ended context: %v, %v", w, err)
	}
}
