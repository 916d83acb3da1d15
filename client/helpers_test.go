package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/server"
)

// TestMain checks that no goroutine outlives the tests. fasthttp's worker
// pool cleaner notices the server's Stop only after its sleep, and exits
// by itself.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, fasthttpCleaner)
}

var fasthttpCleaner = goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2")

// fasthttpWorker is an idle worker of a server still running, which a
// test that checks for leaks while its server runs lets go.
var fasthttpWorker = goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).workerFunc")

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// runServer starts a real server on cfg.Listen (127.0.0.1:0 when empty),
// with a drain timeout of 1 s unless cfg sets one.
func runServer(cfg server.Config) (*server.Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.DrainTimeout == 0 {
		// Drained subscribers are told to come back within half of it:
		// keep restarts in tests quick.
		cfg.DrainTimeout = time.Second
	}
	cfg.Logger = quiet
	s, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	return s, s.Start()
}

// stop drains s.
func stop(s *server.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// startServer runs a server until the test ends and returns its base URL.
func startServer(t testing.TB, cfg server.Config) (*server.Server, string) {
	t.Helper()
	s, err := runServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(s); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s, "http://" + s.Addr().String()
}

// newClient returns a client of base with backoffs short enough for
// tests.
func newClient(t testing.TB, base string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(base, append([]client.Option{client.WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// freeAddr returns a loopback address nothing listens on, for a server
// that must come back on the same port.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// subscribe subscribes and closes the subscription when the test ends.
func subscribe(t testing.TB, c *client.Client, topic string, opts client.SubscribeOptions) *client.Subscription {
	t.Helper()
	sub, err := c.Subscribe(context.Background(), topic, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next returns the next event, failing the test after 10 s.
func next(t testing.TB, sub *client.Subscription) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

// nextMessage returns the next event, which must be a message.
func nextMessage(t testing.TB, sub *client.Subscription) client.Message {
	t.Helper()
	ev := next(t, sub)
	m, ok := ev.(client.Message)
	if !ok {
		t.Fatalf("got %T %v, want a message", ev, ev)
	}
	return m
}

// publish publishes each payload, failing the test on error.
func publish(t testing.TB, c *client.Client, topic string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if _, err := c.Publish(context.Background(), topic, []byte(p), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// apiError returns err's *APIError, failing the test if it has none.
func apiError(t testing.TB, err error) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is no *APIError", err, err)
	}
	return ae
}

// proxy is a TCP proxy whose connections the test can cut, to drop a
// client's connection without restarting the server.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	down  bool // refuse new connections
	conns map[net.Conn]struct{}
}

// newProxy forwards a loopback port to target until the test ends.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// close stops the proxy and waits for its goroutines; it may be called
// more than once.
func (p *proxy) close() {
	p.ln.Close()
	p.cut(true)
	p.wg.Wait()
}

// url is the proxy's base URL.
func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			in.Close()
			out.Close()
			p.mu.Lock()
			delete(p.conns, in)
			delete(p.conns, out)
			p.mu.Unlock()
		}
		p.wg.Go(func() { pipe(out, in) })
		p.wg.Go(func() { pipe(in, out) })
	}
}

// cut closes every connection through the proxy, and refuses new ones
// while down.
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for c := range p.conns {
		c.Close()
	}
}

// setDown makes the proxy refuse (down) or forward new connections.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// newHTTPClient returns an HTTP client whose idle connections the test
// can close, so that their goroutines end.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}
