package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/server"
)

// runServerAt runs a broker on addr until stopped.
func runServerAt(t *testing.T, addr string, ringSize int) func() {
	t.Helper()
	s, err := server.New(server.Config{Listen: addr, RingSize: ringSize, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}
}

// waitFor waits until buf holds want.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSubSurvivesRestart restarts the broker under a running sub: it
// reconnects, says so, reports the reset and the gap on standard error,
// and goes on printing messages.
func TestSubSurvivesRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	stop := runServerAt(t, addr, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- sub(ctx, []string{"--url", base, "--from", "oldest", "news"}, &out, &errOut) }()
	if err := pub(ctx, []string{"--url", base, "news", "before"}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "before\n")

	stop()
	stop = runServerAt(t, addr, 8)
	defer func() { stop() }()
	var lines strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&lines, "m%d\n", i)
	}
	// Twenty messages into a ring of eight before sub is back: it gets the
	// last eight, after a reset and a gap.
	if err := pub(ctx, []string{"--url", base, "--batch", "8", "news"}, strings.NewReader(lines.String()), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "m20\n")
	if got, want := out.String(), "before\nm13\nm14\nm15\nm16\nm17\nm18\nm19\nm20\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	for _, want := range []string{"reconnecting in", "reset: the topic's history started over", "gap: missed seq 1 to 12 (12 messages)"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr %q lacks %q", errOut.String(), want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sub after cancel: %v", err)
	}
}
