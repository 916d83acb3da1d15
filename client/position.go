package client

import (
	"fmt"
	"strconv"
)

// Position is where a new subscription starts: Latest (the zero value),
// Oldest or Seq(n).
type Position struct {
	oldest bool
	seq    uint64 // with Seq; at least 1
}

var (
	// Latest starts with the first message published after Subscribe
	// began. It is the zero Position.
	Latest = Position{}
	// Oldest starts with the oldest message the server retains.
	Oldest = Position{oldest: true}
)

// Seq starts at seq n, inclusive; n must be at least 1. If n is no longer
// retained, delivery starts at the oldest retained message after a Gap
// that names the seqs missed; if n is beyond the head, the subscription
// waits for it.
func Seq(n uint64) Position { return Position{seq: n} }

// ParsePosition parses "latest", "oldest" or a seq of at least 1, the
// values of the wire contract's from parameter.
func ParsePosition(s string) (Position, error) {
	switch s {
	case "latest":
		return Latest, nil
	case "oldest":
		return Oldest, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return Position{}, fmt.Errorf("client: position %q: want latest, oldest or a seq of at least 1", s)
	}
	return Seq(n), nil
}

// String returns "latest", "oldest" or the seq, as ParsePosition reads
// them.
func (p Position) String() string {
	switch {
	case p.oldest:
		return "oldest"
	case p.seq != 0:
		return strconv.FormatUint(p.seq, 10)
	}
	return "latest"
}

// Policy is what the server does when a subscriber falls behind by a whole
// ring. The zero value leaves the choice to the server, which uses
// DropOldest.
type Policy string

// The policies of the wire contract.
const (
	// DropOldest skips ahead; the Subscription reports the seqs skipped as
	// a Gap.
	DropOldest Policy = "drop-oldest"
	// Disconnect closes the connection (WebSocket close code 1008, or the
	// end of the SSE stream); the Subscription reconnects, resumes at the
	// oldest message still retained and reports a Gap.
	Disconnect Policy = "disconnect"
	// Block makes publishers wait for this subscriber. The server allows
	// it only on topics whose configuration permits it, and otherwise
	// refuses the subscription with 403 forbidden.
	Block Policy = "block"
)

// Transport is how a Subscription receives messages.
type Transport int

const (
	// WebSocket subscribes with GET /v1/topics/{topic}/ws. It is the
	// default.
	WebSocket Transport = iota
	// SSE subscribes with server-sent events, GET /v1/topics/{topic}/sse,
	// for networks that do not let WebSocket through.
	SSE
)

// String returns "websocket" or "sse".
func (t Transport) String() string {
	switch t {
	case WebSocket:
		return "websocket"
	case SSE:
		return "sse"
	}
	return "Transport(" + strconv.Itoa(int(t)) + ")"
}
