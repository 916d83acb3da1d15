package egress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine is left, but fasthttp's own:
// its worker pool's cleaner sleeps out its period after Stop, its date
// updater runs for the life of the process, and its client's connection
// cleaners (webhooks) sleep up to 10 s before they see they have nothing
// left to clean.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

// testServer is a real fasthttp server on 127.0.0.1:0 whose tiny router
// sends /v1/topics/{topic}/{ws,sse,messages} to an Egress.
type testServer struct {
	b     *broker.Broker
	e     *Egress
	reg   *prometheus.Registry
	conns *httpx.ConnMetrics
	addr  string
	http  *http.Client
}

// newTestServer starts a server; cfg may adjust the egress Config (Broker,
// Registerer, Conns and Publish are filled in). Everything stops when the
// test ends.
func newTestServer(t testing.TB, bcfg broker.Config, cfg func(*Config)) *testServer {
	t.Helper()
	b, err := broker.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{b: b, reg: prometheus.NewRegistry()}
	s.conns = httpx.NewConnMetrics(s.reg)
	c := Config{
		Broker:     b,
		Conns:      s.conns,
		Registerer: s.reg,
		Publish: func(ctx context.Context, topic string, data []byte, attrs map[string]string, origin uint64) error {
			m := &broker.Message{Data: bytes.Clone(data), Attrs: attrs, Origin: origin}
			return b.Publish(ctx, topic, m)
		},
	}
	if cfg != nil {
		cfg(&c)
	}
	if s.e, err = New(c); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	srv := &fasthttp.Server{Handler: s.route, KeepHijackedConns: c.KeepHijackedConns}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	tr := &http.Transport{DisableKeepAlives: true}
	s.http = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.e.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		_ = srv.Shutdown()
		// Shutdown closes only the listeners Serve has registered; one
		// that started late would accept forever.
		_ = ln.Close()
		<-served
		tr.CloseIdleConnections()
		b.Close()
	})
	return s
}

// route is the test router: the topic is the path element after
// /v1/topics/.
func (s *testServer) route(ctx *fasthttp.RequestCtx) {
	rest, ok := strings.CutPrefix(string(ctx.Path()), "/v1/topics/")
	topic, what, _ := strings.Cut(rest, "/")
	if !ok || broker.ValidateTopic(topic) != nil {
		httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no such route")
		return
	}
	switch what {
	case "ws":
		s.e.WebSocket(ctx, topic)
	case "sse":
		s.e.SSE(ctx, topic)
	case "messages":
		s.e.Messages(ctx, topic)
	default:
		httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no such route")
	}
}

func (s *testServer) url(scheme, topic, what, query string) string {
	u := fmt.Sprintf("%s://%s/v1/topics/%s/%s", scheme, s.addr, topic, what)
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial opens a WebSocket subscriber and closes it when the test ends.
func (s *testServer) dial(t testing.TB, topic, query string, h http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(s.url("ws", topic, "ws", query), h)
	if err != nil {
		body := ""
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			body = fmt.Sprintf(" (%d %s)", resp.StatusCode, b)
		}
		t.Fatalf("dial %s?%s: %v%s", topic, query, err, body)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// publish publishes payloads into topic directly through the broker.
func (s *testServer) publish(t testing.TB, topic string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if err := s.b.Publish(context.Background(), topic, &broker.Message{Data: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
}

// publishN publishes "m1".."mN".
func (s *testServer) publishN(t testing.TB, topic string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		s.publish(t, topic, fmt.Sprintf("m%d", i))
	}
}

// waitSubscribers waits until topic has n subscribers, so that a test
// publishes only after its subscription exists.
func (s *testServer) waitSubscribers(t testing.TB, topic string, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d subscribers on %s", n, topic), func() bool {
		tp := s.b.Lookup(topic)
		return tp != nil && tp.Stats().Subscribers == n
	})
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// subscribers reads ringcast_subscribers{transport}.
func (s *testServer) subscribers(transport string) float64 {
	return testutil.ToFloat64(s.e.m.subscribers.WithLabelValues(transport))
}

// readMsg reads one message and fails unless it is of type want.
func readMsg(t testing.TB, c *websocket.Conn, want int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, p, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != want {
		t.Fatalf("message type %d, want %d (payload %q)", typ, want, p)
	}
	return string(p)
}

// readClose reads until the close frame and returns its code.
func readClose(t testing.TB, c *websocket.Conn) int {
	t.Helper()
	code, err := closeCode(c)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// closeCode reads until the close frame and returns its code; it may run
// on any goroutine.
func closeCode(c *websocket.Conn) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			return 0, fmt.Errorf("want a close frame, got %w", err)
		}
		return ce.Code, nil
	}
}

// envelopeJSON is the wire envelope, for decoding in tests.
type envelopeJSON struct {
	Topic   string            `json:"topic"`
	Seq     uint64            `json:"seq"`
	Epoch   string            `json:"epoch"`
	ID      string            `json:"id"`
	Time    string            `json:"time"`
	Data    *string           `json:"data"`
	DataB64 *string           `json:"data_b64"`
	Attrs   map[string]string `json:"attrs"`
}

func decodeEnvelope(t testing.TB, s string) envelopeJSON {
	t.Helper()
	var env envelopeJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("envelope %s: %v", s, err)
	}
	return env
}

// sseStream is an open SSE response read event by event.
type sseStream struct {
	resp *http.Response
	r    *bufio.Reader
}

// openSSE opens an SSE stream and fails unless it answers 200.
func (s *testServer) openSSE(t testing.TB, topic, query string, h http.Header) *sseStream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url("http", topic, "sse", query), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SSE %s?%s: %d %s", topic, query, resp.StatusCode, b)
	}
	return &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads one event (or comment block) up to its blank line and returns
// its lines.
func (st *sseStream) next(t testing.TB) []string {
	t.Helper()
	var lines []string
	for {
		line, err := st.r.ReadString('\n')
		if err != nil {
			t.Fatalf("SSE read after %q: %v", lines, err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return lines
		}
		lines = append(lines, line)
	}
}

// nextEvent skips comments and returns the next event's lines.
func (st *sseStream) nextEvent(t testing.TB) []string {
	t.Helper()
	for {
		ev := st.next(t)
		if !strings.HasPrefix(ev[0], ":") {
			return ev
		}
	}
}

// get does a GET and returns the status and body.
func (s *testServer) get(t testing.TB, url string, h http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
