package bench

import "fmt"

// The subscribers' policies (API.md: what happens when a subscriber falls
// behind by a whole ring).
const (
	PolicyDropOldest = "drop-oldest" // skip ahead; the gap shows in the counters and the broker counts it
	PolicyDisconnect = "disconnect"  // the broker closes the subscription; nothing is skipped before that
	PolicyBlock      = "block"       // publishers wait: nothing is ever lost
)

// LossCheck judges the run's losses by the rules of its subscribers'
// policy:
//
//   - drop-oldest: a subscriber may skip messages, but each one skipped
//     must be counted by the broker in ringcast_messages_dropped_total
//     {reason="drop_oldest"};
//   - disconnect: no subscriber may skip a message; one that falls behind
//     is closed (WebSocket 1008, the SSE stream ends) and what it never got
//     is lost by policy (the broker counts the backlog it had as
//     reason="disconnect");
//   - block: nothing may be lost and no subscriber closed.
//
// Under every policy no message may come twice, out of order or damaged,
// and every subscriber still connected must have every message once
// publishing stops. The broker's counters are compared only when it could
// be read; they count every client of the broker, so another load on the
// same broker makes them larger.
type LossCheck struct {
	Policy        string            `json:"policy"`
	Gaps          uint64            `json:"gaps"`                     // messages a subscriber skipped and then received later ones
	Undelivered   uint64            `json:"undelivered"`              // messages a connected subscriber never got by the drain deadline
	Disconnected  int               `json:"disconnected"`             // subscribers the broker closed under policy disconnect
	ByPolicy      uint64            `json:"lost_by_policy"`           // messages those subscribers never got
	Errors        uint64            `json:"errors"`                   // messages repeated, out of order or not this run's
	ServerDropped map[string]uint64 `json:"server_dropped,omitempty"` // ringcast_messages_dropped_total's increase, by reason
	OK            bool              `json:"ok"`
	Verdict       string            `json:"verdict"` // one sentence a person can act on
}

// judge fills c.OK and c.Verdict from the counts; server is nil when the
// broker's metrics could not be read.
func (c *LossCheck) judge(server *ServerStats) {
	if server != nil {
		c.ServerDropped = server.DroppedBy
	}
	dropped := func(reason string) (uint64, bool) {
		if server == nil {
			return 0, false
		}
		return server.DroppedBy[reason], true
	}
	c.OK = false
	switch {
	case c.Errors > 0:
		c.Verdict = fmt.Sprintf("%d messages came twice, out of order, damaged or from another run", c.Errors)
	case c.Undelivered > 0:
		c.Verdict = fmt.Sprintf("%d messages never reached subscribers that stayed connected (not drained in time, or lost)", c.Undelivered)
	case c.Policy == PolicyBlock && (c.Gaps > 0 || c.Disconnected > 0):
		c.Verdict = fmt.Sprintf("policy block: %d messages skipped and %d subscribers closed, where nothing may be lost", c.Gaps, c.Disconnected)
	case c.Policy == PolicyDisconnect && c.Gaps > 0:
		c.Verdict = fmt.Sprintf("policy disconnect: %d messages skipped, where a lapped subscriber must be closed instead", c.Gaps)
	case c.Policy == PolicyDisconnect:
		c.OK = true
		c.Verdict = "no message skipped"
		if c.Disconnected > 0 {
			n, ok := dropped("disconnect")
			c.Verdict = fmt.Sprintf("no message skipped; %d subscribers closed by policy, missing %d messages (the broker counted %d as dropped on disconnect%s)",
				c.Disconnected, c.ByPolicy, n, unread(ok))
		}
	case c.Policy == PolicyDropOldest && c.Gaps > 0:
		n, ok := dropped("drop_oldest")
		switch {
		case !ok:
			c.OK = true
			c.Verdict = fmt.Sprintf("%d messages skipped by drop-oldest, not checked against the broker's count (its metrics could not be read)", c.Gaps)
		case n < c.Gaps:
			c.Verdict = fmt.Sprintf("%d messages skipped but the broker counted only %d as drop_oldest: %d lost without a trace", c.Gaps, n, c.Gaps-n)
		case n > c.Gaps:
			c.OK = true
			c.Verdict = fmt.Sprintf("%d messages skipped by drop-oldest; the broker counted %d (other clients of the broker lost the rest)", c.Gaps, n)
		default:
			c.OK = true
			c.Verdict = fmt.Sprintf("%d messages skipped by drop-oldest, each counted by the broker", c.Gaps)
		}
	default:
		c.OK = true
		c.Verdict = "nothing lost"
	}
}

func unread(ok bool) string {
	if ok {
		return ""
	}
	return ", or could not be read"
}

// validPolicy checks a --policy value.
func validPolicy(p string) error {
	switch p {
	case PolicyDropOldest, PolicyDisconnect, PolicyBlock:
		return nil
	}
	return fmt.Errorf("bench: --policy %q: want drop-oldest, disconnect or block", p)
}
