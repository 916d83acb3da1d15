package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress/template"
)

// hook is a webhook configuration for tests: topic pattern "t.>", quick
// retries, from the oldest message.
func hook(url string) DestinationConfig {
	return DestinationConfig{
		Name: "hook", Type: TypeWebhook, Topics: []string{"t.>"}, URL: url,
		From: broker.Position{Kind: broker.Oldest}, Retry: quickRetry, Timeout: 2 * time.Second,
	}
}

// readTopic reads everything retained in topic.
func (env *destEnv) readTopic(topic string) []*broker.Message {
	tp := env.b.Lookup(topic)
	if tp == nil {
		return nil
	}
	buf := make([]*broker.Message, 1000)
	return buf[:tp.Retained(broker.Position{Kind: broker.Oldest}, buf)]
}

func TestWebhookHeadersTemplateMethod(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	rcv := newReceiver(t, nil, nil)
	tmpl, err := template.Compile("$TOPIC #$SEQ ${attr.k}: $MSG")
	if err != nil {
		t.Fatal(err)
	}
	cfg := hook(rcv.url("/in?x=1"))
	cfg.Method, cfg.Template, cfg.UserAgent = "PUT", tmpl, "ringcast/test"
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cr3t", "X-Extra": "yes"}
	env.start(t, cfg)
	if err := env.b.Publish(context.Background(), "t.a", &broker.Message{Data: []byte("hello"), Attrs: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one request", func() bool { return len(rcv.requests()) == 1 })
	r := rcv.requests()[0]
	if r.method != "PUT" || r.path != "/in" || r.body != "t.a #1 v: hello" {
		t.Fatalf("got %s %s %q", r.method, r.path, r.body)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer s3cr3t", "X-Extra": "yes", "User-Agent": "ringcast/test",
		"Content-Type": "text/plain; charset=utf-8", HeaderTopic: "t.a", HeaderSeq: "1",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s: %q, want %q", k, got, want)
		}
	}
	if len(r.header.Get(HeaderID)) != 36 {
		t.Errorf("header %s: %q is not a UUID", HeaderID, r.header.Get(HeaderID))
	}
}

func TestWebhookPayloadAsIs(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	rcv := newReceiver(t, nil, nil)
	env.start(t, hook(rcv.url("/")))
	if err := env.b.Publish(context.Background(), "t.a", &broker.Message{Data: []byte{0, 1, 0xff}, Attrs: map[string]string{"content_type": "application/x-thing"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one request", func() bool { return len(rcv.requests()) == 1 })
	r := rcv.requests()[0]
	if r.method != "POST" || r.body != "\x00\x01\xff" || r.header.Get("Content-Type") != "application/x-thing" || r.header.Get("User-Agent") != "ringcast" {
		t.Fatalf("got %s %q %v", r.method, r.body, r.header)
	}
}

func TestWebhookSuccessStatuses(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	codes := []int{200, 201, 204}
	rcv := newReceiver(t, nil, func(n int, _ hookRequest) (int, http.Header) { return codes[n%3], nil })
	ds := env.start(t, hook(rcv.url("/")))
	env.publish(t, "t.a", numbered("m", 6)...)
	waitFor(t, "6 deliveries", func() bool { return ds.Status()[0].Delivered == 6 })
	st := ds.Status()[0]
	if st.Retries != 0 || st.DeadLettered != 0 || len(rcv.requests()) != 6 || st.State != StateUp {
		t.Fatalf("status %+v after %d requests", st, len(rcv.requests()))
	}
	if got := env.metric(t, "ringcast_destination_deliveries_total", "destination", "hook", "result", ResultSuccess); got != 6 {
		t.Fatalf("success counter %v", got)
	}
	if got := env.metric(t, "ringcast_messages_delivered_total", "transport", TransportWebhook); got != 6 {
		t.Fatalf("delivered{webhook} %v", got)
	}
	if got := env.metric(t, "ringcast_destination_up", "destination", "hook"); got != 1 {
		t.Fatalf("up %v", got)
	}
	waitFor(t, "lag 0", func() bool { return env.metric(t, "ringcast_destination_lag_messages", "destination", "hook") == 0 })
}

// TestWebhookRetriesKeepOrder: every message fails twice with 500 before
// it succeeds; the successes arrive in order and each once.
func TestWebhookRetriesKeepOrder(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	var mu sync.Mutex
	tries := map[string]int{}
	rcv := newReceiver(t, nil, func(_ int, r hookRequest) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		tries[r.body]++
		if tries[r.body] <= 2 {
			return 500, nil
		}
		return 200, nil
	})
	ds := env.start(t, hook(rcv.url("/")))
	want := numbered("m", 10)
	env.publish(t, "t.a", want...)
	waitFor(t, "10 deliveries", func() bool { return ds.Status()[0].Delivered == 10 })
	var ok []string
	mu.Lock()
	seen := map[string]int{}
	for _, b := range rcv.bodies() {
		if seen[b]++; seen[b] == 3 {
			ok = append(ok, b)
		}
	}
	mu.Unlock()
	if !slices.Equal(ok, want) {
		t.Fatalf("delivered %v, want %v", ok, want)
	}
	bodies := rcv.bodies()
	for i := 0; i+2 < len(bodies); i += 3 {
		if bodies[i] != bodies[i+1] || bodies[i] != bodies[i+2] {
			t.Fatalf("a later message was tried before an earlier one succeeded: %v", bodies)
		}
	}
	if st := ds.Status()[0]; st.Retries != 20 || !strings.Contains(st.LastError, "500 Internal Server Error") {
		t.Fatalf("status %+v", st)
	}
	if got := env.metric(t, "ringcast_destination_deliveries_total", "destination", "hook", "result", ResultRetry); got != 20 {
		t.Fatalf("retry counter %v", got)
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name  string
		value func() string
		least time.Duration
	}{
		{"seconds", func() string { return "1" }, time.Second},
		// An HTTP date has whole seconds: 2 s from now is at least 1 s away.
		{"date", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newDestEnv(t, broker.Config{})
			rcv := newReceiver(t, nil, func(n int, _ hookRequest) (int, http.Header) {
				if n == 0 {
					return 429, http.Header{"Retry-After": {c.value()}}
				}
				return 200, nil
			})
			ds := env.start(t, hook(rcv.url("/")))
			env.publish(t, "t.a", "x")
			waitFor(t, "delivery", func() bool { return ds.Status()[0].Delivered == 1 })
			reqs := rcv.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests", len(reqs))
			}
			wait := reqs[1].at.Sub(reqs[0].at)
			if wait < c.least || wait > 3*time.Second {
				t.Fatalf("retried after %v; Retry-After asked for %v or more (the backoff alone is at most 20ms)", wait, c.least)
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0":                             0,
		"120":                           2 * time.Minute,
		"Sat, 21 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Sat, 21 Nov 2026 11:00:00 GMT": 0,
	} {
		if got, ok := retryAfter([]byte(in), now); !ok || got != want {
			t.Errorf("retryAfter(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "-1", "1.5"} {
		if _, ok := retryAfter([]byte(in), now); ok {
			t.Errorf("retryAfter(%q) parsed", in)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for n, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var top time.Duration
		for range 2000 {
			d := b.Delay(n)
			if d < 0 || d > ceiling {
				t.Fatalf("delay(%d) = %v, over %v", n, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling*8/10 {
			t.Errorf("delay(%d) never came near its ceiling %v (max %v): not full jitter", n, ceiling, top)
		}
	}
}

// TestWebhookDeadLetter: a 404 dead-letters at once to "<topic>.dlq",
// which the destination (pattern "t.>") never reads back; a 500 past
// max_attempts dead-letters to the configured topic.
func TestWebhookDeadLetter(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	rcv := newReceiver(t, nil, func(_ int, r hookRequest) (int, http.Header) {
		switch r.body {
		case "missing":
			return 404, nil
		case "broken":
			return 500, nil
		}
		return 200, nil
	})
	cfg := hook(rcv.url("/"))
	cfg.DropOn = []int{404}
	ds := env.start(t, cfg)
	env.publish(t, "t.a", "missing", "fine")
	waitFor(t, "one delivery", func() bool { return ds.Status()[0].Delivered == 1 })
	dl := env.readTopic("t.a.dlq")
	if len(dl) != 1 || string(dl[0].Data) != "missing" {
		t.Fatalf("dead letters %v", dl)
	}
	for k, want := range map[string]string{AttrSourceTopic: "t.a", AttrSourceSeq: "1", AttrDeadLetterDestination: "hook", AttrDeadLetterReason: "answered 404 Not Found"} {
		if got := dl[0].Attrs[k]; got != want {
			t.Errorf("attr %s = %q, want %q", k, got, want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("%d requests: the destination read its own dead letter", n)
	}
	if st := ds.Status()[0]; st.DeadLettered != 1 || len(st.Cursors) != 1 || st.Cursors[0].Cursor != 3 {
		t.Fatalf("status %+v", st)
	}

	env2 := newDestEnv(t, broker.Config{})
	cfg = hook(rcv.url("/"))
	cfg.Name, cfg.MaxAttempts, cfg.DeadLetter = "hook2", 3, "graveyard"
	ds2 := env2.start(t, cfg)
	env2.publish(t, "t.b", "broken", "fine")
	waitFor(t, "one delivery", func() bool { return ds2.Status()[0].Delivered == 1 })
	dl = env2.readTopic("graveyard")
	if len(dl) != 1 || string(dl[0].Data) != "broken" || !strings.Contains(dl[0].Attrs[AttrDeadLetterReason], "after 3 attempts") {
		t.Fatalf("dead letters %v", dl)
	}
	if st := ds2.Status()[0]; st.Retries != 2 || st.DeadLettered != 1 {
		t.Fatalf("status %+v", st)
	}
	if got := env2.metric(t, "ringcast_destination_deliveries_total", "destination", "hook2", "result", ResultDeadLetter); got != 1 {
		t.Fatalf("dead_letter counter %v", got)
	}
}

func TestWebhookRedirects(t *testing.T) {
	var final atomic.Int32
	rcv := newReceiver(t, nil, func(_ int, r hookRequest) (int, http.Header) {
		var hop int
		if _, err := fmt.Sscanf(r.path, "/hop%d", &hop); err == nil && hop < 3 {
			return 307, http.Header{"Location": {fmt.Sprintf("/hop%d", hop+1)}}
		}
		final.Add(1)
		return 200, nil
	})
	for _, c := range []struct {
		limit int
		ok    bool
	}{{2, false}, {3, true}, {0, false}} {
		t.Run(fmt.Sprint(c.limit), func(t *testing.T) {
			final.Store(0)
			env := newDestEnv(t, broker.Config{})
			cfg := hook(rcv.url("/hop0"))
			cfg.MaxRedirects, cfg.MaxAttempts = c.limit, 1
			ds := env.start(t, cfg)
			env.publish(t, "t.a", "x")
			waitFor(t, "an outcome", func() bool { st := ds.Status()[0]; return st.Delivered+st.DeadLettered == 1 })
			st := ds.Status()[0]
			if c.ok {
				if st.Delivered != 1 || final.Load() != 1 {
					t.Fatalf("status %+v, final hits %d", st, final.Load())
				}
				return
			}
			dl := env.readTopic("t.a.dlq")
			if st.DeadLettered != 1 || final.Load() != 0 || len(dl) != 1 ||
				!strings.Contains(dl[0].Attrs[AttrDeadLetterReason], fmt.Sprintf("307 Temporary Redirect after %d redirects", c.limit)) {
				t.Fatalf("status %+v, final hits %d, dead letters %v", st, final.Load(), dl)
			}
		})
	}
}

func TestWebhookTLS(t *testing.T) {
	pki := newPKI(t)
	rcv := newReceiver(t, serverTLS(pki.server, nil), nil)
	mtls := newReceiver(t, serverTLS(pki.server, pki.roots), nil)
	for _, c := range []struct {
		name  string
		url   string
		files ClientTLSFiles
		fail  string // "" when delivery works
	}{
		{"no CA", rcv.url("/"), ClientTLSFiles{}, "certificate signed by unknown authority"},
		{"CA", rcv.url("/"), ClientTLSFiles{CAFile: pki.file("ca.pem")}, ""},
		{"insecure", rcv.url("/"), ClientTLSFiles{InsecureSkipVerify: true}, ""},
		{"client cert", mtls.url("/"), ClientTLSFiles{CAFile: pki.file("ca.pem"), CertFile: pki.file("client.pem"), KeyFile: pki.file("client-key.pem")}, ""},
		// TLS 1.3 finishes the client's handshake before the server checks
		// for a client certificate: the refusal shows as a closed connection.
		{"no client cert", mtls.url("/"), ClientTLSFiles{CAFile: pki.file("ca.pem")}, "POST https://"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newDestEnv(t, broker.Config{})
			cfg := hook(c.url)
			var err error
			if cfg.TLS, err = c.files.Config("127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			ds := env.start(t, cfg)
			env.publish(t, "t.a", "x")
			if c.fail == "" {
				waitFor(t, "delivery", func() bool { return ds.Status()[0].Delivered == 1 })
				return
			}
			waitFor(t, "a TLS failure", func() bool { return ds.Status()[0].LastError != "" })
			if st := ds.Status()[0]; st.State != StateDown || st.Delivered != 0 || !strings.Contains(st.LastError, c.fail) {
				t.Fatalf("status %+v, want down with %q", st, c.fail)
			}
		})
	}
}

// TestWebhookTargetDown: the target stops for 3 seconds while messages
// keep coming; afterwards every message has arrived exactly once, in
// order. The ring is small, so the block destination also pushes back on
// the publisher meanwhile.
func TestWebhookTargetDown(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 seconds")
	}
	env := newDestEnv(t, broker.Config{RingSize: 16, PublishTimeout: time.Minute})
	rcv := newReceiver(t, nil, nil)
	cfg := hook(rcv.url("/"))
	cfg.Retry = Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}
	ds := env.start(t, cfg)
	const n = 300
	want := numbered("m", n)
	published := make(chan error, 1)
	var blockedFor atomic.Int64 // the longest publish, in ns
	go func() {
		for _, p := range want {
			start := time.Now()
			if err := env.b.Publish(context.Background(), "t.a", &broker.Message{Data: []byte(p)}); err != nil {
				published <- err
				return
			}
			blockedFor.Store(max(blockedFor.Load(), int64(time.Since(start))))
			time.Sleep(2 * time.Millisecond)
		}
		published <- nil
	}()
	waitFor(t, "50 deliveries", func() bool { return len(rcv.requests()) >= 50 })
	rcv.stop()
	time.Sleep(3 * time.Second)
	if st := ds.Status()[0]; st.State != StateDown || st.Lag == 0 {
		t.Errorf("while the target is down: %+v", st)
	}
	rcv.restart()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every delivery", func() bool { return ds.Status()[0].Delivered == n })
	if got := rcv.bodies(); !slices.Equal(got, want) {
		t.Fatalf("received %d bodies, want each of %d once in order; first difference at %d", len(got), n, firstDiff(got, want))
	}
	if time.Duration(blockedFor.Load()) < time.Second {
		t.Errorf("the longest publish took %v: the block destination did not push back", time.Duration(blockedFor.Load()))
	}
	if st := ds.Status()[0]; st.State != StateUp || st.Retries == 0 || st.Lag != 0 {
		t.Fatalf("after: %+v", st)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWebhookBlockPushesBack: with the target down, a block destination
// holds the ring: once it is full, publishing fails with backpressure, and
// nothing is lost when the target comes back.
func TestWebhookBlockPushesBack(t *testing.T) {
	env := newDestEnv(t, broker.Config{RingSize: 8, PublishTimeout: 100 * time.Millisecond})
	rcv := newReceiver(t, nil, nil)
	rcv.stop()
	ds := env.start(t, hook(rcv.url("/")))
	env.publish(t, "t.a", numbered("m", 8)...)
	err := env.b.Publish(context.Background(), "t.a", &broker.Message{Data: []byte("m9")})
	if !errors.Is(err, broker.ErrBackpressure) {
		t.Fatalf("publish into a ring held by a down destination: %v", err)
	}
	rcv.restart()
	waitFor(t, "8 deliveries", func() bool { return ds.Status()[0].Delivered == 8 })
	if got := rcv.bodies(); !slices.Equal(got, numbered("m", 8)) {
		t.Fatalf("received %v", got)
	}
}

func TestWebhookMaxInFlight(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	var now, peak atomic.Int32
	release := make(chan struct{})
	rcv := newReceiver(t, nil, func(int, hookRequest) (int, http.Header) {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		now.Add(-1)
		return 200, nil
	})
	cfg := hook(rcv.url("/"))
	cfg.MaxInFlight = 4
	ds := env.start(t, cfg)
	env.publish(t, "t.a", numbered("m", 20)...)
	waitFor(t, "4 requests at once", func() bool { return now.Load() == 4 })
	time.Sleep(20 * time.Millisecond)
	if p := peak.Load(); p != 4 {
		t.Fatalf("%d requests at once, want 4", p)
	}
	close(release)
	waitFor(t, "20 deliveries", func() bool { return ds.Status()[0].Delivered == 20 })
	got := rcv.bodies()
	slices.Sort(got)
	want := numbered("m", 20)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("received %v", got)
	}
	waitFor(t, "cursor 21", func() bool { st := ds.Status()[0]; return st.Cursors[0].Cursor == 21 && st.Lag == 0 })
}

// TestWebhookPatterns: a destination gets the matching topics that exist
// at start (from oldest) and those created later, and no other.
func TestWebhookPatterns(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	env.publish(t, "t.old", "old")
	env.publish(t, "u.x", "other")
	rcv := newReceiver(t, nil, nil)
	ds := env.start(t, hook(rcv.url("/")))
	env.publish(t, "t.new.deep", "new")
	env.publish(t, "u.y", "other")
	waitFor(t, "2 deliveries", func() bool { return ds.Status()[0].Delivered == 2 })
	got := rcv.bodies()
	slices.Sort(got)
	if !slices.Equal(got, []string{"new", "old"}) {
		t.Fatalf("received %v", got)
	}
	st := ds.Status()[0]
	if len(st.Cursors) != 2 || st.Cursors[0].Topic != "t.new.deep" || st.Cursors[1].Topic != "t.old" || !slices.Equal(st.Topics, []string{"t.>"}) {
		t.Fatalf("status %+v", st)
	}
}

func TestWebhookCheckOnStart(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	rcv := newReceiver(t, nil, nil)
	rcv.stop()
	cfg := hook(rcv.url("/"))
	cfg.CheckOnStart = true
	ds := env.start(t, cfg)
	waitFor(t, "the check", func() bool { return ds.Status()[0].LastError != "" })
	if st := ds.Status()[0]; st.State != StateDown || !strings.Contains(st.LastError, "check_on_start: HEAD") {
		t.Fatalf("status %+v", st)
	}
	if got := env.metric(t, "ringcast_destination_up", "destination", "hook"); got != 0 {
		t.Fatalf("up %v", got)
	}
	rcv.restart()
	env.publish(t, "t.a", "x")
	waitFor(t, "delivery", func() bool { return ds.Status()[0].Delivered == 1 })
	if st := ds.Status()[0]; st.State != StateUp {
		t.Fatalf("status %+v", st)
	}

	env2 := newDestEnv(t, broker.Config{})
	cfg.Name = "hook2"
	ds2 := env2.start(t, cfg)
	waitFor(t, "the check", func() bool { return ds2.Status()[0].State == StateUp })
	if r := rcv.requests(); r[len(r)-1].method != "HEAD" {
		t.Fatalf("last request %s", r[len(r)-1].method)
	}
}

// TestWebhookShutdownAborts: Shutdown with a short context ends a request
// the target never answers.
func TestWebhookShutdownAborts(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	hang := make(chan struct{})
	defer close(hang)
	rcv := newReceiver(t, nil, func(int, hookRequest) (int, http.Header) { <-hang; return 200, nil })
	cfg := hook(rcv.url("/"))
	cfg.Timeout = time.Minute
	ds, err := env.e.NewDestinations([]DestinationConfig{cfg}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ds.Start()
	env.publish(t, "t.a", "x")
	waitFor(t, "the request", func() bool { return len(rcv.requests()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ds.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if st := ds.Status()[0]; st.State != StateStopped || st.Delivered != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestNewDestinationsErrors(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	ok := hook("http://127.0.0.1:1/")
	for _, c := range []struct {
		name string
		edit func(*DestinationConfig)
		want string
	}{
		{"no name", func(c *DestinationConfig) { c.Name = "" }, "the name is empty"},
		{"no topics", func(c *DestinationConfig) { c.Topics = nil }, "no topic pattern"},
		{"bad pattern", func(c *DestinationConfig) { c.Topics = []string{"a..b"} }, "empty level"},
		{"bad type", func(c *DestinationConfig) { c.Type = "email" }, `type "email"`},
		{"ws url on webhook", func(c *DestinationConfig) { c.URL = "ws://x/" }, "a webhook needs http:// or https://"},
		{"http url on websocket", func(c *DestinationConfig) { c.Type = TypeWebSocket }, "needs ws:// or wss://"},
		{"relative url", func(c *DestinationConfig) { c.URL = "/in" }, "not an absolute URL"},
		{"method", func(c *DestinationConfig) { c.Method = "GET" }, `method "GET"`},
		{"backoffs", func(c *DestinationConfig) { c.Retry = Backoff{Initial: time.Second, Max: time.Millisecond} }, "initial backoff"},
		{"dead letter loop", func(c *DestinationConfig) { c.DeadLetter = "t.dead" }, `matches the destination's pattern "t.>"`},
		{"bad dead letter", func(c *DestinationConfig) { c.DeadLetter = "a b" }, "bad topic name"},
		{"from seq", func(c *DestinationConfig) { c.From = broker.Position{Kind: broker.AtSeq, Seq: 3} }, "latest or oldest"},
		{"handshake header", func(c *DestinationConfig) {
			c.Type, c.URL, c.Headers = TypeWebSocket, "ws://x/", map[string]string{"sec-websocket-protocol": "a"}
		}, "set by the WebSocket handshake"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			env := newDestEnv(t, broker.Config{})
			if _, err := env.e.NewDestinations([]DestinationConfig{cfg}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := env.e.NewDestinations([]DestinationConfig{ok, ok}, nil); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("duplicate names: %v", err)
	}
}
