package egress

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

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
