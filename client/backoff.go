package client

import (
	"math/rand/v2"
	"time"
)

// backoff is a jittered exponential backoff: min, 2·min, 4·min … up to
// max, each wait drawn from its upper half, so that clients cut off
// together do not come back together.
type backoff struct {
	min, max time.Duration
	attempt  int
}

// next returns the wait before the next attempt and counts it.
func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	return d - rand.N(d/2+1)
}

// reset starts over at min.
func (b *backoff) reset() { b.attempt = 0 }
