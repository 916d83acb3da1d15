package server

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestDrainClosesConnectionsWithoutARequest: a connection that never sent
// a request (a client's spare keep-alive connection), or only part of
// one, does not hold the drain until its read timeout: it is told that
// the server drains, and closed.
func TestDrainClosesConnectionsWithoutARequest(t *testing.T) {
	ts := start(t, Config{Limits: Limits{ReadTimeout: time.Minute}})
	silent, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	partial, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	if _, err := io.WriteString(partial, "POST /v1/topics/t HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// Both connections are being served (waiting for request bytes)
	// before the drain starts.
	if got := do(t, "GET", ts.base+"/healthz", "").status; got != 200 {
		t.Fatalf("healthz %d", got)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ts.served.mu.Lock()
		n := len(ts.served.conns)
		ts.served.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections served, want the silent and the partial one", n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a silent and a partial connection: %v (want done well within the 1m read timeout)", err)
	}
	for name, c := range map[string]net.Conn{"silent": silent, "partial": partial} {
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.1 503") || !strings.Contains(string(b), `"code":"draining"`) {
			t.Errorf("the %s connection got %q, want 503 draining, then the close", name, b)
		}
	}
}
