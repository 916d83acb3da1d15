package ingress

import (
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
)

type published struct {
	Topic string `json:"topic"`
	Seq   uint64 `json:"seq"`
	Epoch string `json:"epoch"`
	ID    string `json:"id"`
	Time  string `json:"time"`
}

func TestPublish(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	for n := uint64(1); n <= 3; n++ {
		payload := "hello " + strings.Repeat("x", int(n))
		status, hdr, body := ts.post(t, "/v1/topics/orders.eu/", payload,
			"Content-Type", "text/plain", "X-Ringcast-Attr-Trace-Id", "abc")
		if status != 201 {
			t.Fatalf("status %d, body %s", status, body)
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var p published
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		msgs := ts.retained("orders.eu")
		m := msgs[len(msgs)-1]
		if p.Topic != "orders.eu" || p.Seq != n || p.Epoch != m.Epoch || p.Epoch == "" {
			t.Fatalf("answer %+v, message seq %d epoch %q", p, m.Seq, m.Epoch)
		}
		id, err := uuid.Parse(p.ID)
		if err != nil || id != m.ID || id.Version() != 7 {
			t.Fatalf("id %q (%v), message id %s", p.ID, err, m.ID)
		}
		at, err := time.Parse(time.RFC3339Nano, p.Time)
		if err != nil || !strings.HasSuffix(p.Time, "Z") || !at.Equal(m.Time) {
			t.Fatalf("time %q (%v), message time %v", p.Time, err, m.Time)
		}
		if string(m.Data) != payload {
			t.Fatalf("payload %q, want %q", m.Data, payload)
		}
		want := map[string]string{"trace-id": "abc", "content_type": "text/plain", "remote_addr": "127.0.0.1"}
		if !reflect.DeepEqual(m.Attrs, want) {
			t.Fatalf("attrs %v, want %v", m.Attrs, want)
		}
	}
	if got := testutil.ToFloat64(ts.in.m.publishedHTTP); got != 3 {
		t.Fatalf("published{http} = %v, want 3", got)
	}
	if got := testutil.CollectAndCount(ts.reg, "ringcast_publish_duration_seconds"); got != 3 {
		t.Fatalf("duration series = %d, want 3 (http, batch, ws)", got)
	}
}

// TestPublishCopiesBody checks that a message does not alias fasthttp's
// request buffer, which the next request on the connection overwrites.
func TestPublishCopiesBody(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	for _, p := range []string{"first-payload", "SECOND-PAYLOAD"} {
		if status, _, body := ts.post(t, "/v1/topics/copy/", p); status != 201 {
			t.Fatalf("status %d, body %s", status, body)
		}
	}
	msgs := ts.retained("copy")
	if len(msgs) != 2 || string(msgs[0].Data) != "first-payload" || string(msgs[1].Data) != "SECOND-PAYLOAD" {
		t.Fatalf("retained %q, %q", msgs[0].Data, msgs[1].Data)
	}
}

func TestPublishRefused(t *testing.T) {
	ts := newTestServer(t, broker.Config{MaxTopics: 1}, Config{MaxMessageBytes: 1024})
	if status, _, body := ts.post(t, "/v1/topics/only/", "x"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
	for _, tc := range []struct {
		name, topic, body string
		status            int
		code              string
	}{
		{"empty body", "t1", "", 400, "bad_request"},
		{"over max message bytes", "only", strings.Repeat("x", 1025), 413, "too_large"},
		{"bad topic", "a%20b", "x", 400, "bad_topic"},
		{"topic limit", "second", "x", 403, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.rejected(tc.code)
			status, _, body := ts.post(t, "/v1/topics/"+tc.topic+"/", tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.status, body)
			}
			if e := decodeError(t, body); e.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Code, tc.code)
			}
			if ts.rejected(tc.code) != before+1 {
				t.Fatalf("rejected{%s} not counted", tc.code)
			}
		})
	}
	if h := ts.head("only"); h != 1 {
		t.Fatalf("head %d, want 1: a refused publish was accepted", h)
	}
	if ts.b.Lookup("t1") != nil || ts.b.Lookup("second") != nil {
		t.Fatal("a refused publish created its topic")
	}
	status, _, _ := ts.post(t, "/v1/topics/only/", strings.Repeat("x", 1024))
	if status != 201 {
		t.Fatalf("a message of exactly MaxMessageBytes: status %d", status)
	}
}

// blockConfig gives block subscribers on blk.> a ring of 4 slots.
var blockConfig = broker.Config{
	Rules:          []broker.TopicRule{{Match: "blk.>", AllowBlock: true}},
	RingSize:       4,
	PublishTimeout: 100 * time.Millisecond,
}

func TestPublishBackpressure(t *testing.T) {
	ts := newTestServer(t, blockConfig, Config{PublishTimeout: 100 * time.Millisecond})
	sub, err := ts.b.Subscribe("blk.http", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 4 {
		if status, _, body := ts.post(t, "/v1/topics/blk.http/", "x"); status != 201 {
			t.Fatalf("status %d, body %s", status, body)
		}
	}
	start := time.Now()
	status, hdr, body := ts.post(t, "/v1/topics/blk.http/", "y")
	if status != 503 || hdr.Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q, body %s", status, hdr.Get("Retry-After"), body)
	}
	if e := decodeError(t, body); e.Code != "backpressure" {
		t.Fatalf("code %q", e.Code)
	}
	if waited := time.Since(start); waited < 90*time.Millisecond {
		t.Fatalf("answered after %v, before the publish timeout", waited)
	}
	if h := ts.head("blk.http"); h != 4 {
		t.Fatalf("head %d after backpressure, want 4", h)
	}
	if ts.rejected("backpressure") != 1 {
		t.Fatal("backpressure not counted")
	}
	// Once the subscriber reads, publishing works again.
	buf := make([]*broker.Message, 8)
	if n, err := sub.Read(buf); n != 4 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if status, _, body := ts.post(t, "/v1/topics/blk.http/", "z"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
}

// TestPublishWaitsForBlockSubscriber checks that a publish waiting for a
// block subscriber goes through once the subscriber reads.
func TestPublishWaitsForBlockSubscriber(t *testing.T) {
	ts := newTestServer(t, broker.Config{Rules: blockConfig.Rules, RingSize: 4}, Config{})
	sub, err := ts.b.Subscribe("blk.wait", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 4 {
		ts.post(t, "/v1/topics/blk.wait/", "x")
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = sub.Read(make([]*broker.Message, 4))
	}()
	if status, _, body := ts.post(t, "/v1/topics/blk.wait/", "late"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
}

// TestPublishDraining checks that Shutdown ends a publish waiting for a
// block subscriber with 503 draining.
func TestPublishDraining(t *testing.T) {
	ts := newTestServer(t, broker.Config{Rules: blockConfig.Rules, RingSize: 4}, Config{})
	sub, err := ts.b.Subscribe("blk.drain", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for range 4 {
		ts.post(t, "/v1/topics/blk.drain/", "x")
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = ts.in.Shutdown(context.Background())
	}()
	status, _, body := ts.post(t, "/v1/topics/blk.drain/", "y")
	if status != 503 || decodeError(t, body).Code != "draining" {
		t.Fatalf("status %d, body %s", status, body)
	}
}

// newRequestCtx prepares a publish request the handlers can be called with
// directly.
func newRequestCtx(body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetRequestURI("/v1/topics/bench/")
	req.SetBody(body)
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return ctx
}

// TestPublishHandlerAllocs guards the allocations of a publish: the
// message and its payload copy. The attributes of a request like the one
// before it (same address and content type, no X-Ringcast-Attr-*) are a
// cached map (httpx.SharedAttrs), and the answer costs none.
func TestPublishHandlerAllocs(t *testing.T) {
	b, err := broker.New(broker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in, err := New(Config{Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newRequestCtx([]byte(`{"price":42}`))
	allocs := testing.AllocsPerRun(1000, func() {
		ctx.Response.Reset()
		in.Publish(ctx, "bench")
	})
	if ctx.Response.StatusCode() != 201 {
		t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	const budget = 2
	if allocs > budget {
		t.Fatalf("%v allocations per publish, want at most %d", allocs, budget)
	}
	t.Logf("%v allocations per publish", allocs)
}
