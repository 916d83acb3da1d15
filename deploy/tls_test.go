package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/client"
)

// testCert is a self-signed certificate for 127.0.0.1, in the files the
// load balancers read.
type testCert struct {
	pem      string // certificate then key, as HAProxy's crt wants
	certFile string // certificate alone, as nginx's ssl_certificate wants
	keyFile  string
	pool     *x509.CertPool
}

// newTestCert makes a certificate valid for an hour, in dir.
func newTestCert(t *testing.T, dir string) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ringcast deploy test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	c := &testCert{
		pem:      filepath.Join(dir, "ringcast.pem"),
		certFile: filepath.Join(dir, "ringcast.crt"),
		keyFile:  filepath.Join(dir, "ringcast.key"),
		pool:     x509.NewCertPool(),
	}
	c.pool.AddCert(cert)
	for path, b := range map[string][]byte{c.pem: append(append([]byte{}, certPEM...), keyPEM...), c.certFile: certPEM, c.keyFile: keyPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// tlsConfig trusts the certificate.
func (c *testCert) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}
}

// newHTTPSClient is newHTTPClient over TLS, with HTTP/2 when the server
// offers it (ALPN).
func newHTTPSClient(ip string, c *testCert) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: c.tlsConfig(), ForceAttemptHTTP2: true},
		Timeout:   20 * time.Second,
	}
}

// wssDialer is wsDialer over TLS (HTTP/1.1: WebSocket's upgrade).
func wssDialer(ip string, c *testCert) *websocket.Dialer {
	d := wsDialer(ip)
	d.TLSClientConfig = c.tlsConfig()
	return d
}

// TestHAProxyTLSPassthrough runs deploy/haproxy-passthrough.cfg: two
// instances (redis engine) that serve TLS themselves, behind HAProxy in TCP
// mode with PROXY protocol v2 and health checks over TLS. Publishes and
// subscriptions over HTTPS and WSS through HAProxy carry the client's
// address; the ACL refuses by it; a drained instance's Go client
// subscribers move to the other over TLS and lose nothing.
func TestHAProxyTLSPassthrough(t *testing.T) {
	heavy(t)
	dir := t.TempDir()
	cert := newTestCert(t, dir)
	ins := startInstances(t, 2, instanceOpts{tls: cert, trustedProxies: true, acl: "-" + deniedIP, redis: redisServer(t)})
	l := newLB(t, "haproxy", t.TempDir()) // not dir: its own certificate would replace the instances'
	l.cert = cert                         // the instances' certificate: the clients and HAProxy's checks trust it
	l = startHAProxyWith(t, passthroughExample, l, ins, true)
	hc := newHTTPSClient(clientIP, cert)
	defer hc.CloseIdleConnections()
	const topic = "tls-passthrough"

	c, err := client.New(l.tlsURL, client.WithHTTPClient(hc), client.WithBackoff(50*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var subs []*client.Subscription
	for _, tr := range []client.Transport{client.WebSocket, client.SSE, client.WebSocket, client.SSE} {
		s, err := c.Subscribe(ctx, topic, client.SubscribeOptions{From: client.Seq(1), Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, s)
	}
	for _, in := range ins {
		if n := subscribersOn(t, in); n == 0 {
			t.Fatalf("round-robin put no subscriber on %s", in.name)
		}
	}
	for i := range 10 {
		publish(t, hc, l.tlsURL, topic, fmt.Sprintf("m-%d", i))
	}
	ins[0].drain(t)
	drained := time.Now()
	l.waitDrained(t, ins[0], ins[1])
	for i := 10; i < 20; i++ {
		publish(t, hc, l.tlsURL, topic, fmt.Sprintf("m-%d", i))
	}
	for i, s := range subs {
		for j := range 20 {
			m := nextMessage(t, ctx, s, fmt.Sprintf("subscriber %d, message %d", i, j))
			if m.Seq != uint64(j+1) || string(m.Data) != fmt.Sprintf("m-%d", j) || m.Attrs["remote_addr"] != clientIP {
				t.Fatalf("subscriber %d: got seq %d %q remote_addr %q, want seq %d m-%d from %s", i, m.Seq, m.Data, m.Attrs["remote_addr"], j+1, j, clientIP)
			}
		}
	}
	if err := ins[0].p.waitExit(t, drainTimeout+3*time.Second); err != nil {
		t.Errorf("%s exited with %v after SIGTERM, want status 0", ins[0].name, err)
	}
	checkExit(t, ins[0], drained)

	// The ACL judges the PROXY-protocol address inside TLS too.
	denied := newHTTPSClient(deniedIP, cert)
	defer denied.CloseIdleConnections()
	resp, err := denied.Get(l.tlsURL + "/v1/topics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /v1/topics from %s through HAProxy: %s, want 403", deniedIP, resp.Status)
	}
}
