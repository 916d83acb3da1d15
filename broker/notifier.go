package broker

import "sync/atomic"

// notifier wakes every goroutine parked on it. A waiter arms it (counting
// itself and taking the current channel), re-checks its condition, then
// blocks on the channel. broadcast costs one atomic load when nobody is
// armed; otherwise it closes the channel, waking every armed waiter at once.
type notifier struct {
	waiters atomic.Int32
	ch      atomic.Pointer[chan struct{}]
}

func newNotifier() *notifier {
	n := &notifier{}
	ch := make(chan struct{})
	n.ch.Store(&ch)
	return n
}

// arm registers a waiter and returns a channel that a broadcast after the
// registration closes. The caller must re-check its condition after arming.
//
// The channel is loaded before the waiter is counted. The other order loses
// wake-ups: a broadcast could take the count, close the old channel and
// leave the waiter holding the new one, so that a later broadcast, finding
// no waiter counted, wakes nobody. With this order, whichever broadcast
// takes the count closes the waiter's channel, or a broadcast in between
// already did. (A block publisher waits for every block subscriber to move,
// so one subscriber's broadcast that it saw is not enough for it.)
func (n *notifier) arm() <-chan struct{} {
	ch := *n.ch.Load()
	n.waiters.Add(1)
	return ch
}

// broadcast wakes every armed waiter.
func (n *notifier) broadcast() {
	if n.waiters.Load() == 0 || n.waiters.Swap(0) == 0 {
		return
	}
	ch := make(chan struct{})
	close(*n.ch.Swap(&ch))
}
