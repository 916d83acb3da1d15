package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/broker"
)

// TestMain checks no goroutine outlives the tests. fasthttp's worker pool
// cleaner notices Stop only after its sleep (MaxIdleWorkerDuration, 10s),
// and its client's connection cleaners (webhooks, http_poll) sleep up to
// 10 s before they see nothing is left: they are the library's, and they
// exit by themselves.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		// fasthttp's Date updater, once for the process: the document
		// root's 304 and range errors reset the response, and with it
		// NoDefaultDate (static_test.go).
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// TestRouting checks every refusal of the router with its exact status,
// code and headers.
func TestRouting(t *testing.T) {
	ts := start(t, Config{})
	long := strings.Repeat("x", 129)
	cases := []struct {
		method, path, body string
		status             int
		code, allow        string
	}{
		{"GET", "/nope", "", 404, "not_found", ""},
		{"GET", "/v1/nope", "", 404, "not_found", ""},
		{"GET", "/v1/topics/t/nope", "", 404, "not_found", ""},
		{"GET", "/v1/topics/unknown", "", 404, "not_found", ""},
		{"DELETE", "/v1/topics/t", "", 405, "method_not_allowed", "GET, POST"},
		{"PUT", "/v1/topics/t", "x", 405, "method_not_allowed", "GET, POST"},
		{"GET", "/v1/topics/t/batch", "", 405, "method_not_allowed", "POST"},
		{"POST", "/v1/topics/t/ws", "", 405, "method_not_allowed", "GET"},
		{"POST", "/v1/topics/t/sse", "", 405, "method_not_allowed", "GET"},
		{"DELETE", "/v1/topics/t/messages", "", 405, "method_not_allowed", "GET"},
		{"POST", "/v1/topics", "", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/healthz", "", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/metrics", "", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/v1/topics/a%20b", "x", 400, "bad_topic", ""},
		{"POST", "/v1/topics/a%2Fb", "x", 400, "bad_topic", ""},
		{"POST", "/v1/topics/%C3%A9", "x", 400, "bad_topic", ""},
		{"POST", "/v1/topics/" + long, "x", 400, "bad_topic", ""},
		{"GET", "/v1/topics/a*b/sse", "", 400, "bad_topic", ""},
		{"GET", "/v1/topics/a$b/messages", "", 400, "bad_topic", ""},
		{"POST", "/v1/topics/a%20b/batch", "x", 400, "bad_topic", ""},
		{"GET", "/v1/topics/t/ws?mode=both", "", 400, "bad_request", ""},
		{"POST", "/v1/topics/t", "", 400, "bad_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := do(t, tc.method, ts.base+tc.path, tc.body)
			if a.status != tc.status || a.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			if a.header.Get("Allow") != tc.allow {
				t.Fatalf("Allow %q, want %q", a.header.Get("Allow"), tc.allow)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	if got := ts.Broker().Topics(); len(got) != 0 {
		t.Fatalf("refused requests created topics: %+v", got)
	}
}

func TestOversizeBodies(t *testing.T) {
	ts := start(t, Config{MaxMessageBytes: 1000, MaxBatchBytes: 4000})
	for _, tc := range []struct{ path, body string }{
		{"/v1/topics/t", strings.Repeat("x", 1001)},
		{"/v1/topics/t/batch", strings.Repeat("x\n", 2001)},
		{"/v1/topics/t/batch", strings.Repeat("y", 1001) + "\nz\n"},
		{"/v1/topics/t/batch", strings.Repeat("x", 100000)},
	} {
		a := do(t, "POST", ts.base+tc.path, tc.body)
		if a.status != 413 || a.errorCode(t) != "too_large" {
			t.Errorf("%s with %d bytes: %d %s", tc.path, len(tc.body), a.status, a.body)
		}
	}
	if got := ts.Broker().Topics(); len(got) != 0 && got[0].HeadSeq != 0 {
		t.Fatalf("oversize bodies accepted: %+v", got)
	}
}

func TestHealthMetricsConsole(t *testing.T) {
	ts := start(t, Config{})
	if a := do(t, "GET", ts.base+"/healthz", ""); a.status != 200 {
		t.Fatalf("healthz %d", a.status)
	}
	if a := do(t, "GET", ts.base+"/readyz", ""); a.status != 200 {
		t.Fatalf("readyz %d", a.status)
	}
	a := do(t, "GET", ts.base+"/", "")
	if a.status != 200 || !strings.Contains(a.header.Get("Content-Type"), "text/html") || !strings.Contains(string(a.body), "console.js") {
		t.Fatalf("console: %d %q", a.status, a.header.Get("Content-Type"))
	}
	if a := do(t, "GET", ts.base+"/console.js", ""); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("console.js: %d %q", a.status, a.header.Get("Content-Type"))
	}
	// Exercise every transport so that labelled series exist.
	do(t, "POST", ts.base+"/v1/topics/m", "x")
	do(t, "POST", ts.base+"/v1/topics/m/batch", "a\nb\n")
	c := dial(t, ts.ws+"/v1/topics/m/ws?mode=pub")
	if err := c.WriteMessage(websocket.TextMessage, []byte("w")); err != nil {
		t.Fatal(err)
	}
	sub := dial(t, ts.ws+"/v1/topics/m/ws?from=oldest")
	for i := 0; i < 4; i++ {
		if _, _, err := sub.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	do(t, "GET", ts.base+"/v1/topics/m/messages", "")
	body := string(do(t, "GET", ts.base+"/metrics", "").body)
	for _, name := range []string{
		`ringcast_messages_published_total{transport="http"} 1`,
		`ringcast_messages_published_total{transport="batch"} 2`,
		`ringcast_messages_published_total{transport="ws"}`,
		`ringcast_messages_delivered_total{transport="ws"}`,
		`ringcast_messages_delivered_total{transport="http"}`,
		`ringcast_messages_dropped_total`,
		`ringcast_publish_rejected_total`,
		`ringcast_subscribers{transport="ws"}`,
		`ringcast_connections{kind="http"}`,
		`ringcast_connections{kind="ws"}`,
		`ringcast_connection_events_total{event="open"}`,
		`ringcast_topics 1`,
		`ringcast_publish_duration_seconds_bucket{transport="http"`,
		`ringcast_delivery_latency_seconds`,
		`ringcast_subscriber_lag_messages`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if strings.Contains(body, `"m"`) {
		t.Error("a topic name is a label value")
	}
}

func TestTopicsListingAndStats(t *testing.T) {
	ts := start(t, Config{RingSize: 4})
	if a := do(t, "GET", ts.base+"/v1/topics", ""); a.status != 200 || strings.TrimSpace(string(a.body)) != "[]" {
		t.Fatalf("empty listing: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", ts.base+"/v1/topics/ghost/messages", ""); a.status != 200 || strings.TrimSpace(string(a.body)) != "[]" {
		t.Fatalf("messages of unknown topic: %d %s", a.status, a.body)
	}
	for i := 0; i < 6; i++ {
		do(t, "POST", ts.base+"/v1/topics/b", fmt.Sprint(i))
	}
	do(t, "POST", ts.base+"/v1/topics/a", "x")
	var list []broker.Stats
	if err := json.Unmarshal(do(t, "GET", ts.base+"/v1/topics", "").body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Topic != "a" || list[1].Topic != "b" || list[1].HeadSeq != 6 || list[1].OldestSeq != 3 || list[1].Published != 6 {
		t.Fatalf("listing %+v", list)
	}
	var one map[string]any
	if err := json.Unmarshal(do(t, "GET", ts.base+"/v1/topics/b", "").body, &one); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"topic", "epoch", "head_seq", "oldest_seq", "subscribers", "published", "dropped"} {
		if _, ok := one[k]; !ok {
			t.Errorf("stats lack %q: %v", k, one)
		}
	}
}

// TestPublishToEveryTransport publishes over HTTP and checks WebSocket, SSE
// and the messages endpoint see the same seqs and payloads.
func TestPublishToEveryTransport(t *testing.T) {
	ts := start(t, Config{})
	ws := dial(t, ts.ws+"/v1/topics/e2e/ws?format=json")
	sse := openSSE(t, ts.base+"/v1/topics/e2e/sse")
	var published []map[string]any
	for i := 1; i <= 5; i++ {
		a := do(t, "POST", ts.base+"/v1/topics/e2e", fmt.Sprintf("msg %d", i), "X-Ringcast-Attr-Source", "test")
		if a.status != 201 {
			t.Fatalf("publish: %d %s", a.status, a.body)
		}
		var ans map[string]any
		if err := json.Unmarshal(a.body, &ans); err != nil || ans["seq"] != float64(i) {
			t.Fatalf("answer %s", a.body)
		}
		published = append(published, ans)
	}
	for i := 1; i <= 5; i++ {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		attrs, _ := env["attrs"].(map[string]any)
		if env["seq"] != float64(i) || env["data"] != fmt.Sprintf("msg %d", i) || env["id"] != published[i-1]["id"] || attrs["source"] != "test" || attrs["remote_addr"] != "127.0.0.1" {
			t.Fatalf("ws envelope %s", data)
		}
		ev, err := sse.next()
		if err != nil || ev.id != fmt.Sprint(i) || ev.data != fmt.Sprintf("msg %d", i) {
			t.Fatalf("sse event %+v %v", ev, err)
		}
	}
	var msgs []map[string]any
	if err := json.Unmarshal(do(t, "GET", ts.base+"/v1/topics/e2e/messages?from=2&limit=2", "").body, &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0]["seq"] != float64(2) || msgs[1]["data"] != "msg 3" {
		t.Fatalf("messages %v", msgs)
	}
}

// TestWebSocketPublishNoLoss sends 10,000 frames over one connection and
// checks a subscriber got each once, in order.
func TestWebSocketPublishNoLoss(t *testing.T) {
	const n = 10000
	ts := start(t, Config{})
	sub := dial(t, ts.ws+"/v1/topics/bulk/ws")
	time.Sleep(50 * time.Millisecond) // the subscription is registered once the upgrade completes
	pub := dial(t, ts.ws+"/v1/topics/bulk/ws?mode=pub")
	go func() {
		for i := 1; i <= n; i++ {
			if err := pub.WriteMessage(websocket.BinaryMessage, fmt.Appendf(nil, "%d", i)); err != nil {
				return
			}
		}
	}()
	sub.SetReadDeadline(time.Now().Add(30 * time.Second))
	for i := 1; i <= n; i++ {
		_, data, err := sub.ReadMessage()
		if err != nil {
			t.Fatalf("after %d messages: %v", i-1, err)
		}
		if string(data) != fmt.Sprint(i) {
			t.Fatalf("message %d is %q", i, data)
		}
	}
	if h := ts.Broker().Lookup("bulk").Head(); h != n {
		t.Fatalf("head %d", h)
	}
}

// TestSlowSubscriberPolicies runs a subscriber that does not read on a
// small ring: drop-oldest shows the gap, disconnect closes with 1008.
func TestSlowSubscriberPolicies(t *testing.T) {
	ts := start(t, Config{RingSize: 8})
	drop := dial(t, ts.ws+"/v1/topics/slow/ws?format=json&from=oldest")
	disc := dial(t, ts.ws+"/v1/topics/slow/ws?policy=disconnect&from=oldest")
	time.Sleep(50 * time.Millisecond)
	// Publish far more than the ring and the sockets' buffers hold while
	// neither subscriber reads.
	payload := strings.Repeat("p", 64<<10)
	for i := 0; i < 200; i++ {
		if a := do(t, "POST", ts.base+"/v1/topics/slow", payload); a.status != 201 {
			t.Fatalf("publish %d: %d", i, a.status)
		}
	}
	disc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = disc.ReadMessage()
	}
	if !websocket.IsCloseError(closeErr, websocket.ClosePolicyViolation) {
		t.Fatalf("disconnect policy ended with %v, want close 1008", closeErr)
	}
	drop.SetReadDeadline(time.Now().Add(10 * time.Second))
	prev, gaps := uint64(0), uint64(0)
	for prev < 200 {
		_, data, err := drop.ReadMessage()
		if err != nil {
			t.Fatalf("after seq %d: %v", prev, err)
		}
		var env struct{ Seq uint64 }
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		if env.Seq <= prev {
			t.Fatalf("seq %d after %d", env.Seq, prev)
		}
		gaps += env.Seq - prev - 1
		prev = env.Seq
	}
	if gaps == 0 {
		t.Fatal("a subscriber that did not read through 200 large messages on an 8-slot ring saw no gap")
	}
	metrics := string(do(t, "GET", ts.base+"/metrics", "").body)
	if !strings.Contains(metrics, `ringcast_messages_dropped_total{reason="drop_oldest"}`) || !strings.Contains(metrics, `ringcast_messages_dropped_total{reason="disconnect"}`) {
		t.Fatal("drops not counted by reason")
	}
}

func TestBlockPolicyBackpressure(t *testing.T) {
	ts := start(t, Config{RingSize: 4, PublishTimeout: 100 * time.Millisecond, Rules: []broker.TopicRule{{Match: "audit.>", AllowBlock: true}}})
	if a := do(t, "GET", ts.base+"/v1/topics/open/sse?policy=block", ""); a.status != 403 || a.errorCode(t) != "forbidden" {
		t.Fatalf("block on a topic without allow_block: %d %s", a.status, a.body)
	}
	// The block subscriber's socket buffers absorb what its writer reads,
	// so publish until the ring itself is full.
	dial(t, ts.ws+"/v1/topics/audit.x/ws?policy=block")
	time.Sleep(50 * time.Millisecond)
	payload := strings.Repeat("b", 256<<10)
	var refused answer
	accepted := 0
	for i := 0; i < 400; i++ {
		a := do(t, "POST", ts.base+"/v1/topics/audit.x", payload)
		if a.status == 201 {
			accepted++
			continue
		}
		refused = a
		break
	}
	if refused.status != 503 || refused.errorCode(t) != "backpressure" || refused.header.Get("Retry-After") == "" {
		t.Fatalf("after %d accepted: %d %s Retry-After %q", accepted, refused.status, refused.body, refused.header.Get("Retry-After"))
	}
	if h := ts.Broker().Lookup("audit.x").Head(); h != uint64(accepted) {
		t.Fatalf("head %d after %d accepted: a refused publish was accepted", h, accepted)
	}
}

// TestClientVanishesMidWrite kills a subscriber's TCP connection while the
// server writes to it; the server carries on and frees the subscription.
func TestClientVanishesMidWrite(t *testing.T) {
	ts := start(t, Config{})
	conn, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /v1/topics/gone/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	buf := make([]byte, 4096)
	if n, err := conn.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "101") {
		t.Fatalf("upgrade: %q %v", buf[:n], err)
	}
	payload := strings.Repeat("v", 32<<10)
	for i := 0; i < 20; i++ {
		do(t, "POST", ts.base+"/v1/topics/gone", payload)
	}
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	for i := 0; i < 50; i++ {
		do(t, "POST", ts.base+"/v1/topics/gone", payload)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.Broker().Lookup("gone").Stats().Subscribers != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the vanished subscriber is still subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a := do(t, "GET", ts.base+"/healthz", ""); a.status != 200 {
		t.Fatal("server unhealthy after a client vanished")
	}
}

// TestDrain checks SIGTERM's drain: readiness goes 503, WebSocket
// subscribers get 1001, SSE streams end, and Shutdown returns in time.
func TestDrain(t *testing.T) {
	ts := start(t, Config{DrainTimeout: 5 * time.Second})
	var subs []*websocket.Conn
	for i := 0; i < 10; i++ {
		subs = append(subs, dial(t, ts.ws+"/v1/topics/d/ws"))
	}
	pub := dial(t, ts.ws+"/v1/topics/d/ws?mode=pub")
	sse := openSSE(t, ts.base+"/v1/topics/d/sse")
	// A keep-alive client that will ask for readiness during the drain.
	keep := &http.Client{}
	defer keep.CloseIdleConnections()
	if resp, err := keep.Get(ts.base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz before drain: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	var wg sync.WaitGroup
	for _, c := range append(subs, pub) {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
						t.Errorf("WebSocket ended with %v, want 1001", err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := sse.next(); err != io.EOF && err != io.ErrUnexpectedEOF {
		t.Errorf("SSE stream after drain: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("drain took %v", d)
	}
	if _, err := net.DialTimeout("tcp", ts.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting after drain")
	}
}

func TestDrainingRefusesAndReadyzFails(t *testing.T) {
	ts := start(t, Config{})
	ts.draining.Store(true) // the first step of Shutdown, observed before the listener closes
	defer ts.draining.Store(false)
	if a := do(t, "GET", ts.base+"/readyz", ""); a.status != 503 {
		t.Fatalf("readyz while draining: %d", a.status)
	}
	if a := do(t, "GET", ts.base+"/healthz", ""); a.status != 200 {
		t.Fatalf("healthz while draining: %d", a.status)
	}
	for _, path := range []string{"/v1/topics/t", "/v1/topics/t/batch"} {
		if a := do(t, "POST", ts.base+path, "x"); a.status != 503 || a.errorCode(t) != "draining" {
			t.Fatalf("POST %s while draining: %d %s", path, a.status, a.body)
		}
	}
	if a := do(t, "GET", ts.base+"/v1/topics/t/sse", ""); a.status != 503 || a.errorCode(t) != "draining" {
		t.Fatalf("subscribe while draining: %d", a.status)
	}
}

// TestConnectionsCountedAndClosed opens every kind of connection, closes
// them, and checks the gauges return to zero, every open has its close, and
// no socket is left open on the server side.
func TestConnectionsCountedAndClosed(t *testing.T) {
	ts := start(t, Config{})
	fdsBefore := openFDs(t)
	var conns []*websocket.Conn
	for _, q := range []string{"", "?mode=pub", "?mode=pubsub"} {
		c, _, err := websocket.DefaultDialer.Dial(ts.ws+"/v1/topics/c/ws"+q, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	sse := openSSE(t, ts.base+"/v1/topics/c/sse")
	do(t, "GET", ts.base+"/healthz", "")
	// A client holds its 101 before the server's actor has counted it.
	deadline := time.Now().Add(5 * time.Second)
	for m := scrape(t, ts); m[`ringcast_connections{kind="ws"}`] != 3 || m[`ringcast_connections{kind="sse"}`] != 1; m = scrape(t, ts) {
		if time.Now().After(deadline) {
			t.Fatalf("while open: %v, want 3 ws and 1 sse", m)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range conns {
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.Close()
	}
	sse.resp.Body.Close()
	deadline = time.Now().Add(5 * time.Second)
	for {
		m := scrape(t, ts)
		settled := m[`ringcast_connections{kind="ws"}`] == 0 && m[`ringcast_connections{kind="sse"}`] == 0 &&
			m[`ringcast_connections{kind="http"}`] == 1 && // the scrape itself
			m[`ringcast_connection_events_total{event="open"}`] == m[`ringcast_connection_events_total{event="close"}`]+1
		if settled && openFDs(t) <= fdsBefore {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections not settled: %v; fds %d, before %d", m, openFDs(t), fdsBefore)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape returns the connection series of /metrics.
func scrape(t *testing.T, ts *testServer) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(do(t, "GET", ts.base+"/metrics", "").body), "\n") {
		if strings.HasPrefix(line, "ringcast_connection") {
			var v float64
			name, val, _ := strings.Cut(line, " ")
			fmt.Sscan(val, &v)
			out[name] = v
		}
	}
	return out
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestOversizeBodyAnswered413NotReset posts bodies fasthttp refuses from
// their Content-Length with Go's HTTP client, which may still be sending
// the body when the server answers. Had the server closed at once, the rest
// of the body would meet a closed socket, the client would get a reset
// instead of the 413, and the user would see "connection reset".
func TestOversizeBodyAnswered413NotReset(t *testing.T) {
	ts := start(t, Config{MaxMessageBytes: 1000, MaxBatchBytes: 4000})
	body := strings.Repeat("x\n", 100000) // 200,000 bytes, fifty times the limit
	for i := 0; i < 30; i++ {
		a := do(t, "POST", ts.base+"/v1/topics/t/batch", body)
		if a.status != 413 || a.errorCode(t) != "too_large" {
			t.Fatalf("attempt %d: %d %s", i, a.status, a.body)
		}
	}
}
