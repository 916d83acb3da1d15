package deploy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/edge/edgetest"
)

// testCert is a self-signed certificate for 127.0.0.1 (edgetest's), in
// the files the load balancers read.
type testCert struct {
	edgetest.Cert
	pem      string // certificate then key, as HAProxy's crt wants
	certFile string // certificate alone, as nginx's ssl_certificate wants
	keyFile  string
}

// newTestCert makes a certificate, in dir.
func newTestCert(t *testing.T, dir string) *testCert {
	t.Helper()
	c := &testCert{Cert: edgetest.NewCert(t, "ringcast deploy test"), pem: filepath.Join(dir, "ringcast.pem")}
	c.certFile, c.keyFile = c.Write(t, dir)
	if err := os.WriteFile(c.pem, append(append([]byte{}, c.CertPEM...), c.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsConfig trusts the certificate.
func (c *testCert) tlsConfig() *tls.Config { return edgetest.ClientConfig(c.Cert) }

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
	subs := subscribeFour(t, ctx, c, topic)
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
