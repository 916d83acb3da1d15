package egress

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress/template"
)

// mirror is a websocket destination configuration for tests: pattern
// "t.>", quick reconnects and pings.
func mirror(url string) DestinationConfig {
	return DestinationConfig{
		Name: "mirror", Type: TypeWebSocket, Topics: []string{"t.>"}, URL: url,
		From: broker.Position{Kind: broker.Oldest}, Timeout: 2 * time.Second,
		PingInterval: 200 * time.Millisecond, Reconnect: Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}
}

func TestWSClientProtocolHeadersTemplate(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	peer := newWSPeer(t, nil, "other", "example-protocol")
	tmpl, err := template.Compile("$SEQ $TOPIC $MSG")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mirror(peer.url())
	cfg.Protocol, cfg.Template, cfg.UserAgent = "example-protocol", tmpl, "ringcast/test"
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cr3t"}
	ds := env.start(t, cfg)
	env.publish(t, "t.a", "one", "two")
	env.publish(t, "t.b", "three")
	waitFor(t, "3 confirmed frames", func() bool { return ds.Status()[0].Delivered == 3 })
	got := peer.got()
	slices.Sort(got)
	if want := []string{"1 t.a one", "1 t.b three", "2 t.a two"}; !slices.Equal(got, want) {
		t.Fatalf("frames %q, want %q", got, want)
	}
	peer.mu.Lock()
	h, proto := peer.header, peer.protocol
	peer.mu.Unlock()
	if proto != "example-protocol" || h.Get("Authorization") != "Bearer s3cr3t" || h.Get("User-Agent") != "ringcast/test" {
		t.Fatalf("protocol %q, header %v", proto, h)
	}
	waitFor(t, "cursors past everything", func() bool {
		st := ds.Status()[0]
		return st.Lag == 0 && st.State == StateUp && len(st.Cursors) == 2 && st.Cursors[0].Cursor == 3 && st.Cursors[1].Cursor == 2
	})
	if got := env.metric(t, "ringcast_messages_delivered_total", "transport", TransportWSClient); got != 3 {
		t.Fatalf("delivered{wsclient} %v", got)
	}
}

// TestWSClientPeerRestarts: the peer drops the connection abruptly in
// the middle of a stream, unread frames and all, and comes back a little
// later on the same address. Every message arrives at least once, and each
// connection sees its topic's messages in order.
func TestWSClientPeerRestarts(t *testing.T) {
	env := newDestEnv(t, broker.Config{RingSize: 64, PublishTimeout: time.Minute})
	peer := newWSPeer(t, nil)
	killed := make(chan struct{})
	peer.kill = func(n int) bool {
		if n == 100 {
			close(killed)
			return true
		}
		return false
	}
	tmpl, err := template.Compile("$SEQ")
	if err != nil {
		t.Fatal(err)
	}
	cfg := mirror(peer.url())
	cfg.Template = tmpl
	ds := env.start(t, cfg)
	const n = 1000
	published := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if err := env.b.Publish(t.Context(), "t.a", &broker.Message{Data: []byte("x")}); err != nil {
				published <- err
				return
			}
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		published <- nil
	}()
	<-killed
	time.Sleep(300 * time.Millisecond)
	if st := ds.Status()[0]; st.State == StateUp {
		t.Errorf("state %s while the peer is gone", st.State)
	}
	peer.restart()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every message confirmed", func() bool { return ds.Status()[0].Cursors[0].Cursor == n+1 })
	seen := map[int]bool{}
	frames := peer.got()
	for _, f := range frames {
		seq, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("frame %q", f)
		}
		seen[seq] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Fatalf("seq %d never arrived (%d frames)", i, len(frames))
		}
	}
	// Each connection's frames rise by one; a new connection may start
	// lower, at the first frame the last one did not confirm.
	for i := 1; i < len(frames); i++ {
		a, _ := strconv.Atoi(frames[i-1])
		b, _ := strconv.Atoi(frames[i])
		if b != a+1 && b > a {
			t.Fatalf("gap: frame %d after %d", b, a)
		}
	}
	peer.mu.Lock()
	dials := peer.dials
	peer.mu.Unlock()
	if st := ds.Status()[0]; dials < 2 || st.Delivered < n || st.Lag != 0 {
		t.Fatalf("%d dials, status %+v", dials, st)
	}
}

// TestWSClientReconnectsUntilUp: a peer that is not there yet is dialed
// again with backoff until it is, and nothing published meanwhile is lost.
func TestWSClientReconnectsUntilUp(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	peer := newWSPeer(t, nil)
	peer.stop()
	ds := env.start(t, mirror(peer.url()))
	env.publish(t, "t.a", numbered("m", 5)...)
	waitFor(t, "a failed dial", func() bool { return strings.Contains(ds.Status()[0].LastError, "dial ws://") })
	peer.restart()
	waitFor(t, "5 confirmed", func() bool { return ds.Status()[0].Delivered == 5 })
	if got := peer.got(); !slices.Equal(got, numbered("m", 5)) {
		t.Fatalf("frames %v", got)
	}
}

func TestWSClientTLS(t *testing.T) {
	pki := newPKI(t)
	caSigned := newWSPeer(t, serverTLS(pki.server, nil))
	selfSigned := newWSPeer(t, serverTLS(pki.selfSigned, nil))
	mtls := newWSPeer(t, serverTLS(pki.server, pki.roots))
	ca := pki.file("ca.pem")
	for _, c := range []struct {
		name  string
		peer  *wsPeer
		files ClientTLSFiles
		fail  string // "" when delivery works
	}{
		{"no CA", caSigned, ClientTLSFiles{}, "certificate signed by unknown authority"},
		{"CA", caSigned, ClientTLSFiles{CAFile: ca}, ""},
		{"self-signed refused", selfSigned, ClientTLSFiles{CAFile: ca}, "certificate"},
		{"allow_self_signed", selfSigned, ClientTLSFiles{CAFile: ca, AllowSelfSigned: true}, ""},
		{"allow_self_signed still verifies a chain", caSigned, ClientTLSFiles{CAFile: ca, AllowSelfSigned: true}, ""},
		{"allow_self_signed refuses an untrusted chain", caSigned, ClientTLSFiles{AllowSelfSigned: true}, "neither trusted nor self-signed"},
		{"insecure", selfSigned, ClientTLSFiles{InsecureSkipVerify: true}, ""},
		{"client cert", mtls, ClientTLSFiles{CAFile: ca, CertFile: pki.file("client.pem"), KeyFile: pki.file("client-key.pem")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newDestEnv(t, broker.Config{})
			cfg := mirror(c.peer.url())
			var err error
			if cfg.TLS, err = c.files.Config("127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			ds := env.start(t, cfg)
			env.publish(t, "t.a", c.name)
			if c.fail == "" {
				waitFor(t, "delivery", func() bool { return ds.Status()[0].Delivered == 1 })
				return
			}
			waitFor(t, "a TLS failure", func() bool { return ds.Status()[0].LastError != "" })
			if st := ds.Status()[0]; st.Delivered != 0 || !strings.Contains(st.LastError, c.fail) {
				t.Fatalf("status %+v, want a failure with %q", st, c.fail)
			}
		})
	}
}

func TestClientTLSFilesErrors(t *testing.T) {
	pki := newPKI(t)
	if c, err := (ClientTLSFiles{}).Config(""); c != nil || err != nil {
		t.Fatalf("zero: %v %v", c, err)
	}
	for _, c := range []struct {
		files ClientTLSFiles
		want  string
	}{
		{ClientTLSFiles{CAFile: pki.file("nope.pem")}, "tls.ca_file"},
		{ClientTLSFiles{CAFile: pki.file("client-key.pem")}, "holds no PEM certificate"},
		{ClientTLSFiles{CertFile: pki.file("client.pem"), KeyFile: pki.file("server-key.pem")}, "tls.cert_file and tls.key_file"},
	} {
		if _, err := c.files.Config("127.0.0.1"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.files, err, c.want)
		}
	}
}

// TestWSClientNoPong: a peer that never answers pings confirms nothing and
// is dropped after two ping intervals.
func TestWSClientNoPong(t *testing.T) {
	env := newDestEnv(t, broker.Config{})
	peer := newWSPeer(t, nil)
	// Reading is what answers pings: a peer that stops reading after its
	// first frame answers none.
	hold := make(chan struct{})
	defer close(hold)
	peer.kill = func(int) bool { <-hold; return false }
	ds := env.start(t, mirror(peer.url()))
	env.publish(t, "t.a", "x")
	waitFor(t, "the no-pong error", func() bool { return strings.Contains(ds.Status()[0].LastError, errNoPong.Error()) })
	if st := ds.Status()[0]; st.Delivered != 0 || st.Lag != 1 {
		t.Fatalf("status %+v", st)
	}
}
