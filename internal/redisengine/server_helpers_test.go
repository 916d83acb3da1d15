package redisengine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

// instance is one in-process Ringcast with the redis engine.
type instance struct {
	*server.Server
	base string // http://127.0.0.1:PORT
	ws   string // ws://127.0.0.1:PORT
}

// startInstance runs a server on 127.0.0.1:0 using Redis at addrs; it
// drains when the test ends.
func startInstance(t testing.TB, rc redisengine.Config, cfg server.Config) *instance {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if rc.IdleDelay == 0 {
		rc.IdleDelay = 500 * time.Millisecond
	}
	cfg.Redis = &rc
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &instance{Server: s, base: "http://" + s.Addr().String(), ws: "ws://" + s.Addr().String()}
}

// startInstances runs n instances on one Redis (or cluster).
func startInstances(t testing.TB, n int, addrs ...string) []*instance {
	var out []*instance
	for range n {
		out = append(out, startInstance(t, redisengine.Config{Addrs: addrs}, server.Config{}))
	}
	return out
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// answer is an HTTP response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// code decodes the contract's JSON error's code.
func (a answer) code() string {
	var e struct{ Code string }
	_ = json.Unmarshal(a.body, &e)
	return e.Code
}

// published is a 201 answer to a publish.
type published struct {
	Topic    string `json:"topic"`
	Seq      uint64 `json:"seq"`
	Epoch    string `json:"epoch"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// publish posts one message and returns the 201 answer.
func publish(t testing.TB, in *instance, topic, payload string) published {
	t.Helper()
	a := do(t, http.MethodPost, in.base+"/v1/topics/"+topic, payload)
	if a.status != http.StatusCreated {
		t.Fatalf("publish to %s: %d %s", in.base, a.status, a.body)
	}
	var p published
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// envelope is a format=json message.
type envelope struct {
	Topic string `json:"topic"`
	Seq   uint64 `json:"seq"`
	Epoch string `json:"epoch"`
	ID    string `json:"id"`
	Time  string `json:"time"`
	Data  string `json:"data"`
}

// collector reads envelopes from a WebSocket or SSE subscriber into a
// channel until the stream ends.
type collector struct {
	ch     chan envelope
	done   chan struct{}
	err    error // why the stream ended, once done is closed
	closer io.Closer
	wg     sync.WaitGroup
}

// subscribeWS opens a format=json WebSocket subscriber; query is added to
// the URL.
func subscribeWS(t testing.TB, in *instance, topic, query string) *collector {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(in.ws+"/v1/topics/"+topic+"/ws?format=json&"+query, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", in.ws, err, status)
	}
	col := &collector{ch: make(chan envelope, 100000), done: make(chan struct{}), closer: c}
	col.wg.Add(1)
	go func() {
		defer col.wg.Done()
		defer close(col.done)
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				col.err = err
				return
			}
			var e envelope
			if err := json.Unmarshal(b, &e); err != nil {
				col.err = err
				return
			}
			col.ch <- e
		}
	}()
	t.Cleanup(col.close)
	return col
}

// subscribeSSE opens a format=json SSE subscriber.
func subscribeSSE(t testing.TB, in *instance, topic, query string) *collector {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, in.base+"/v1/topics/"+topic+"/sse?format=json&"+query, nil)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("SSE: status %d %s", resp.StatusCode, b)
	}
	col := &collector{ch: make(chan envelope, 100000), done: make(chan struct{}), closer: resp.Body}
	col.wg.Add(1)
	go func() {
		defer col.wg.Done()
		defer close(col.done)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				col.err = err
				return
			}
			if data, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "data: "); ok {
				var e envelope
				if err := json.Unmarshal([]byte(data), &e); err != nil {
					col.err = err
					return
				}
				col.ch <- e
			}
		}
	}()
	t.Cleanup(col.close)
	return col
}

// close ends the subscriber and waits for its reader.
func (c *collector) close() {
	_ = c.closer.Close()
	c.wg.Wait()
}

// take returns the next n envelopes, failing the test if they do not come
// within 20 s (a deadlock guard, not a speed check).
func (c *collector) take(t testing.TB, n int) []envelope {
	t.Helper()
	out := make([]envelope, 0, n)
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	for len(out) < n {
		select {
		case e := <-c.ch:
			out = append(out, e)
		case <-c.done:
			// Drain what was queued before the end.
			select {
			case e := <-c.ch:
				out = append(out, e)
				continue
			default:
			}
			t.Fatalf("stream ended after %d of %d messages: %v", len(out), n, c.err)
		case <-timer.C:
			t.Fatalf("got %d of %d messages in 20 s", len(out), n)
		}
	}
	return out
}

// quiet checks that nothing more arrives for d.
func (c *collector) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case e := <-c.ch:
		t.Fatalf("unexpected message seq %d %q", e.Seq, e.Data)
	case <-time.After(d):
	}
}

// ended waits for the stream to end and returns why.
func (c *collector) ended(t testing.TB) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(20 * time.Second):
		t.Fatal("stream did not end")
		return nil
	}
}

// checkRun fails unless es have seqs first, first+1, … with payloads
// want(seq) and one epoch.
func checkRun(t testing.TB, who string, es []envelope, first uint64, want func(uint64) string) {
	t.Helper()
	for i, e := range es {
		if e.Seq != first+uint64(i) {
			t.Fatalf("%s: message %d has seq %d, want %d", who, i, e.Seq, first+uint64(i))
		}
		if w := want(e.Seq); e.Data != w {
			t.Fatalf("%s: seq %d is %q, want %q", who, e.Seq, e.Data, w)
		}
		if e.Epoch != es[0].Epoch {
			t.Fatalf("%s: epoch changed from %s to %s at seq %d", who, es[0].Epoch, e.Epoch, e.Seq)
		}
	}
}
