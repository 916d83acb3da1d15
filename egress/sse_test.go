package egress

import (
	"encoding/base64"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/ringcast/ringcast/broker"
)

func TestSSEEvents(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	st := s.openSSE(t, "e", "", nil)
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := st.resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	s.waitSubscribers(t, "e", 1)
	s.publish(t, "e", "one line", "two\nlines\n", " lead", "cr\r\nlf", "\xffbin")
	for _, want := range [][]string{
		{"id: 1", "data: one line"},
		{"id: 2", "data: two", "data: lines", "data: "},
		{"id: 3", "data:  lead"},
		{"id: 4", "event: b64", "data: " + base64.StdEncoding.EncodeToString([]byte("cr\r\nlf"))},
		{"id: 5", "event: b64", "data: " + base64.StdEncoding.EncodeToString([]byte("\xffbin"))},
	} {
		if got := st.nextEvent(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %q, want %q", got, want)
		}
	}
	waitFor(t, "5 delivered", func() bool { return testutil.ToFloat64(s.e.DeliveredCounter(TransportSSE)) == 5 })
}

func TestSSEJSON(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	s.publish(t, "j", "a\nb", "\x00\xff")
	st := s.openSSE(t, "j", "format=json&from=oldest", nil)
	ev := st.nextEvent(t)
	if len(ev) != 2 || ev[0] != "id: 1" {
		t.Fatalf("event %q", ev)
	}
	env := decodeEnvelope(t, strings.TrimPrefix(ev[1], "data: "))
	if *env.Data != "a\nb" || env.Seq != 1 {
		t.Fatalf("envelope %+v", env)
	}
	env = decodeEnvelope(t, strings.TrimPrefix(st.nextEvent(t)[1], "data: "))
	if env.DataB64 == nil || *env.DataB64 != "AP8=" {
		t.Fatalf("envelope %+v", env)
	}
}

func TestSSELastEventID(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	s.publishN(t, "l", 5)
	st := s.openSSE(t, "l", "from=1", http.Header{"Last-Event-Id": {"3"}})
	if ev := st.nextEvent(t); ev[0] != "id: 4" || ev[1] != "data: m4" {
		t.Fatalf("resumed at %q, want id 4", ev)
	}
	st = s.openSSE(t, "l", "from=2", nil)
	if ev := st.nextEvent(t); ev[0] != "id: 2" {
		t.Fatalf("from=2 started at %q", ev)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.SSEHeartbeat = 30 * time.Millisecond })
	st := s.openSSE(t, "hb", "", nil)
	for range 3 {
		if got := st.next(t); !reflect.DeepEqual(got, []string{": ping"}) {
			t.Fatalf("got %q, want a heartbeat comment", got)
		}
	}
}

func TestSSEDisconnectPolicyEndsStream(t *testing.T) {
	s := newTestServer(t, broker.Config{RingSize: 16}, nil)
	st := s.openSSE(t, "d", "policy=disconnect", nil)
	s.waitSubscribers(t, "d", 1)
	payload := strings.Repeat("z", 64<<10)
	for range 500 {
		s.publish(t, "d", payload)
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, st.r)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open")
	}
	waitFor(t, "the subscriber to go", func() bool { return s.subscribers(TransportSSE) == 0 })
}

func TestSSEClientGoes(t *testing.T) {
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.SSEHeartbeat = 20 * time.Millisecond })
	st := s.openSSE(t, "g", "", nil)
	s.waitSubscribers(t, "g", 1)
	_ = st.resp.Body.Close()
	waitFor(t, "the heartbeat to find the client gone", func() bool { return s.subscribers(TransportSSE) == 0 })
}
