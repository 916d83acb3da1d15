package edge

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how often RateLimiter forgets idle buckets.
const sweepEvery = 10 * time.Second

// RateLimiter is publish_rate_per_ip: a token bucket per client address
// (golang.org/x/time/rate) that refills at the rate and holds one second's
// worth. A bucket that is full is idle, and forgetting it changes nothing;
// every sweepEvery such buckets are dropped, so memory follows the
// addresses that published in the last seconds, not all ever seen.
type RateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time // time.Now; tests replace it

	mu        sync.Mutex
	buckets   map[netip.Addr]*rate.Limiter
	lastSweep time.Time
}

// NewRateLimiter returns a limiter of perSecond messages per second per
// address, or nil (no limit) when perSecond is 0.
func NewRateLimiter(perSecond int) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &RateLimiter{
		limit:   rate.Limit(perSecond),
		burst:   perSecond,
		now:     time.Now,
		buckets: map[netip.Addr]*rate.Limiter{},
	}
}

// Allow takes n tokens from ip's bucket now, or takes none and returns
// how long to wait before n could be taken. A cost over the bucket's size
// is taken whole when the bucket is full, leaving it in debt, so that a
// batch of n messages always costs n.
func (l *RateLimiter) Allow(ip netip.Addr, n int) (bool, time.Duration) {
	if n <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(ip, now)
	if n <= l.burst {
		r := b.ReserveN(now, n)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return false, d
		}
		return true, 0
	}
	if missing := float64(l.burst) - b.TokensAt(now); missing > 0 {
		return false, time.Duration(missing / float64(l.limit) * float64(time.Second))
	}
	for n > 0 {
		k := min(n, l.burst)
		b.ReserveN(now, k)
		n -= k
	}
	return true, 0
}

// Wait takes one token from ip's bucket, waiting for it if need be, and
// reports whether it waited. It returns ctx's error, the token given
// back, if ctx ends first.
func (l *RateLimiter) Wait(ctx context.Context, ip netip.Addr) (bool, error) {
	l.mu.Lock()
	now := l.now()
	r := l.bucket(ip, now).ReserveN(now, 1)
	d := r.DelayFrom(now)
	l.mu.Unlock()
	if d <= 0 {
		return false, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-ctx.Done():
		l.mu.Lock()
		r.CancelAt(l.now())
		l.mu.Unlock()
		return true, ctx.Err()
	}
}

// Buckets returns the number of addresses whose bucket is kept.
func (l *RateLimiter) Buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// bucket returns ip's bucket, made full if new, and sweeps idle buckets
// when it is time. l.mu is held.
func (l *RateLimiter) bucket(ip netip.Addr, now time.Time) *rate.Limiter {
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.lastSweep = now
		for a, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, a)
			}
		}
	}
	b := l.buckets[ip]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[ip] = b
	}
	return b
}
