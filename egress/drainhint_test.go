package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
)

var (
	wsHintRE  = regexp.MustCompile(`^draining; reconnect in (\d+) ms$`)
	sseHintRE = regexp.MustCompile(`(?m)^retry: (\d+)$`)
)

// TestDrainReconnectHints drains 100 WebSocket and 100 SSE subscribers
// and checks that every one is told when to reconnect, within
// ReconnectWindow, and that the hints are spread over the whole window:
// with 200 uniform draws, each tenth of it gets some (an empty tenth has
// a chance of about 1e-8).
func TestDrainReconnectHints(t *testing.T) {
	const n, window = 100, 2 * time.Second
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.ReconnectWindow = window })
	var (
		mu    sync.Mutex
		hints []int
		errs  []error
		wg    sync.WaitGroup
	)
	record := func(ms int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		hints = append(hints, ms)
	}
	for range n {
		ws := s.dial(t, "hint", "", nil)
		wg.Go(func() {
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				_, _, err := ws.ReadMessage()
				if err == nil {
					continue
				}
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
					record(0, fmt.Errorf("WebSocket: want a 1001 close, got %w", err))
					return
				}
				m := wsHintRE.FindStringSubmatch(ce.Text)
				if m == nil {
					record(0, fmt.Errorf("1001 reason %q has no reconnect hint", ce.Text))
					return
				}
				ms, _ := strconv.Atoi(m[1])
				record(ms, nil)
				return
			}
		})
		st := s.openSSE(t, "hint", "", nil)
		wg.Go(func() {
			rest, err := io.ReadAll(st.r)
			if err != nil {
				record(0, fmt.Errorf("SSE: %w", err))
				return
			}
			m := sseHintRE.FindSubmatch(rest)
			if m == nil {
				record(0, fmt.Errorf("SSE stream ended without a retry field: %q", rest))
				return
			}
			ms, _ := strconv.Atoi(string(m[1]))
			record(ms, nil)
		})
	}
	s.waitSubscribers(t, "hint", 2*n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d subscribers: %v", len(errs), 2*n, errors.Join(errs...))
	}
	slices.Sort(hints)
	var tenths [10]int
	for _, ms := range hints {
		if ms < 0 || ms >= int(window.Milliseconds()) {
			t.Fatalf("hint %d ms outside [0, %d)", ms, window.Milliseconds())
		}
		tenths[ms*10/int(window.Milliseconds())]++
	}
	t.Logf("%d reconnect hints over a %v window: min %d ms, p10 %d, p50 %d, p90 %d, max %d; per tenth %v",
		len(hints), window, hints[0], hints[len(hints)/10], hints[len(hints)/2], hints[len(hints)*9/10], hints[len(hints)-1], tenths)
	for i, c := range tenths {
		if c == 0 {
			t.Fatalf("no hint in tenth %d of the window: %v", i, tenths)
		}
	}
}

// TestReconnectWindowNegative checks that New refuses a negative window.
func TestReconnectWindowNegative(t *testing.T) {
	b, err := broker.New(broker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := New(Config{Broker: b, ReconnectWindow: -time.Second}); err == nil {
		t.Fatal("New accepted ReconnectWindow -1s")
	}
}
