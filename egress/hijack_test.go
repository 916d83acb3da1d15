package egress

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
)

// TestKeepHijackedConns runs the life of each kind of subscriber with
// fasthttp keeping hijacked connections (actors in their own goroutines)
// and not (actors in fasthttp's hijack goroutine).
func TestKeepHijackedConns(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "hijack goroutine", true: "own goroutine"}[keep], func(t *testing.T) {
			s := newTestServer(t, broker.Config{}, func(c *Config) {
				c.KeepHijackedConns = keep
				c.PingInterval = 100 * time.Millisecond
			})
			ws := s.dial(t, "k", "mode=pubsub", nil)
			st := s.openSSE(t, "k", "", nil)
			s.waitSubscribers(t, "k", 2)
			if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if got := readMsg(t, ws, websocket.TextMessage); got != "hi" {
				t.Fatalf("ws got %q", got)
			}
			if ev := st.nextEvent(t); ev[1] != "data: hi" {
				t.Fatalf("sse got %q", ev)
			}
			code := make(chan int, 1)
			go func() { // reading answers pings, and at last the close frame
				c, _ := closeCode(ws)
				code <- c
			}()
			s.dial(t, "k", "", nil) // never reads: closed by the keepalive
			s.waitSubscribers(t, "k", 3)
			s.waitSubscribers(t, "k", 2)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.e.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if c := <-code; c != websocket.CloseGoingAway {
				t.Fatalf("close code %d", c)
			}
			if _, err := io.Copy(io.Discard, st.r); err != nil {
				t.Fatalf("SSE: %v", err)
			}
		})
	}
}
