package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/server"
)

// TestDrainSpreadsReconnects drains a real server under 200 subscriptions
// (half WebSocket, half SSE) and checks that each waits the server's hint,
// spread over the reconnect window (half the drain timeout), before it
// reconnects to the server that replaces it; and that all of them then
// get the next message. It asserts how the waits are spread, not when the
// reconnects happen.
func TestDrainSpreadsReconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("200 subscriptions: skipped under -short")
	}
	const n = 200
	const drain = 2 * time.Second
	window := drain / 2
	addr := freeAddr(t)
	s1, err := runServer(server.Config{Listen: addr, DrainTimeout: drain})
	if err != nil {
		t.Fatal(err)
	}
	// Backoff 10..20 ms, so that the wait is mostly the hint.
	c, err := client.New("http://"+addr, client.WithBackoff(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		waits   []time.Duration // the first wait of each subscription
		reasons []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	got := make(chan string, n)
	for i := range n {
		tr := client.WebSocket
		if i%2 == 1 {
			tr = client.SSE
		}
		first := true
		sub, err := c.Subscribe(ctx, "drain", client.SubscribeOptions{Transport: tr, OnDisconnect: func(err error, retryIn time.Duration) {
			if !first {
				return
			}
			first = false
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, retryIn)
			reasons = append(reasons, err.Error())
		}})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer sub.Close()
			for {
				ev, err := sub.Next(ctx)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						got <- "error: " + err.Error()
					}
					return
				}
				if m, ok := ev.(client.Message); ok {
					got <- string(m.Data)
				}
			}
		})
	}
	waitSubscribers(t, s1, "drain", n)
	if err := stop(s1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every subscription to see the drain", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(waits) == n
	})
	s2, err := runServer(server.Config{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(s2)
	waitSubscribers(t, s2, "drain", n)
	publish(t, c, "drain", "after")
	for range n {
		select {
		case m := <-got:
			if m != "after" {
				t.Fatalf("got %q, want the message published after the restart", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a subscription did not get the message after the restart")
		}
	}
	cancel()
	wg.Wait()

	slices.Sort(waits)
	var tenths [10]int
	for i, w := range waits {
		if !strings.Contains(reasons[i], "the server asked to reconnect in") {
			t.Errorf("disconnect without a hint: %s", reasons[i])
		}
		if w < 0 || w >= window+20*time.Millisecond {
			t.Fatalf("wait %v outside [0, %v + backoff)", w, window)
		}
		tenths[min(int(w*10/window), 9)]++
	}
	t.Logf("%d reconnect waits over a %v window: min %v, p10 %v, p50 %v, p90 %v, max %v; per tenth %v",
		n, window, waits[0], waits[n/10], waits[n/2], waits[n*9/10], waits[n-1], tenths)
	for i, c := range tenths {
		if c == 0 {
			t.Fatalf("no reconnect in tenth %d of the window: %v", i, tenths)
		}
	}
}

// waitSubscribers waits until topic on s has n subscribers.
func waitSubscribers(t *testing.T, s *server.Server, topic string, n int64) {
	t.Helper()
	waitFor(t, "subscribers", func() bool {
		tp := s.Broker().Lookup(topic)
		return tp != nil && tp.Stats().Subscribers == n
	})
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
