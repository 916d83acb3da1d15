package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStress runs 8 publishers (single and batch publishes) against 64
// subscribers that mix policies and speeds, and checks:
//   - block subscribers see every seq exactly once, in order;
//   - drop-oldest subscribers see strictly increasing seqs, and their gaps
//     add up exactly to the drops counted for them;
//   - disconnect subscribers see contiguous seqs until they are lapped;
//   - every subscriber sees, for each seq, the payload its publisher sent.
func TestStress(t *testing.T) {
	const publishers, subscribers = 8, 64
	total := 1_000_000
	if testing.Short() {
		total = 50_000
	}
	perPublisher := total / publishers
	b := newTestBroker(t, Config{RingSize: 4096, PublishTimeout: time.Minute, Rules: []TopicRule{{Match: "stress", AllowBlock: true}}})

	// payloadOf[seq] is the payload subscribers saw for seq; the first one
	// to see it records it and the others compare.
	payloadOf := make([]atomic.Uint64, total+1)
	// sent[publisher][i] is the seq publisher's i-th message got.
	sent := make([][]uint64, publishers)

	type result struct {
		policy  Policy
		seqs    int
		gaps    uint64
		dropped uint64
		lapped  bool
		err     error
	}
	results := make([]result, subscribers)
	var subsWG sync.WaitGroup
	for i := 0; i < subscribers; i++ {
		policy := []Policy{Block, DropOldest, DropOldest, DropOldest, Disconnect}[i%5]
		slow := i%3 == 0 && policy != Block
		s, err := b.Subscribe("stress", SubscribeOptions{Policy: policy, From: Position{Kind: Oldest}})
		if err != nil {
			t.Fatal(err)
		}
		subsWG.Go(func() {
			defer s.Close()
			r := &results[i]
			r.policy = policy
			buf := make([]*Message, 256)
			prev := uint64(0)
			for prev < uint64(total) {
				n, err := s.Next(context.Background(), buf)
				if err == ErrLapped && policy == Disconnect {
					r.lapped = true
					break
				}
				if err != nil {
					r.err = err
					return
				}
				for _, m := range buf[:n] {
					if m.Seq <= prev {
						r.err = fmt.Errorf("seq %d after %d", m.Seq, prev)
						return
					}
					if gap := m.Seq - prev - 1; gap > 0 {
						if policy != DropOldest {
							r.err = fmt.Errorf("%v subscriber skipped from %d to %d", policy, prev, m.Seq)
							return
						}
						r.gaps += gap
					}
					v := binary.LittleEndian.Uint64(m.Data)
					if !payloadOf[m.Seq].CompareAndSwap(0, v) && payloadOf[m.Seq].Load() != v {
						r.err = fmt.Errorf("seq %d: payload %x, another subscriber saw %x", m.Seq, v, payloadOf[m.Seq].Load())
						return
					}
					prev = m.Seq
					r.seqs++
				}
				if slow && prev%1000 < uint64(n) {
					time.Sleep(time.Millisecond)
				}
			}
			r.dropped = s.Dropped()
		})
	}

	var pubWG sync.WaitGroup
	for p := 0; p < publishers; p++ {
		sent[p] = make([]uint64, perPublisher)
		pubWG.Go(func() {
			for i := 0; i < perPublisher; {
				k := min(1+i%5, perPublisher-i) // batches of 1 to 5
				ms := make([]*Message, k)
				for j := range ms {
					d := make([]byte, 8)
					binary.LittleEndian.PutUint64(d, uint64(p+1)<<32|uint64(i+j))
					ms[j] = &Message{Data: d}
				}
				if err := b.PublishBatch(context.Background(), "stress", ms); err != nil {
					t.Error(err)
					return
				}
				for j, m := range ms {
					sent[p][i+j] = m.Seq
				}
				i += k
			}
		})
	}
	pubWG.Wait()
	subsWG.Wait()

	if h := b.Lookup("stress").Head(); h != uint64(total) {
		t.Fatalf("head %d, want %d", h, total)
	}
	for p := range sent {
		for i, seq := range sent[p] {
			if want := uint64(p+1)<<32 | uint64(i); payloadOf[seq].Load() != want && payloadOf[seq].Load() != 0 {
				t.Fatalf("seq %d carries %x, its publisher sent %x", seq, payloadOf[seq].Load(), want)
			}
			if i > 0 && seq <= sent[p][i-1] {
				t.Fatalf("publisher %d: seq %d after %d", p, seq, sent[p][i-1])
			}
		}
	}
	var dropped, laps uint64
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("subscriber %d (%v): %v", i, r.policy, r.err)
		case r.policy == Block && (r.seqs != total || r.dropped != 0):
			t.Errorf("block subscriber %d saw %d of %d, dropped %d", i, r.seqs, total, r.dropped)
		case r.policy == DropOldest && r.gaps != r.dropped:
			t.Errorf("drop-oldest subscriber %d: gaps add to %d, dropped counts %d", i, r.gaps, r.dropped)
		case r.policy == DropOldest && uint64(r.seqs)+r.gaps != uint64(total):
			t.Errorf("drop-oldest subscriber %d: %d seen + %d gaps != %d", i, r.seqs, r.gaps, total)
		case r.policy == Disconnect && r.lapped != (r.dropped > 0):
			t.Errorf("disconnect subscriber %d: lapped %v, dropped %d", i, r.lapped, r.dropped)
		}
		dropped += r.dropped
		if r.lapped {
			laps++
		}
	}
	if st := b.Lookup("stress").Stats(); st.Dropped != dropped {
		t.Errorf("topic counts %d dropped, subscribers %d", st.Dropped, dropped)
	}
	t.Logf("%d messages, %d deliveries dropped, %d disconnect subscribers lapped", total, dropped, laps)
}
