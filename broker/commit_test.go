package broker

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestManualCommitKeepsCursor(t *testing.T) {
	b := newTestBroker(t, Config{})
	s, err := b.Subscribe("m", SubscribeOptions{From: Position{Kind: Oldest}, ManualCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	publishN(t, b, "m", 5)
	seqs, err := readAll(t, s)
	if err != nil || !slices.Equal(seqs, seqRange(1, 5)) {
		t.Fatalf("read %v, %v", seqs, err)
	}
	if s.Cursor() != 1 || s.Lag() != 5 {
		t.Fatalf("cursor %d lag %d before any commit, want 1 and 5", s.Cursor(), s.Lag())
	}
	select {
	case <-s.Wait():
		t.Fatal("Wait is ready although everything was read")
	default:
	}
	s.Commit(3)
	s.Commit(2) // never back
	if s.Cursor() != 3 || s.Lag() != 3 {
		t.Fatalf("cursor %d lag %d after Commit(3), want 3 and 3", s.Cursor(), s.Lag())
	}
	s.Commit(6)
	if s.Cursor() != 6 || s.Lag() != 0 {
		t.Fatalf("cursor %d lag %d after Commit(6)", s.Cursor(), s.Lag())
	}
}

// TestManualCommitHoldsBlockedRing: a block subscriber that read a whole
// ring but committed nothing still holds it; publishers wait until it
// commits.
func TestManualCommitHoldsBlockedRing(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 4, PublishTimeout: 10 * time.Second})
	s, err := b.Subscribe("h", SubscribeOptions{Policy: Block, Trusted: true, ManualCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	publishN(t, b, "h", 4)
	if seqs, _ := readAll(t, s); len(seqs) != 4 {
		t.Fatalf("read %v", seqs)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Publish(short, "h", msg("x")); !errors.Is(err, ErrBackpressure) {
		t.Fatalf("publish over an uncommitted ring: %v, want ErrBackpressure", err)
	}
	done := make(chan error, 1)
	go func() {
		done <- b.Publish(context.Background(), "h", msg("5"))
	}()
	time.Sleep(20 * time.Millisecond)
	s.Commit(3) // frees seqs 1 and 2
	if err := <-done; err != nil {
		t.Fatalf("publish after the commit: %v", err)
	}
	seqs, err := readAll(t, s)
	if err != nil || !slices.Equal(seqs, []uint64{5}) {
		t.Fatalf("read %v, %v after the commit", seqs, err)
	}
}

// TestManualCommitDropOldest: a lapped manual subscription skips what it
// never read, keeps its cursor on what it read and did not commit, and
// moves it when nothing is pending.
func TestManualCommitDropOldest(t *testing.T) {
	b := newTestBroker(t, Config{RingSize: 4})
	s, err := b.Subscribe("d", SubscribeOptions{From: Position{Kind: Oldest}, ManualCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	publishN(t, b, "d", 2)
	buf := make([]*Message, 2)
	if n, err := s.Read(buf); n != 2 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	publishN(t, b, "d", 8) // head 10, oldest 7: seqs 3 to 6 never read
	seqs, err := readAll(t, s)
	if err != nil || !slices.Equal(seqs, seqRange(7, 10)) {
		t.Fatalf("read %v, %v", seqs, err)
	}
	if s.Dropped() != 4 || s.Cursor() != 1 {
		t.Fatalf("dropped %d cursor %d, want 4 and 1 (1 and 2 pending)", s.Dropped(), s.Cursor())
	}
	s.Commit(11)
	publishN(t, b, "d", 8) // head 18, oldest 15: 11 to 14 lost, nothing pending
	seqs, err = readAll(t, s)
	if err != nil || !slices.Equal(seqs, seqRange(15, 18)) {
		t.Fatalf("read %v, %v", seqs, err)
	}
	if s.Dropped() != 8 || s.Cursor() != 15 {
		t.Fatalf("dropped %d cursor %d, want 8 and 15", s.Dropped(), s.Cursor())
	}
}

func TestCommitWithoutManualIsNoop(t *testing.T) {
	b := newTestBroker(t, Config{})
	s, err := b.Subscribe("n", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Commit(100)
	if s.Cursor() != 1 {
		t.Fatalf("cursor %d", s.Cursor())
	}
}
