package broker

import (
	"errors"
	"slices"
	"testing"
)

// stamped returns messages of epoch with seqs first..last, as an engine
// gives them.
func stamped(epoch string, first, last uint64) []*Message {
	var ms []*Message
	for s := first; s <= last; s++ {
		ms = append(ms, &Message{Topic: "t", Epoch: epoch, Seq: s, Data: []byte("x")})
	}
	return ms
}

func TestMirrorInsertSkip(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 8})
	tp, err := b.Mirror("t", "e1", 12, stamped("e1", 3, 12))
	if err != nil {
		t.Fatal(err)
	}
	// Only the last ring's worth of the history is kept.
	if st := tp.Stats(); st.HeadSeq != 12 || st.OldestSeq != 5 || st.Epoch != "e1" {
		t.Fatalf("stats %+v", st)
	}
	if again, _ := b.Mirror("t", "e1", 12, nil); again != tp {
		t.Fatal("Mirror with the same epoch made a new topic")
	}
	s, err := tp.Subscribe(SubscribeOptions{From: Position{Kind: Oldest}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name       string
		ms         []*Message
		stored     int
		err        error
		head, next uint64 // Head after, and what the subscriber reads next
	}{
		{"duplicates", stamped("e1", 10, 12), 0, nil, 12, 0},
		{"overlap", stamped("e1", 11, 14), 2, nil, 14, 0},
		{"gap", stamped("e1", 16, 17), 0, ErrGap, 14, 0},
		{"empty", nil, 0, nil, 14, 0},
	}
	for _, c := range cases {
		n, err := tp.Insert(c.ms)
		if n != c.stored || !errors.Is(err, c.err) || tp.Head() != c.head {
			t.Fatalf("%s: stored %d err %v head %d, want %d %v %d", c.name, n, err, tp.Head(), c.stored, c.err, c.head)
		}
	}
	seqs, err := readAll(t, s)
	// The ring holds 8: 5 and 6 were overwritten before the read.
	if err != nil || !slices.Equal(seqs, seqRange(7, 14)) || s.Dropped() != 2 {
		t.Fatalf("read %v %v", seqs, err)
	}
	// Lost messages: Skip moves past them and the subscriber sees the gap.
	tp.Skip(20)
	if n, err := tp.Insert(stamped("e1", 20, 21)); n != 2 || err != nil {
		t.Fatalf("insert after skip: %d %v", n, err)
	}
	seqs, err = readAll(t, s)
	if err != nil || !slices.Equal(seqs, []uint64{20, 21}) || s.Dropped() != 2+5 {
		t.Fatalf("after skip read %v %v, dropped %d", seqs, err, s.Dropped())
	}
}

func TestMirrorNewEpochRetiresTopic(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 8})
	old, _ := b.Mirror("t", "e1", 3, stamped("e1", 1, 3))
	s, _ := old.Subscribe(SubscribeOptions{})
	var watched []*Topic
	p, _ := ParsePattern("t")
	stop := b.Watch(p, func(tp *Topic) { watched = append(watched, tp) })
	defer stop()
	fresh, err := b.Mirror("t", "e2", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !old.Retired() || fresh.Retired() || b.Lookup("t") != fresh || fresh.Epoch() != "e2" || fresh.Head() != 0 {
		t.Fatalf("old retired %v, fresh %+v", old.Retired(), fresh.Stats())
	}
	if len(watched) != 2 || watched[1] != fresh {
		t.Fatalf("watch saw %d topics", len(watched))
	}
	if _, err := s.Read(make([]*Message, 4)); !errors.Is(err, ErrClosed) {
		t.Fatalf("old subscription read: %v", err)
	}
	if _, err := old.Insert(stamped("e1", 4, 4)); !errors.Is(err, ErrClosed) {
		t.Fatalf("insert into retired: %v", err)
	}
	if n, err := fresh.Insert(stamped("e2", 1, 2)); n != 2 || err != nil {
		t.Fatalf("insert into fresh: %d %v", n, err)
	}
}

func TestMirrorBlockSubscriberDoesNotSpin(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 8})
	tp, _ := b.Mirror("t", "e1", 100, nil) // slots before 101 were never stored
	s, err := tp.Subscribe(SubscribeOptions{Policy: Block, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := tp.Insert(stamped("e1", 101, 102)); err != nil {
		t.Fatal(err)
	}
	if seqs, err := readAll(t, s); err != nil || !slices.Equal(seqs, []uint64{101, 102}) {
		t.Fatalf("read %v %v", seqs, err)
	}
}

func TestCheckBatch(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 4, MaxBytes: 10})
	cases := []struct {
		ms  []*Message
		err error
	}{
		{[]*Message{msg("0123456789")}, nil},
		{[]*Message{msg("0123456789abc")}, nil}, // one message: the ring keeps it alone
		{[]*Message{msg("01234"), msg("56789")}, nil},
		{[]*Message{msg("01234"), msg("56789a")}, ErrBatchTooLarge},
		{[]*Message{msg("a"), msg("b"), msg("c"), msg("d"), msg("e")}, ErrBatchTooLarge},
	}
	for i, c := range cases {
		if err := b.CheckBatch("t", c.ms); !errors.Is(err, c.err) {
			t.Errorf("case %d: %v, want %v", i, err, c.err)
		}
	}
}
