package egress

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
)

func TestShutdown(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	ws := s.dial(t, "sd", "", nil)
	st := s.openSSE(t, "sd", "", nil)
	s.waitSubscribers(t, "sd", 2)
	type result struct {
		code int
		err  error
	}
	closed := make(chan result, 1)
	go func() { // reading answers the close frame
		code, err := closeCode(ws)
		closed <- result{code, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > closeGrace {
		t.Fatalf("Shutdown took %v with cooperative clients", d)
	}
	if r := <-closed; r.err != nil || r.code != websocket.CloseGoingAway {
		t.Fatalf("close code %d (%v), want 1001", r.code, r.err)
	}
	if _, err := io.Copy(io.Discard, st.r); err != nil {
		t.Fatalf("SSE stream: %v", err)
	}
	_, resp, err := websocket.DefaultDialer.Dial(s.url("ws", "sd", "ws", ""), nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("subscribe while draining: %v %v", resp, err)
	}
	if status, _ := s.get(t, s.url("http", "sd", "sse", ""), nil); status != 503 {
		t.Fatalf("SSE while draining: %d", status)
	}
}

// TestShutdownDeadline checks that a client that never answers the close
// frame is cut off when Shutdown's ctx ends.
func TestShutdownDeadline(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	s.dial(t, "sd", "", nil) // never reads
	s.waitSubscribers(t, "sd", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.e.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown: %v, want the deadline", err)
	}
	if got := s.subscribers(TransportWS); got != 0 {
		t.Fatalf("%v subscribers left", got)
	}
}

// TestBrokerClose checks that closing the broker closes subscribers with
// 1001 too.
func TestBrokerClose(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	ws := s.dial(t, "bc", "", nil)
	s.waitSubscribers(t, "bc", 1)
	s.b.Close()
	if code := readClose(t, ws); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
}
