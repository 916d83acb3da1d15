package egress

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// DefaultReconnectWindow is Config.ReconnectWindow's zero value.
const DefaultReconnectWindow = 5 * time.Second

// reconnectHint draws the wait, uniform in [0, ReconnectWindow) and in
// whole milliseconds, that Shutdown tells one subscriber to leave before
// it reconnects: the subscribers of a draining instance come back spread
// over the window instead of all at once.
func (e *Egress) reconnectHint() int64 {
	ms := e.cfg.ReconnectWindow.Milliseconds()
	if ms <= 0 {
		return 0
	}
	return rand.Int64N(ms)
}

// drainCloseText is the reason of the 1001 close frame sent on Shutdown:
// clients that honour it (client/, web/static/ringcast.js) wait the hint
// before they reconnect. The form is part of what those clients parse:
// "draining; reconnect in <ms> ms".
func drainCloseText(ms int64) string {
	return "draining; reconnect in " + strconv.FormatInt(ms, 10) + " ms"
}

// appendSSERetry appends the SSE field that sets a client's reconnection
// time to ms (the EventSource "retry" field), ending an event with no data.
func appendSSERetry(b []byte, ms int64) []byte {
	b = append(b, "retry: "...)
	b = strconv.AppendInt(b, ms, 10)
	return append(b, "\n\n"...)
}
