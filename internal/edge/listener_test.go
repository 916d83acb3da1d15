package edge

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/internal/edge/edgetest"
)

// listen starts a Listener on a loopback port and returns it with a
// channel of its accepted connections, each already read from once (so
// admitted) by a goroutine that then hands it over with the line it read.
func listen(t *testing.T, cfg Config) (*Listener, chan accepted) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(ln, cfg)
	out := make(chan accepted, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			Of(c).Admit() // as the server does when the first request starts
			line, err := bufio.NewReader(c).ReadString('\n')
			out <- accepted{c: Of(c), nc: c, line: line, err: err}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for {
			select {
			case a := <-out:
				a.nc.Close()
			default:
				return
			}
		}
	})
	return l, out
}

// accepted is a connection the listener accepted and what it read.
type accepted struct {
	c    *Conn
	nc   net.Conn
	line string
	err  error
}

// dialFrom connects to l from the local address ip.
func dialFrom(t *testing.T, l *Listener, ip string) net.Conn {
	t.Helper()
	return edgetest.DialFrom(t, l.Addr().String(), ip)
}

// next waits for the next accepted connection.
func next(t *testing.T, ch chan accepted) accepted {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
	}
	return accepted{}
}

func proxyHeader(t *testing.T, version byte, src string) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(version,
		&net.TCPAddr{IP: net.ParseIP(src), Port: 40000}, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080})
	var b writeBuffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

type writeBuffer []byte

func (b *writeBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func TestProxyProtocol(t *testing.T) {
	trusted, _ := ParseNets("trusted_proxies", []string{"127.0.0.1/32"})
	for _, tc := range []struct {
		name     string
		trusted  Nets
		from     string
		version  byte // 0: no header
		wantPeer string
		wantLine string // what the application reads first
	}{
		{"v1 from a trusted proxy", trusted, "127.0.0.1", 1, "203.0.113.7", "GET / HTTP/1.1\r\n"},
		{"v2 from a trusted proxy", trusted, "127.0.0.1", 2, "203.0.113.7", "GET / HTTP/1.1\r\n"},
		{"v2 IPv6 source", trusted, "127.0.0.1", 2, "2001:db8::7", "GET / HTTP/1.1\r\n"},
		{"trusted proxy without a header", trusted, "127.0.0.1", 0, "127.0.0.1", "GET / HTTP/1.1\r\n"},
		{"v1 from an untrusted peer: not parsed", trusted, "127.0.0.2", 1, "127.0.0.2", "PROXY TCP4 203.0.113.7 127.0.0.1 40000 8080\r\n"},
		{"v2 from an untrusted peer: not parsed", trusted, "127.0.0.2", 2, "127.0.0.2", ""},
		{"no trusted proxies: never parsed", nil, "127.0.0.1", 1, "127.0.0.1", "PROXY TCP4 203.0.113.7 127.0.0.1 40000 8080\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ch := listen(t, Config{TrustedProxies: tc.trusted})
			c := dialFrom(t, l, tc.from)
			var msg []byte
			if tc.version != 0 {
				src := "203.0.113.7"
				if tc.wantPeer == "2001:db8::7" {
					src = tc.wantPeer
				}
				msg = proxyHeader(t, tc.version, src)
			}
			msg = append(msg, "GET / HTTP/1.1\r\n"...)
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			a := next(t, ch)
			if a.err != nil {
				t.Fatal(a.err)
			}
			if a.c.Peer() != netip.MustParseAddr(tc.wantPeer) {
				t.Errorf("peer %s, want %s", a.c.Peer(), tc.wantPeer)
			}
			if tc.wantLine != "" && a.line != tc.wantLine {
				t.Errorf("read %q, want %q", a.line, tc.wantLine)
			}
			if tc.version == 2 && tc.wantLine == "" && a.line == "GET / HTTP/1.1\r\n" {
				t.Errorf("the v2 header of an untrusted peer was stripped")
			}
			if got := AddrOf(a.nc.RemoteAddr()); got != a.c.Peer() {
				t.Errorf("RemoteAddr %s, Peer %s", got, a.c.Peer())
			}
			a.nc.Close()
		})
	}
}

func TestConnectionLimits(t *testing.T) {
	m := NewMetrics(nil)
	l, ch := listen(t, Config{MaxConnections: 4, MaxConnectionsPerIP: 2, Metrics: m})
	var all []net.Conn
	conns := map[*Conn]net.Conn{}
	open := func(ip string) *Conn {
		t.Helper()
		c := dialFrom(t, l, ip)
		if _, err := io.WriteString(c, "hello\n"); err != nil {
			t.Fatal(err)
		}
		a := next(t, ch)
		all = append(all, a.nc)
		conns[a.c] = a.nc
		return a.c
	}
	a1, a2 := open("127.0.0.2"), open("127.0.0.2")
	if a1.Refusal() != Admitted || a2.Refusal() != Admitted {
		t.Fatalf("refusals %v %v", a1.Refusal(), a2.Refusal())
	}
	a3 := open("127.0.0.2")
	if a3.Refusal() != MaxConnectionsPerIP {
		t.Fatalf("third from one address: %v, want max_connections_per_ip", a3.Refusal())
	}
	conns[a3].Close()
	if b1 := open("127.0.0.3"); b1.Refusal() != Admitted {
		t.Fatalf("another address: %v", b1.Refusal())
	}
	open("127.0.0.3")
	// Four open: the next is over max_connections, whatever its address.
	if r := open("127.0.0.4").Refusal(); r != MaxConnections {
		t.Fatalf("fifth connection: %v, want max_connections", r)
	}
	// Close releases exactly once, however often it is called.
	conns[a1].Close()
	conns[a1].Close()
	if n := l.OpenFrom(netip.MustParseAddr("127.0.0.2")); n != 1 {
		t.Fatalf("%d connections counted from 127.0.0.2 after one closed twice, want 1", n)
	}
	// The refused fifth is still open and counts: four are open.
	if r := open("127.0.0.2").Refusal(); r != MaxConnections {
		t.Fatalf("with four open: %v, want max_connections", r)
	}
	for _, c := range all {
		c.Close()
	}
	if n := l.Open(); n != 0 {
		t.Fatalf("%d connections counted after all closed", n)
	}
	if n := l.OpenFrom(netip.MustParseAddr("127.0.0.3")); n != 0 {
		t.Fatalf("%d connections counted from 127.0.0.3 after all closed", n)
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(LimitMaxConnections)); got != 2 {
		t.Fatalf("max_connections rejections %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues(LimitMaxConnectionsPerIP)); got != 1 {
		t.Fatalf("max_connections_per_ip rejections %v, want 1", got)
	}
}

func TestCloseBeforeAdmitCountsNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(ln, Config{MaxConnections: 1})
	defer l.Close()
	client := dialFromAddr(t, l.Addr().String())
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := l.Open(); n != 0 {
		t.Fatalf("a connection closed before Admit counts %d", n)
	}
	Of(c).Admit()
	if n := l.Open(); n != 0 {
		t.Fatalf("Admit after Close counted the connection: %d", n)
	}
	if Of(client) != nil {
		t.Fatal("Of of a connection the Listener did not return")
	}
}

func dialFromAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestACLAtAdmission(t *testing.T) {
	acl, _ := ParseACL("-0.0.0.0/0,+127.0.0.2")
	trusted, _ := ParseNets("trusted_proxies", []string{"127.0.0.5"})
	m := NewMetrics(nil)
	l, ch := listen(t, Config{ACL: acl, TrustedProxies: trusted, Metrics: m})
	for _, tc := range []struct {
		from string
		want Refusal
	}{
		{"127.0.0.2", Admitted},
		{"127.0.0.3", Denied},
		{"127.0.0.5", Admitted}, // a trusted proxy: its requests are checked one by one
	} {
		c := dialFrom(t, l, tc.from)
		io.WriteString(c, "x\n")
		a := next(t, ch)
		if a.c.Refusal() != tc.want || a.c.Trusted() != (tc.from == "127.0.0.5") {
			t.Errorf("from %s: %v (trusted %v), want %v", tc.from, a.c.Refusal(), a.c.Trusted(), tc.want)
		}
		a.nc.Close()
	}
	if got := testutil.ToFloat64(m.denied); got != 1 {
		t.Errorf("ringcast_acl_denied_total %v, want 1", got)
	}
}

func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	first := edgetest.NewCert(t, "first")
	certFile, keyFile := first.Write(t, dir)
	cert, err := LoadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(nil)
	l, ch := listen(t, Config{Certificate: cert, Metrics: m})
	second := edgetest.NewCert(t, "second")
	handshake := func() (string, net.Conn) {
		t.Helper()
		raw := dialFrom(t, l, "127.0.0.1")
		c := tls.Client(raw, edgetest.ClientConfig(first, second))
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "hi\n"); err != nil {
			t.Fatal(err)
		}
		a := next(t, ch)
		if a.line != "hi\n" {
			t.Fatalf("read %q", a.line)
		}
		t.Cleanup(func() { a.nc.Close() })
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName, a.nc
	}
	if cn, _ := handshake(); cn != "first" {
		t.Fatalf("certificate %q, want first", cn)
	}
	second.Write(t, dir)
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	if cn, sc := handshake(); cn != "second" {
		t.Fatalf("after Reload: certificate %q, want second", cn)
	} else if _, ok := sc.(interface{ ConnectionState() tls.ConnectionState }); !ok {
		t.Fatalf("the TLS connection %T has no ConnectionState: fasthttp would not see TLS", sc)
	}
	// A broken file keeps the certificate in use.
	if err := writeFile(certFile, "not a certificate"); err != nil {
		t.Fatal(err)
	}
	if err := cert.Reload(); err == nil {
		t.Fatal("Reload of a broken certificate file succeeded")
	}
	if cn, _ := handshake(); cn != "second" {
		t.Fatalf("after a failed Reload: certificate %q, want second", cn)
	}
	if !cert.NotAfter().Equal(second.Leaf.NotAfter) {
		t.Fatalf("NotAfter %v, want %v", cert.NotAfter(), second.Leaf.NotAfter)
	}
	if _, err := LoadCertificate(certFile, keyFile); err == nil {
		t.Fatal("LoadCertificate of a broken file succeeded")
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }
