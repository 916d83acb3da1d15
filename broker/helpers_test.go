package broker

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// newTestBroker returns a broker closed when the test ends.
func newTestBroker(t testing.TB, cfg Config) *Broker {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func msg(s string) *Message { return &Message{Data: []byte(s)} }

// publishN publishes payloads "p1".."pN" and fails the test on error.
func publishN(t testing.TB, b *Broker, topic string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := b.Publish(context.Background(), topic, msg(fmt.Sprintf("p%d", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads whatever is ready now, following laps.
func readAll(t testing.TB, s *Subscription) ([]uint64, error) {
	t.Helper()
	var seqs []uint64
	buf := make([]*Message, 7)
	for {
		n, err := s.Read(buf)
		for _, m := range buf[:n] {
			seqs = append(seqs, m.Seq)
		}
		if n == 0 || err != nil {
			return seqs, err
		}
	}
}

// nextWithin reads with Next, failing the test after d.
func nextWithin(t testing.TB, s *Subscription, buf []*Message, d time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	n, err := s.Next(ctx, buf)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return n
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
