package httpx

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds the waits between tries of an outbound client (webhook
// retries, WebSocket reconnects): the wait after the n-th failure in a row
// is uniform in [0, min(Max, Initial·2^(n-1))], the "full jitter" of
// exponential backoff, so that many clients of one recovering server spread
// out. Its users fill their own defaults for zero fields.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// Delay returns the wait after the n-th failure in a row (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	ceiling := b.Initial
	for i := 1; i < n && ceiling < b.Max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, b.Max)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}
