package broker

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNotifierWaitsForEverySignaler is the shape of a block publisher: a
// waiter needs every one of several signalers to move before it may go on,
// each signaler broadcasting after it moves. A lost wake-up leaves the
// waiter parked while all signalers are done with the round. The lost
// wake-up arm once had (see arm) needs a broadcast to land between two
// adjacent instructions, which this test does not reliably hit; the
// 1024-subscriber BenchmarkFanout did, in 2 runs of 300,000 messages.
func TestNotifierWaitsForEverySignaler(t *testing.T) {
	const signalers = 8
	rounds := 40000
	if testing.Short() {
		rounds = 5000
	}
	n := newNotifier()
	var progress [signalers]atomic.Int64
	var round atomic.Int64 // the round the waiter is in
	var mu sync.Mutex
	next := sync.NewCond(&mu) // signalers wait here for the waiter's next round
	allAt := func(r int64) bool {
		for i := range progress {
			if progress[i].Load() < r {
				return false
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for i := 0; i < signalers; i++ {
		wg.Go(func() {
			for r := int64(1); r <= int64(rounds); r++ {
				mu.Lock()
				for round.Load() < r {
					next.Wait()
				}
				mu.Unlock()
				progress[i].Store(r)
				n.broadcast()
			}
		})
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for r := int64(1); r <= int64(rounds); r++ {
		mu.Lock()
		round.Store(r)
		next.Broadcast()
		mu.Unlock()
		for !allAt(r) {
			wake := n.arm()
			if allAt(r) {
				break
			}
			timer.Reset(10 * time.Second)
			select {
			case <-wake:
			case <-timer.C:
				t.Fatalf("round %d: every signaler moved but the waiter was never woken", r)
			}
		}
	}
	wg.Wait()
}
