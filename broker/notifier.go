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

// arm registers a waiter and returns the channel that the next broadcast
// closes. The caller must re-check its condition after arming.
func (n *notifier) arm() <-chan struct{} {
	n.waiters.Add(1)
	return *n.ch.Load()
}

// broadcast wakes every armed waiter.
func (n *notifier) broadcast() {
	if n.waiters.Load() == 0 || n.waiters.Swap(0) == 0 {
		return
	}
	ch := make(chan struct{})
	close(*n.ch.Swap(&ch))
}
