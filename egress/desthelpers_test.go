package egress

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcast/ringcast/broker"
)

// destEnv is a broker and an Egress for destination tests.
type destEnv struct {
	b   *broker.Broker
	e   *Egress
	reg *prometheus.Registry
}

// newDestEnv makes a broker, closed when the test ends, and an Egress.
func newDestEnv(t testing.TB, bcfg broker.Config) *destEnv {
	t.Helper()
	b, err := broker.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	env := &destEnv{b: b, reg: prometheus.NewRegistry()}
	if env.e, err = New(Config{Broker: b, Registerer: env.reg}); err != nil {
		t.Fatal(err)
	}
	return env
}

// start makes and starts destinations, shut down (before the broker
// closes) when the test ends.
func (env *destEnv) start(t testing.TB, cfgs ...DestinationConfig) *Destinations {
	t.Helper()
	ds, err := env.e.NewDestinations(cfgs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ds.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ds.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ds
}

// publish publishes payloads to topic.
func (env *destEnv) publish(t testing.TB, topic string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if err := env.b.Publish(context.Background(), topic, &broker.Message{Data: []byte(p)}); err != nil {
			t.Fatalf("publish %q to %s: %v", p, topic, err)
		}
	}
}

// numbered returns "prefix1" to "prefixN".
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i+1)
	}
	return out
}

// metric returns the value of the sample of family name whose labels are
// labels (name, value pairs), or -1 if there is none.
func (env *destEnv) metric(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	families, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// quickRetry is a backoff for tests.
var quickRetry = Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}

// hookRequest is one request a receiver got.
type hookRequest struct {
	method, path string
	header       http.Header
	body         string
	at           time.Time
}

// receiver is a webhook target on 127.0.0.1 that records every request
// and answers as answer says (nil: 200). It can stop and start again on
// the same address.
type receiver struct {
	t      testing.TB
	addr   string
	tls    *tls.Config
	answer func(n int, r hookRequest) (int, http.Header) // n counts requests from 0

	mu   sync.Mutex
	reqs []hookRequest
	srv  *http.Server
	done chan struct{}
}

// newReceiver starts a receiver; with tlsCfg it serves HTTPS.
func newReceiver(t testing.TB, tlsCfg *tls.Config, answer func(n int, r hookRequest) (int, http.Header)) *receiver {
	t.Helper()
	r := &receiver{t: t, tls: tlsCfg, answer: answer}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

// url is the receiver's URL with path.
func (r *receiver) url(path string) string {
	if r.tls != nil {
		return "https://" + r.addr + path
	}
	return "http://" + r.addr + path
}

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), TLSConfig: r.tls, ErrorLog: newDiscardLogger()}
	done := make(chan struct{})
	r.mu.Lock()
	r.srv, r.done = srv, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		if r.tls != nil {
			_ = srv.ServeTLS(ln, "", "")
		} else {
			_ = srv.Serve(ln)
		}
	}()
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	hr := hookRequest{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), body: string(body), at: time.Now()}
	r.mu.Lock()
	n := len(r.reqs)
	r.reqs = append(r.reqs, hr)
	r.mu.Unlock()
	status, h := http.StatusOK, http.Header(nil)
	if r.answer != nil {
		status, h = r.answer(n, hr)
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
}

// stop shuts the receiver down gracefully: requests in progress finish.
func (r *receiver) stop() {
	r.mu.Lock()
	srv, done := r.srv, r.done
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	<-done
}

// restart serves again on the same address.
func (r *receiver) restart() {
	r.t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("listen again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

// requests returns what the receiver got so far.
func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// bodies returns the bodies of the requests answered with a success.
func (r *receiver) bodies() []string {
	var out []string
	for _, q := range r.requests() {
		out = append(out, q.body)
	}
	return out
}

// testPKI is a certificate authority, a server certificate and a client
// certificate it signed, and a self-signed server certificate, all for
// 127.0.0.1, made for one test, with their PEM files in dir.
type testPKI struct {
	dir        string
	roots      *x509.CertPool
	server     tls.Certificate
	client     tls.Certificate
	selfSigned tls.Certificate
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), roots: x509.NewCertPool()}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ringcast test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.roots.AddCert(ca)
	p.write(t, "ca.pem", "CERTIFICATE", caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string) tls.Certificate {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		p.write(t, name+".pem", "CERTIFICATE", der)
		p.write(t, name+"-key.pem", "EC PRIVATE KEY", keyDER)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p.server = leaf(2, x509.ExtKeyUsageServerAuth, ca, caKey, "server")
	p.client = leaf(3, x509.ExtKeyUsageClientAuth, ca, caKey, "client")
	p.selfSigned = leaf(4, x509.ExtKeyUsageServerAuth, nil, nil, "self")
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *testPKI) write(t testing.TB, name, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// file is the path of one of p's PEM files.
func (p *testPKI) file(name string) string { return filepath.Join(p.dir, name) }

// serverTLS is a server configuration with cert; with clientCAs the client
// must present a certificate they signed.
func serverTLS(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		c.ClientCAs, c.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	return c
}

// wsPeer is a WebSocket server on 127.0.0.1 that records the frames it
// reads. kill, when set, is asked after each frame whether to drop the
// connection at once, unread data and all, and stop listening.
type wsPeer struct {
	t        testing.TB
	addr     string
	tls      *tls.Config
	upgrader websocket.Upgrader

	mu       sync.Mutex
	frames   []string
	header   http.Header // of the last handshake
	protocol string      // chosen in the last handshake
	dials    int
	kill     func(frames int) bool
	srv      *http.Server
	conns    map[*websocket.Conn]struct{}
	wg       sync.WaitGroup
}

func newWSPeer(t testing.TB, tlsCfg *tls.Config, protocols ...string) *wsPeer {
	t.Helper()
	p := &wsPeer{t: t, tls: tlsCfg, conns: map[*websocket.Conn]struct{}{}}
	p.upgrader = websocket.Upgrader{Subprotocols: protocols}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.stop()
		p.wg.Wait()
	})
	return p
}

// url is the peer's URL.
func (p *wsPeer) url() string {
	if p.tls != nil {
		return "wss://" + p.addr + "/in"
	}
	return "ws://" + p.addr + "/in"
}

func (p *wsPeer) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), TLSConfig: p.tls, ErrorLog: newDiscardLogger()}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	p.wg.Go(func() {
		if p.tls != nil {
			_ = srv.ServeTLS(ln, "", "")
		} else {
			_ = srv.Serve(ln)
		}
	})
}

func (p *wsPeer) handle(w http.ResponseWriter, r *http.Request) {
	c, err := p.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.dials++
	p.header, p.protocol = r.Header.Clone(), c.Subprotocol()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		_ = c.Close()
	}()
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.frames = append(p.frames, string(data))
		kill := p.kill != nil && p.kill(len(p.frames))
		p.mu.Unlock()
		if kill {
			p.stop()
			return
		}
	}
}

// stop closes the listener and every connection at once.
func (p *wsPeer) stop() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	conns := make([]*websocket.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	for _, c := range conns {
		_ = c.NetConn().Close()
	}
}

// restart listens again on the same address.
func (p *wsPeer) restart() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// got returns the frames read so far.
func (p *wsPeer) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.frames...)
}

// newDiscardLogger is an http.Server error log that drops everything
// (TLS handshake failures are expected in these tests).
func newDiscardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
