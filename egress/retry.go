package egress

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// delay returns the wait after the n-th failure in a row (n ≥ 1): uniform
// in [0, min(Max, Initial·2^(n-1))], the "full jitter" of exponential
// backoff, so that many clients of one recovering server spread out.
func (b Backoff) delay(n int) time.Duration {
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

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date,
// into the wait it asks for from now. ok is false when v is empty or
// neither form.
func retryAfter(v []byte, now time.Time) (wait time.Duration, ok bool) {
	if len(v) == 0 {
		return 0, false
	}
	if secs, err := strconv.ParseUint(string(v), 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := fasthttp.ParseHTTPDate(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}
