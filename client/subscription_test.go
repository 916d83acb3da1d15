package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/server"
)

var transports = []client.Transport{client.WebSocket, client.SSE}

// collect reads n messages and describes them as seqs does, or says what
// went wrong; unlike seqs, it may run on another goroutine than the test.
func collect(sub *client.Subscription, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	for range n {
		ev, err := sub.Next(ctx)
		if err != nil {
			return err.Error()
		}
		m, ok := ev.(client.Message)
		if !ok {
			return fmt.Sprintf("%T %v", ev, ev)
		}
		fmt.Fprintf(&b, "%d:%s ", m.Seq, m.Data)
	}
	return strings.TrimSpace(b.String())
}

// seqs reads n messages and returns their seqs and payloads, failing on
// any other event.
func seqs(t *testing.T, sub *client.Subscription, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		m := nextMessage(t, sub)
		fmt.Fprintf(&b, "%d:%s ", m.Seq, m.Data)
	}
	return strings.TrimSpace(b.String())
}

func TestSubscribeFrom(t *testing.T) {
	_, base := startServer(t, server.Config{})
	c := newClient(t, base)
	publish(t, c, "t", "a", "b", "c")
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			sub := subscribe(t, c, "t", client.SubscribeOptions{From: client.Oldest, Transport: tr})
			if got := seqs(t, sub, 3); got != "1:a 2:b 3:c" {
				t.Fatalf("oldest: %s", got)
			}
			sub = subscribe(t, c, "t", client.SubscribeOptions{From: client.Seq(2), Transport: tr})
			if got := seqs(t, sub, 2); got != "2:b 3:c" {
				t.Fatalf("seq 2: %s", got)
			}
			latest := subscribe(t, c, "t", client.SubscribeOptions{Transport: tr})
			beyond := subscribe(t, c, "t", client.SubscribeOptions{From: client.Seq(1 << 40), Transport: tr})
			publish(t, c, "t", "new-"+tr.String())
			m := nextMessage(t, latest)
			if string(m.Data) != "new-"+tr.String() {
				t.Fatalf("latest got %d:%s", m.Seq, m.Data)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if ev, err := beyond.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a seq beyond the head delivered %v, %v", ev, err)
			}
		})
	}
	// Latest on a topic that does not exist yet starts at its seq 1.
	sub := subscribe(t, c, "fresh", client.SubscribeOptions{})
	publish(t, c, "fresh", "x")
	if got := seqs(t, sub, 1); got != "1:x" {
		t.Fatal(got)
	}
}

// TestSubscribeResumesAfterDrop cuts the connection without restarting
// the server: what is published while the client is away arrives after it
// reconnects, with no gap and no reset.
func TestSubscribeResumesAfterDrop(t *testing.T) {
	s, base := startServer(t, server.Config{})
	c := newClient(t, base)
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			topic := "resume-" + tr.String()
			p := newProxy(t, s.Addr().String())
			var mu sync.Mutex
			var drops []string
			opts := client.SubscribeOptions{Transport: tr, OnDisconnect: func(err error, retryIn time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				drops = append(drops, err.Error())
			}}
			sub := subscribe(t, newClient(t, p.url()), topic, opts)
			publish(t, c, topic, "1", "2")
			if got := seqs(t, sub, 2); got != "1:1 2:2" {
				t.Fatal(got)
			}
			got := make(chan string, 1)
			go func() { got <- collect(sub, 4) }()
			p.cut(true)
			publish(t, c, topic, "3", "4", "5")
			time.Sleep(100 * time.Millisecond) // a few refused reconnections
			p.setDown(false)
			publish(t, c, topic, "6")
			if got := <-got; got != "3:3 4:4 5:5 6:6" {
				t.Fatal(got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(drops) < 2 || !strings.Contains(drops[0], "connection lost") || !strings.Contains(drops[len(drops)-1], "cannot reconnect") {
				t.Fatalf("OnDisconnect calls: %q", drops)
			}
		})
	}
}

// TestSubscribeServerRestart kills the server mid-stream and starts a new
// one on the same port: the subscription reconnects, reports a Reset (the
// in-memory history started over) and keeps delivering.
func TestSubscribeServerRestart(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			addr := freeAddr(t)
			s1, err := runServer(server.Config{Listen: addr})
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, "http://"+addr)
			lost := make(chan string, 100)
			sub := subscribe(t, c, "orders", client.SubscribeOptions{Transport: tr, OnDisconnect: func(err error, _ time.Duration) {
				lost <- err.Error()
			}})
			publish(t, c, "orders", "a", "b")
			first := nextMessage(t, sub)
			if got := seqs(t, sub, 1); first.Seq != 1 || got != "2:b" {
				t.Fatalf("%d then %s", first.Seq, got)
			}

			events := make(chan client.Event, 10)
			errc := make(chan error, 1)
			go func() {
				for {
					ev, err := sub.Next(context.Background())
					if err != nil {
						errc <- err
						return
					}
					events <- ev
				}
			}()
			if err := stop(s1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the client retries a closed port
			s2, err := runServer(server.Config{Listen: addr})
			if err != nil {
				t.Fatal(err)
			}
			defer stop(s2)
			publish(t, c, "orders", "c", "d")

			want := []string{"reset", "1:c", "2:d"}
			for i, w := range want {
				var ev client.Event
				select {
				case ev = <-events:
				case err := <-errc:
					t.Fatalf("event %d: %v", i, err)
				case <-time.After(10 * time.Second):
					t.Fatalf("event %d: nothing after 10 s", i)
				}
				got := ""
				switch e := ev.(type) {
				case client.Reset:
					if e.OldEpoch != first.Epoch || e.NewEpoch == first.Epoch || e.NewEpoch == "" {
						t.Fatalf("%+v", e)
					}
					got = "reset"
				case client.Message:
					got = fmt.Sprintf("%d:%s", e.Seq, e.Data)
				default:
					got = fmt.Sprint(e)
				}
				if got != w {
					t.Fatalf("event %d: %s, want %s", i, got, w)
				}
			}
			// The server said it was going away: 1001 on a WebSocket, the
			// end of the stream on SSE.
			if first, want := <-lost, map[client.Transport]string{client.WebSocket: "close 1001", client.SSE: "ended the event stream"}[tr]; !strings.Contains(first, want) {
				t.Fatalf("first disconnect: %q, want %q", first, want)
			}
			sub.Close()
			if err := <-errc; !errors.Is(err, client.ErrClosed) {
				t.Fatalf("Next after Close: %v", err)
			}
		})
	}
}

// TestSubscribeRefusedOnReconnect checks that a 4xx answer to a
// reconnection ends the subscription with that *APIError.
func TestSubscribeRefusedOnReconnect(t *testing.T) {
	addr := freeAddr(t)
	allow := []broker.TopicRule{{Match: "held", AllowBlock: true}}
	s1, err := runServer(server.Config{Listen: addr, Rules: allow})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "http://"+addr)
	sub := subscribe(t, c, "held", client.SubscribeOptions{Policy: client.Block})
	errc := make(chan error, 1)
	go func() { _, err := sub.Next(context.Background()); errc <- err }()
	if err := stop(s1); err != nil {
		t.Fatal(err)
	}
	_, _ = startServer(t, server.Config{Listen: addr}) // block is not allowed any more
	var err2 error
	select {
	case err2 = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("Next goes on after a 403")
	}
	if ae := apiError(t, err2); ae.Status != 403 || ae.Code != client.CodeForbidden {
		t.Fatalf("%+v", ae)
	}
	if _, err3 := sub.Next(context.Background()); err3 != err2 {
		t.Fatalf("Next after the end: %v", err3)
	}
}

// dropped reads ringcast_messages_dropped_total{reason}.
func dropped(reg *prometheus.Registry, reason string) uint64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "ringcast_messages_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return 0
}

// TestSlowConsumerGap publishes far more than the socket buffers hold to a
// ring of 8 while the subscriber does not read: it then gets every seq,
// either as a message or inside a Gap, with no overlap, and the gaps add up
// to what the server counted as dropped. Under Disconnect the server
// closes the lapped connection with 1008, and the client comes back.
func TestSlowConsumerGap(t *testing.T) {
	if testing.Short() {
		t.Skip("moves tens of megabytes")
	}
	for _, tc := range []struct {
		policy client.Policy
		tr     client.Transport
	}{{client.DropOldest, client.WebSocket}, {client.Disconnect, client.WebSocket}, {client.Disconnect, client.SSE}} {
		t.Run(string(tc.policy)+"-"+tc.tr.String(), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			_, base := startServer(t, server.Config{RingSize: 8, Registry: reg})
			c := newClient(t, base)
			var lost []string
			sub := subscribe(t, c, "fast", client.SubscribeOptions{Policy: tc.policy, Transport: tc.tr, OnDisconnect: func(err error, _ time.Duration) {
				lost = append(lost, err.Error())
			}})
			const n = 120
			ctx := context.Background()
			pub, err := c.OpenPublisher(ctx, "fast")
			if err != nil {
				t.Fatal(err)
			}
			payload := bytes.Repeat([]byte("x"), 128<<10)
			for range n {
				if err := pub.Send(ctx, payload); err != nil {
					t.Fatal(err)
				}
			}
			if err := pub.Close(); err != nil {
				t.Fatal(err)
			}
			next := uint64(1)
			var gaps []client.Gap
			var missed uint64
			for next <= n {
				switch e := nextEvent(t, sub).(type) {
				case client.Gap:
					if e.From != next || e.To < e.From {
						t.Fatalf("gap %+v, expecting seq %d", e, next)
					}
					gaps = append(gaps, e)
					missed += e.To - e.From + 1
					next = e.To + 1
				case client.Message:
					if e.Seq != next || len(e.Data) != len(payload) {
						t.Fatalf("message %d, expecting seq %d", e.Seq, next)
					}
					next++
				default:
					t.Fatalf("%T %v", e, e)
				}
			}
			if len(gaps) == 0 {
				t.Fatal("no gap: the subscriber never fell behind")
			}
			if tc.policy == client.DropOldest {
				if d := dropped(reg, "drop_oldest"); d != missed {
					t.Fatalf("gaps %v miss %d messages, the server dropped %d", gaps, missed, d)
				}
			} else if len(lost) == 0 {
				t.Fatal("no disconnect")
			}
			if tc.tr == client.WebSocket && tc.policy == client.Disconnect && !strings.Contains(lost[0], "1008") {
				t.Fatalf("disconnected by %q", lost[0])
			}
			t.Logf("%d gaps, %d messages missed, %d disconnects", len(gaps), missed, len(lost))
		})
	}
}

func nextEvent(t *testing.T, sub *client.Subscription) client.Event { t.Helper(); return next(t, sub) }

// TestSubscriptionEnds checks every way a subscription stops, each
// leaving no goroutine behind.
func TestSubscriptionEnds(t *testing.T) {
	s, base := startServer(t, server.Config{})
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			hc := newHTTPClient()
			c := newClient(t, base, client.WithHTTPClient(hc))
			defer hc.CloseIdleConnections()
			ignore := goleak.IgnoreCurrent()
			topic := "ends-" + tr.String()

			// Next's own context: the subscription goes on and resumes.
			sub, err := c.Subscribe(context.Background(), topic, client.SubscribeOptions{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			if _, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Next with a deadline: %v", err)
			}
			cancel()
			publish(t, c, topic, "after")
			if got := seqs(t, sub, 1); got != "1:after" {
				t.Fatal(got)
			}

			// Close from another goroutine while Next waits.
			done := make(chan error, 1)
			go func() { _, err := sub.Next(context.Background()); done <- err }()
			time.Sleep(20 * time.Millisecond)
			sub.Close()
			if err := <-done; !errors.Is(err, client.ErrClosed) {
				t.Fatalf("Next during Close: %v", err)
			}
			sub.Close()
			if _, err := sub.Next(context.Background()); !errors.Is(err, client.ErrClosed) {
				t.Fatalf("Next after Close: %v", err)
			}

			// Subscribe's context, while Next reads.
			subCtx, subCancel := context.WithCancel(context.Background())
			sub, err = c.Subscribe(subCtx, topic, client.SubscribeOptions{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			go func() { _, err := sub.Next(context.Background()); done <- err }()
			time.Sleep(20 * time.Millisecond)
			subCancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Next after its subscription's context ended: %v", err)
			}

			// Subscribe's context, while Next waits to reconnect.
			p := newProxy(t, s.Addr().String())
			slow := newClient(t, p.url(), client.WithHTTPClient(hc), client.WithBackoff(time.Hour, time.Hour))
			subCtx, subCancel = context.WithCancel(context.Background())
			sub, err = slow.Subscribe(subCtx, topic, client.SubscribeOptions{From: client.Oldest, Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(t, sub, 1); got != "1:after" {
				t.Fatal(got)
			}
			p.cut(true)
			go func() { _, err := sub.Next(context.Background()); done <- err }()
			time.Sleep(50 * time.Millisecond)
			subCancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Next while waiting to reconnect: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Next still waits to reconnect after its subscription's context ended")
			}
			p.close()
			hc.CloseIdleConnections()
			goleak.VerifyNone(t, ignore, fasthttpCleaner, fasthttpWorker)
		})
	}
}
