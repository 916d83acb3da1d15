package redisengine

import (
	"sync"

	"github.com/ringcast/ringcast/broker"
)

// Group commit: up to maxInFlight publish scripts per topic are in flight
// from this instance at a time. Publishes to the topic that arrive while
// that many are queue; when a script returns, the first of them leads the
// next script, which carries every queued batch (each still contiguous, in
// queue order), up to the topic's batch limits. A lone publisher pays one round trip, as
// before; many concurrent ones share scripts, so Redis runs fewer, larger
// scripts and every subscribed instance gets fewer, larger PUBLISH
// messages (one ring insert and one wake-up each).

// maxInFlight is how many publish scripts of one topic may be in flight
// from one instance: rueidis pipelines them on one connection, so a few
// keep the round trip from capping a topic's rate, while more would only
// make the scripts smaller.
const maxInFlight = 4

// group is one topic's queue.
type group struct {
	mu       sync.Mutex
	inFlight int     // leaders running a script
	waiting  []*call // queued, in arrival order
}

// call is one Publish waiting in a group.
type call struct {
	ms   []*broker.Message
	err  error
	lead bool          // set before done closes: this call leads the next script
	done chan struct{} // closed when the call is published, failed, or leads
}

// commit publishes ms to topic through the topic's group.
func (e *Engine) commit(topic string, ms []*broker.Message) error {
	v, _ := e.groups.LoadOrStore(topic, &group{})
	g := v.(*group)
	c := &call{ms: ms, done: make(chan struct{})}
	g.mu.Lock()
	if g.inFlight >= maxInFlight {
		g.waiting = append(g.waiting, c)
		g.mu.Unlock()
		<-c.done
		if !c.lead {
			return c.err
		}
		g.mu.Lock()
	} else {
		g.inFlight++
	}
	calls := e.take(topic, g, c)
	g.mu.Unlock()

	var all []*broker.Message
	if len(calls) == 1 {
		all = c.ms
	} else {
		for _, k := range calls {
			all = append(all, k.ms...)
		}
	}
	err := e.run(topic, all)
	for _, k := range calls[1:] {
		k.err = err
		close(k.done)
	}

	g.mu.Lock()
	if len(g.waiting) > 0 {
		next := g.waiting[0]
		g.waiting = g.waiting[1:]
		next.lead = true
		close(next.done)
	} else if g.inFlight--; g.inFlight == 0 {
		// A publisher that loaded g before this may still use it; one that
		// comes later makes a new group. Either way seqs stay right: the
		// script assigns them atomically in Redis.
		e.groups.CompareAndDelete(topic, g)
	}
	g.mu.Unlock()
	return err
}

// take returns lead followed by as many queued calls as fit the topic's
// batch limits with it, and leaves the rest queued. Called under g.mu.
func (e *Engine) take(topic string, g *group, lead *call) []*call {
	calls := []*call{lead}
	if len(g.waiting) == 0 {
		return calls
	}
	all := append([]*broker.Message(nil), lead.ms...)
	i := 0
	for ; i < len(g.waiting); i++ {
		k := g.waiting[i]
		all = append(all, k.ms...)
		if e.b.CheckBatch(topic, all) != nil {
			break
		}
		calls = append(calls, k)
	}
	g.waiting = g.waiting[i:]
	return calls
}
