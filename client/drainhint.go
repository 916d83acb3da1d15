package client

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/fasthttp/websocket"
)

// maxReconnectHint bounds the wait a server may ask for: a hint beyond it
// (a broken or hostile server) waits this long.
const maxReconnectHint = time.Minute

// hintedError is how a connection ended when the server also said when to
// come back: a WebSocket close 1001 with the reason "draining; reconnect
// in <ms> ms", or an SSE stream that ended after a "retry: <ms>" field. A
// draining server spreads these over a window so that its subscribers do
// not all reconnect at once; a Subscription waits the hint plus its usual
// backoff.
type hintedError struct {
	err   error
	after time.Duration
}

func (e *hintedError) Error() string {
	return fmt.Sprintf("%v (the server asked to reconnect in %v)", e.err, e.after)
}

func (e *hintedError) Unwrap() error { return e.err }

// closeHintRE finds the hint in a 1001 close reason.
var closeHintRE = regexp.MustCompile(`reconnect in (\d{1,9}) ms`)

// withCloseHint returns err as a *hintedError when it is a 1001 close
// frame whose reason carries a hint, else err itself.
func withCloseHint(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		return err
	}
	m := closeHintRE.FindStringSubmatch(ce.Text)
	if m == nil {
		return err
	}
	ms, _ := strconv.Atoi(m[1])
	return &hintedError{err: err, after: hintDuration(ms)}
}

// parseSSERetry reads the value of an SSE "retry" field: ASCII digits
// only, as the EventSource specification says; ok is false otherwise.
func parseSSERetry(v []byte) (time.Duration, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	ms := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int(c-'0')
	}
	return hintDuration(ms), true
}

// hintDuration is ms milliseconds, at most maxReconnectHint.
func hintDuration(ms int) time.Duration {
	return min(time.Duration(ms)*time.Millisecond, maxReconnectHint)
}

// reconnectHintOf returns the server's hint in err, if any.
func reconnectHintOf(err error) (time.Duration, bool) {
	var h *hintedError
	if errors.As(err, &h) {
		return h.after, true
	}
	return 0, false
}
