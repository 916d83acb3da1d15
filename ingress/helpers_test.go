package ingress

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

func TestMain(m *testing.M) {
	// Some goroutines are fasthttp's, not ours: the server date updater
	// runs for the life of the process, the worker pool cleaner notices
	// Server.Shutdown only after sleeping MaxIdleWorkerDuration, and the
	// client's connection cleaners (http_poll sources) sleep up to 10 s
	// before they see they have nothing left to clean.
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

// testServer is a real fasthttp server on 127.0.0.1 with a tiny router in
// front of an Ingress and a real broker.
type testServer struct {
	url    string // http://127.0.0.1:port
	ws     string // ws://127.0.0.1:port
	in     *Ingress
	b      *broker.Broker
	reg    *prometheus.Registry
	conns  *httpx.ConnMetrics
	client *http.Client
}

func newTestServer(t testing.TB, bcfg broker.Config, icfg Config) *testServer {
	t.Helper()
	b, err := broker.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	conns := httpx.NewConnMetrics(reg)
	icfg.Broker, icfg.Conns, icfg.Registerer = b, conns, reg
	in, err := New(icfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The server's own limit is well above the ingress limits, so that
	// the tests reach the handlers' checks.
	srv := &fasthttp.Server{Handler: route(in), MaxRequestBodySize: 64 << 20}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	ts := &testServer{
		url:    "http://" + ln.Addr().String(),
		ws:     "ws://" + ln.Addr().String(),
		in:     in,
		b:      b,
		reg:    reg,
		conns:  conns,
		client: &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second},
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := in.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.client.CloseIdleConnections()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		// Shutdown closes only the listeners Serve has registered; one
		// that started late would accept forever.
		_ = ln.Close()
		<-served
		b.Close()
	})
	return ts
}

// route is the tiny router the tests put in front of the handlers.
func route(in *Ingress) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		rest, ok := strings.CutPrefix(string(ctx.Path()), "/v1/topics/")
		topic, suffix, _ := strings.Cut(rest, "/")
		switch {
		case ok && suffix == "" && ctx.IsPost():
			in.Publish(ctx, topic)
		case ok && suffix == "batch" && ctx.IsPost():
			in.Batch(ctx, topic)
		case ok && suffix == "ws":
			in.WebSocket(ctx, topic)
		default:
			httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no such route")
		}
	}
}

// errorBody is the contract's JSON error.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// post sends body to path with headers and returns the status, the
// response headers and the body.
func (ts *testServer) post(t testing.TB, path, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// decodeError parses a contract error body.
func decodeError(t testing.TB, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	if e.Error == "" || e.Code == "" {
		t.Fatalf("error body %q lacks error or code", b)
	}
	return e
}

// retained returns every message retained by topic, nil if the topic does
// not exist.
func (ts *testServer) retained(topic string) []*broker.Message {
	tp := ts.b.Lookup(topic)
	if tp == nil {
		return nil
	}
	buf := make([]*broker.Message, 1<<17)
	return buf[:tp.Retained(broker.Position{Kind: broker.Oldest}, buf)]
}

// head returns topic's head seq, 0 if it does not exist.
func (ts *testServer) head(topic string) uint64 {
	if tp := ts.b.Lookup(topic); tp != nil {
		return tp.Head()
	}
	return 0
}

// rejected returns ringcast_publish_rejected_total{code}.
func (ts *testServer) rejected(code string) float64 {
	return testutil.ToFloat64(ts.in.RejectedCounter(code))
}

// eventually fails the test unless cond holds within 5 seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wsClient is a WebSocket publisher whose reader goroutine answers pings
// and reports how the connection ended.
type wsClient struct {
	*websocket.Conn
	ended chan error // the read error that ended the connection
}

// dial opens a mode=pub connection on topic. With read false nothing reads
// the connection, so it answers no ping.
func (ts *testServer) dial(t testing.TB, topic string, read bool, header http.Header) *wsClient {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(ts.ws+"/v1/topics/"+topic+"/ws?mode=pub", header)
	if err != nil {
		t.Fatalf("dial: %v (response %v)", err, resp)
	}
	wc := &wsClient{Conn: c, ended: make(chan error, 1)}
	t.Cleanup(func() { _ = c.Close() })
	if read {
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					wc.ended <- err
					return
				}
			}
		}()
	}
	return wc
}

// closeCode waits for the connection to end, closes it as a client does
// after the close handshake, and returns the close code the server sent,
// or -1 if it ended without one.
func (wc *wsClient) closeCode(t testing.TB) int {
	t.Helper()
	select {
	case err := <-wc.ended:
		_ = wc.Close()
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code
		}
		return -1
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not close the connection")
		return 0
	}
}

// readInOrder reads n messages from sub, which must start at seq 1 and
// follow one another, and returns their payloads.
func readInOrder(t testing.TB, sub *broker.Subscription, n int) []string {
	t.Helper()
	buf := make([]*broker.Message, 8)
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for len(got) < n {
		k, err := sub.Next(ctx, buf)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		for _, m := range buf[:k] {
			if m.Seq != uint64(len(got)+1) {
				t.Fatalf("seq %d after %d messages", m.Seq, len(got))
			}
			got = append(got, string(m.Data))
		}
	}
	return got
}
