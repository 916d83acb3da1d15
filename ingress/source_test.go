package ingress

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
)

// sourceEnv is a broker and an Ingress for source tests.
type sourceEnv struct {
	b   *broker.Broker
	in  *Ingress
	reg *prometheus.Registry
}

func newSourceEnv(t testing.TB, bcfg broker.Config) *sourceEnv {
	t.Helper()
	b, err := broker.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	env := &sourceEnv{b: b, reg: prometheus.NewRegistry()}
	if env.in, err = New(Config{Broker: b, Registerer: env.reg, MaxMessageBytes: 1 << 10}); err != nil {
		t.Fatal(err)
	}
	return env
}

// start makes and starts sources, shut down (before the broker closes)
// when the test ends.
func (env *sourceEnv) start(t testing.TB, cfgs ...SourceConfig) *Sources {
	t.Helper()
	s, err := env.in.NewSources(cfgs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// payloads returns the payloads retained in topic.
func (env *sourceEnv) payloads(topic string) []string {
	tp := env.b.Lookup(topic)
	if tp == nil {
		return nil
	}
	buf := make([]*broker.Message, 1000)
	var out []string
	for _, m := range buf[:tp.Retained(broker.Position{Kind: broker.Oldest}, buf)] {
		out = append(out, string(m.Data))
	}
	return out
}

// upstream is an HTTP server whose current body a test sets; it records
// each request's headers and answers with the validators it is told to.
type upstream struct {
	*httptest.Server
	mu           sync.Mutex
	body         string
	etag         bool // answer with an ETag and honour If-None-Match
	lastModified bool // answer with Last-Modified and honour If-Modified-Since
	modified     time.Time
	reqs         []*http.Request
	fulls        int // answers with a body
}

func newUpstream(t testing.TB, etag, lastModified bool) *upstream {
	u := &upstream{etag: etag, lastModified: lastModified, body: "v1", modified: time.Now().Add(-time.Hour).Truncate(time.Second)}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(u.handle))
	u.Config.ErrorLog = log.New(io.Discard, "", 0)
	u.Start()
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(body string) {
	u.mu.Lock()
	u.body = body
	u.modified = u.modified.Add(time.Minute)
	u.mu.Unlock()
}

func (u *upstream) handle(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reqs = append(u.reqs, r.Clone(context.Background()))
	tag := `"` + u.body + `"`
	if u.etag {
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if u.lastModified {
		w.Header().Set("Last-Modified", u.modified.UTC().Format(http.TimeFormat))
		if since, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !u.modified.After(since) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	u.fulls++
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, u.body)
}

// requests returns how many requests came and how many got a body.
func (u *upstream) requests() (all, full int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs), u.fulls
}

func (u *upstream) request(i int) *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reqs[i]
}

// poll is an http_poll configuration for tests, polling every 10ms.
func poll(url string) SourceConfig {
	return SourceConfig{Name: "status", Type: TypeHTTPPoll, URL: url, Topic: "status", Interval: 10 * time.Millisecond, Timeout: 2 * time.Second}
}

func TestPollPublishesOnlyOnChange(t *testing.T) {
	for _, c := range []struct {
		name               string
		etag, lastModified bool
		header, value      string // a validator the second request must carry
	}{
		{"etag", true, false, "If-None-Match", `"v1"`},
		{"last-modified", false, true, "If-Modified-Since", ""},
		{"no validators", false, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newSourceEnv(t, broker.Config{})
			up := newUpstream(t, c.etag, c.lastModified)
			env.start(t, poll(up.URL))
			eventually(t, "5 polls", func() bool { n, _ := up.requests(); return n >= 5 })
			up.set("v2")
			eventually(t, "v2", func() bool { return len(env.payloads("status")) == 2 })
			n, _ := up.requests()
			eventually(t, "5 more polls", func() bool { m, _ := up.requests(); return m >= n+5 })
			if got := env.payloads("status"); !slices.Equal(got, []string{"v1", "v2"}) {
				t.Fatalf("published %v", got)
			}
			if c.header != "" {
				all, full := up.requests()
				if full != 2 {
					t.Errorf("%d of %d answers had a body; the validators should make the rest 304", full, all)
				}
				got := up.request(1).Header.Get(c.header)
				if got == "" || c.value != "" && got != c.value {
					t.Errorf("second request's %s: %q", c.header, got)
				}
			}
			if got := testutil.ToFloat64(env.in.m.publishedSource); got != 2 {
				t.Errorf("published{source} %v", got)
			}
			tp := env.b.Lookup("status")
			buf := make([]*broker.Message, 1)
			tp.Retained(broker.Position{Kind: broker.Oldest}, buf)
			if buf[0].Attrs[AttrSource] != "status" || buf[0].Attrs["content_type"] != "text/plain" {
				t.Errorf("attrs %v", buf[0].Attrs)
			}
		})
	}
}

func TestPollRequest(t *testing.T) {
	env := newSourceEnv(t, broker.Config{})
	up := newUpstream(t, false, false)
	cfg := poll(up.URL + "/api?x=1")
	cfg.Method, cfg.UserAgent = "POST", "ringcast/test"
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cr3t"}
	env.start(t, cfg)
	eventually(t, "a poll", func() bool { n, _ := up.requests(); return n >= 1 })
	r := up.request(0)
	if r.Method != "POST" || r.URL.Path != "/api" || r.URL.RawQuery != "x=1" || r.Header.Get("Authorization") != "Bearer s3cr3t" || r.Header.Get("User-Agent") != "ringcast/test" {
		t.Fatalf("request %s %s %v", r.Method, r.URL, r.Header)
	}
}

func TestPollRedirectsAndFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/r1", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/r2", http.StatusFound) })
	mux.HandleFunc("/r2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, strings.Repeat("x", 2<<10)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	env := newSourceEnv(t, broker.Config{})
	cfg := func(name, path string, redirects int) SourceConfig {
		c := poll(srv.URL + path)
		c.Name, c.Topic, c.MaxRedirects, c.Timeout = name, name, redirects, 100*time.Millisecond
		return c
	}
	env.start(t, cfg("within", "/r1", 2), cfg("beyond", "/r1", 1), cfg("failing", "/fail", 0), cfg("big", "/big", 0), cfg("slow", "/slow", 0))
	eventually(t, "the redirected body", func() bool { return slices.Equal(env.payloads("within"), []string{"ok"}) })
	time.Sleep(300 * time.Millisecond)
	for _, topic := range []string{"beyond", "failing", "big", "slow"} {
		if got := env.payloads(topic); len(got) != 0 {
			t.Errorf("%s published %v", topic, got)
		}
	}
}

func TestPollHTTPS(t *testing.T) {
	roots, cert := testCert(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secure") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	env := newSourceEnv(t, broker.Config{})
	trusted, untrusted := poll(srv.URL), poll(srv.URL)
	trusted.Name, trusted.Topic, trusted.TLS = "trusted", "trusted", &tls.Config{RootCAs: roots}
	untrusted.Name, untrusted.Topic = "untrusted", "untrusted"
	env.start(t, trusted, untrusted)
	eventually(t, "the body over TLS", func() bool { return slices.Equal(env.payloads("trusted"), []string{"secure"}) })
	if got := env.payloads("untrusted"); len(got) != 0 {
		t.Fatalf("published %v without trusting the CA", got)
	}
}

// testCert makes a CA and a certificate it signed for 127.0.0.1.
func testCert(t testing.TB) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, leafKey := key(), key()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return roots, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: leafKey}
}

// wsUpstream is a WebSocket server that sends each connection the frames
// of its next batch, then closes it (or holds it open, for the last).
type wsUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	batches  [][]string
	conns    int
	header   http.Header
	protocol string
	hold     chan struct{}
}

func newWSUpstream(t testing.TB, tlsCert *tls.Certificate, batches ...[]string) *wsUpstream {
	u := &wsUpstream{batches: batches, hold: make(chan struct{})}
	up := websocket.Upgrader{Subprotocols: []string{"feed"}}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		u.mu.Lock()
		n := u.conns
		u.conns++
		u.header, u.protocol = r.Header.Clone(), c.Subprotocol()
		u.mu.Unlock()
		if n >= len(u.batches) {
			<-u.hold
			return
		}
		for _, f := range u.batches[n] {
			if err := c.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
				return
			}
		}
		if n == len(u.batches)-1 {
			<-u.hold
		}
	}))
	u.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsCert != nil {
		u.TLS = &tls.Config{Certificates: []tls.Certificate{*tlsCert}}
		u.StartTLS()
	} else {
		u.Start()
	}
	t.Cleanup(func() {
		close(u.hold)
		u.CloseClientConnections()
		u.Close()
	})
	return u
}

func (u *wsUpstream) url() string { return "ws" + strings.TrimPrefix(u.URL, "http") + "/feed" }

func TestWebSocketSource(t *testing.T) {
	env := newSourceEnv(t, broker.Config{})
	// The first connection ends after three frames (and an empty one, which
	// is no message); the source dials again and reads the rest.
	up := newWSUpstream(t, nil, []string{"a", "b", "", "c"}, []string{"d", "e"})
	cfg := SourceConfig{
		Name: "feed", Type: TypeWebSocket, URL: up.url(), Topic: "sensors", Protocol: "feed",
		Headers: map[string]string{"Authorization": "Bearer s3cr3t"}, Reconnect: Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	}
	env.start(t, cfg)
	eventually(t, "5 messages", func() bool { return len(env.payloads("sensors")) == 5 })
	if got := env.payloads("sensors"); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("published %v", got)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.conns != 2 || up.protocol != "feed" || up.header.Get("Authorization") != "Bearer s3cr3t" || up.header.Get("User-Agent") != "ringcast" {
		t.Fatalf("%d connections, protocol %q, header %v", up.conns, up.protocol, up.header)
	}
	if got := testutil.ToFloat64(env.in.m.publishedSource); got != 5 {
		t.Errorf("published{source} %v", got)
	}
}

func TestWebSocketSourceTLS(t *testing.T) {
	roots, cert := testCert(t)
	up := newWSUpstream(t, &cert, []string{"secure"})
	env := newSourceEnv(t, broker.Config{})
	ok := SourceConfig{Name: "ok", Type: TypeWebSocket, URL: up.url(), Topic: "ok", TLS: &tls.Config{RootCAs: roots}}
	bad := SourceConfig{Name: "bad", Type: TypeWebSocket, URL: up.url(), Topic: "bad"}
	env.start(t, ok, bad)
	eventually(t, "the frame over TLS", func() bool { return slices.Equal(env.payloads("ok"), []string{"secure"}) })
	if got := env.payloads("bad"); len(got) != 0 {
		t.Fatalf("published %v without trusting the CA", got)
	}
}

// TestSourceBackpressure: a source whose topic is held full by a block
// subscriber waits, and publishes once the subscriber reads.
func TestSourceBackpressure(t *testing.T) {
	env := newSourceEnv(t, broker.Config{RingSize: 2, PublishTimeout: 20 * time.Millisecond, Rules: []broker.TopicRule{{Match: "sensors", AllowBlock: true}}})
	sub, err := env.b.Subscribe("sensors", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	up := newWSUpstream(t, nil, []string{"a", "b", "c", "d"})
	env.start(t, SourceConfig{Name: "feed", Type: TypeWebSocket, URL: up.url(), Topic: "sensors"})
	eventually(t, "a full ring", func() bool { return env.b.Lookup("sensors").Head() == 2 })
	time.Sleep(100 * time.Millisecond) // several publish timeouts
	var got []string
	buf := make([]*broker.Message, 4)
	for len(got) < 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := sub.Next(ctx, buf)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range buf[:n] {
			got = append(got, string(m.Data))
		}
	}
	if !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("read %v", got)
	}
}

func TestNewSourcesErrors(t *testing.T) {
	env := newSourceEnv(t, broker.Config{})
	ok := SourceConfig{Name: "s", Type: TypeHTTPPoll, URL: "http://127.0.0.1:1/", Topic: "t"}
	for _, c := range []struct {
		edit func(*SourceConfig)
		want string
	}{
		{func(c *SourceConfig) { c.Name = "" }, "the name is empty"},
		{func(c *SourceConfig) { c.Topic = "a b" }, "bad topic name"},
		{func(c *SourceConfig) { c.Type = "kafka" }, `type "kafka"`},
		{func(c *SourceConfig) { c.URL = "ws://x/" }, "needs http:// or https://"},
		{func(c *SourceConfig) { c.Type = TypeWebSocket }, "needs ws:// or wss://"},
		{func(c *SourceConfig) { c.URL = "x" }, "not an absolute URL"},
		{func(c *SourceConfig) { c.Method = "PUT" }, `method "PUT"`},
		{func(c *SourceConfig) {
			c.Type, c.URL, c.Reconnect = TypeWebSocket, "ws://x/", Backoff{Initial: time.Second, Max: time.Millisecond}
		}, "initial backoff"},
	} {
		cfg := ok
		c.edit(&cfg)
		if _, err := env.in.NewSources([]SourceConfig{cfg}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
	}
	if _, err := env.in.NewSources([]SourceConfig{ok, ok}, nil); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("duplicate names: %v", err)
	}
}
