package broker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func mustPattern(t testing.TB, s string) Pattern {
	t.Helper()
	p, err := ParsePattern(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWatchExistingAndNew(t *testing.T) {
	b := newTestBroker(t, Config{})
	for _, name := range []string{"a.x", "a.y.z", "b.x", "a"} {
		if _, err := b.Topic(name); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var seen []string
	stop := b.Watch(mustPattern(t, "a.>"), func(tp *Topic) {
		mu.Lock()
		seen = append(seen, tp.Name())
		mu.Unlock()
	})
	publishN(t, b, "a.new", 1)
	publishN(t, b, "b.new", 1)
	if _, err := b.Subscribe("a.sub", SubscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	stop()
	publishN(t, b, "a.after", 1)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seen)
	if want := []string{"a.new", "a.sub", "a.x", "a.y.z"}; !slices.Equal(seen, want) {
		t.Fatalf("watched %v, want %v", seen, want)
	}
}

// TestWatchSubscriptionMissesNothing subscribes from the Watch callback
// while many goroutines create topics by publishing to them: every
// subscription must see every message of its topic from seq 1.
func TestWatchSubscriptionMissesNothing(t *testing.T) {
	const topics, perTopic = 40, 50
	b := newTestBroker(t, Config{RingSize: 16, PublishTimeout: time.Minute})
	var mu sync.Mutex
	subs := map[string]*Subscription{}
	stop := b.Watch(mustPattern(t, "w.*"), func(tp *Topic) {
		s, err := tp.Subscribe(SubscribeOptions{Policy: Block, Trusted: true})
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		subs[tp.Name()] = s
		mu.Unlock()
	})
	defer stop()
	// Readers start as subscriptions appear; block subscriptions on a
	// 16-slot ring make publishers wait for them.
	var readers sync.WaitGroup
	got := make(map[string][]uint64)
	var gotMu sync.Mutex
	started := map[string]bool{}
	startReaders := func() {
		mu.Lock()
		defer mu.Unlock()
		for name, s := range subs {
			if started[name] {
				continue
			}
			started[name] = true
			readers.Go(func() {
				defer s.Close()
				buf := make([]*Message, 8)
				var seqs []uint64
				for len(seqs) < perTopic {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					n, err := s.Next(ctx, buf)
					cancel()
					if err != nil {
						t.Errorf("%s: %v after %d", name, err, len(seqs))
						return
					}
					for _, m := range buf[:n] {
						seqs = append(seqs, m.Seq)
					}
				}
				gotMu.Lock()
				got[name] = seqs
				gotMu.Unlock()
			})
		}
	}
	var pubs sync.WaitGroup
	for i := range topics {
		pubs.Go(func() {
			name := fmt.Sprintf("w.t%d", i)
			for j := 0; j < perTopic; j++ {
				if err := b.Publish(context.Background(), name, msg("x")); err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { pubs.Wait(); close(done) }()
	for running := true; running; {
		startReaders()
		select {
		case <-done:
			running = false
		case <-time.After(time.Millisecond):
		}
	}
	startReaders()
	readers.Wait()
	if len(got) != topics {
		t.Fatalf("%d topics read, want %d", len(got), topics)
	}
	for name, seqs := range got {
		if !slices.Equal(seqs, seqRange(1, perTopic)) {
			t.Fatalf("%s: seqs %v", name, seqs)
		}
	}
}

func TestWatchClosedBroker(t *testing.T) {
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	called := false
	b.Watch(mustPattern(t, ">"), func(*Topic) { called = true })()
	if called {
		t.Fatal("callback on a closed broker")
	}
}

func TestTrustedMayBlockAnywhere(t *testing.T) {
	b := newTestBroker(t, Config{})
	if _, err := b.Subscribe("open", SubscribeOptions{Policy: Block}); err != ErrBlockNotAllowed {
		t.Fatalf("untrusted block: %v, want ErrBlockNotAllowed", err)
	}
	s, err := b.Subscribe("open", SubscribeOptions{Policy: Block, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Policy() != Block {
		t.Fatalf("policy %v", s.Policy())
	}
}
