package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pires/go-proxyproto"

	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/edge/edgetest"
)

// rawFrom opens a TCP connection to ts from the local address ip.
func rawFrom(t testing.TB, ts *testServer, ip string) net.Conn {
	t.Helper()
	return edgetest.DialFrom(t, ts.Addr().String(), ip)
}

// exchange writes msg on c and reads one HTTP answer.
func exchange(t testing.TB, c net.Conn, msg []byte) answer {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", msg, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// doFrom sends one request from the local address ip with a fresh
// connection.
func doFrom(t testing.TB, ip, method, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, url, ip, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// proxyHeader is a PROXY protocol header of the given version whose
// source is src.
func proxyHeader(t testing.TB, version byte, src string) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(version, &net.TCPAddr{IP: net.ParseIP(src), Port: 40000}, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080})
	var b bytes.Buffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// metric returns the value of the sample line that starts with series
// ("name" or `name{labels}`) on ts's /metrics, or -1.
func metric(t testing.TB, ts *testServer, series string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(string(do(t, "GET", ts.base+"/metrics", "").body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// lastRemoteAddr returns the remote_addr attribute of topic's last
// message.
func lastRemoteAddr(t testing.TB, ts *testServer, topic string) string {
	t.Helper()
	a := do(t, "GET", ts.base+"/v1/topics/"+topic+"/messages?limit=1000", "")
	var msgs []struct{ Attrs map[string]string }
	if err := json.Unmarshal(a.body, &msgs); err != nil || len(msgs) == 0 {
		t.Fatalf("messages of %s: %d %s", topic, a.status, a.body)
	}
	return msgs[len(msgs)-1].Attrs["remote_addr"]
}

// eventually retries f until it returns nil or 10 s pass.
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEdgeRefusals sends what the network edge refuses, and what it lets
// through, with the exact status, code and client address. 127.0.0.1 is
// a trusted proxy; the ACL allows it and 127.0.0.2 only.
func TestEdgeRefusals(t *testing.T) {
	ts := start(t, Config{ACL: "-0.0.0.0/0,+127.0.0.1,+127.0.0.2", TrustedProxies: []string{"127.0.0.1/32"}, Limits: Limits{MaxHeaderBytes: 1024}})
	// Keep-alive requests: a refused connection must be closed by the
	// server.
	get := func(extra string) []byte {
		return []byte("GET /readyz HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n")
	}
	post := func(topic, extra string) []byte {
		return []byte("POST /v1/topics/" + topic + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" + extra + "\r\nhi")
	}
	for _, tc := range []struct {
		name     string
		from     string
		msg      []byte
		status   int
		code     string
		remote   string // the remote_addr of the message published, for a 201
		rejected bool   // counted in ringcast_publish_rejected_total{code}
		closed   bool   // the server closes the connection after answering
	}{
		{name: "denied peer", from: "127.0.0.3", msg: get(""), status: 403, code: "forbidden", closed: true},
		{name: "denied peer publishing", from: "127.0.0.3", msg: post("edge", ""), status: 403, code: "forbidden", rejected: true, closed: true},
		{name: "denied peer with a forged X-Forwarded-For", from: "127.0.0.3", msg: get("X-Forwarded-For: 127.0.0.2\r\n"), status: 403, code: "forbidden", closed: true},
		{name: "allowed peer", from: "127.0.0.2", msg: get(""), status: 200},
		{name: "untrusted peer: X-Forwarded-For ignored", from: "127.0.0.2", msg: post("edge", "X-Forwarded-For: 127.0.0.3\r\n"), status: 201, remote: "127.0.0.2"},
		{name: "trusted proxy for a denied client: its connection stays", from: "127.0.0.1", msg: get("X-Forwarded-For: 127.0.0.3\r\n"), status: 403, code: "forbidden"},
		{name: "trusted proxy: right-most untrusted address", from: "127.0.0.1", msg: post("edge", "X-Forwarded-For: 127.0.0.3, 127.0.0.2\r\n"), status: 201, remote: "127.0.0.2"},
		{name: "trusted proxy: several headers", from: "127.0.0.1", msg: post("edge", "X-Forwarded-For: 127.0.0.2\r\nX-Forwarded-For: 127.0.0.1\r\n"), status: 201, remote: "127.0.0.2"},
		{name: "trusted proxy without X-Forwarded-For", from: "127.0.0.1", msg: post("edge", ""), status: 201, remote: "127.0.0.1"},
		{name: "trusted proxy, garbage X-Forwarded-For", from: "127.0.0.1", msg: post("edge", "X-Forwarded-For: 127.0.0.3, unknown\r\n"), status: 201, remote: "127.0.0.1"},
		{name: "PROXY v1 from the trusted proxy, denied client", from: "127.0.0.1", msg: append(proxyHeader(t, 1, "127.0.0.3"), get("")...), status: 403, code: "forbidden", closed: true},
		{name: "PROXY v2 from the trusted proxy, denied client", from: "127.0.0.1", msg: append(proxyHeader(t, 2, "127.0.0.3"), post("edge", "")...), status: 403, code: "forbidden", rejected: true, closed: true},
		{name: "PROXY v1 from the trusted proxy", from: "127.0.0.1", msg: append(proxyHeader(t, 1, "127.0.0.2"), post("edge", "")...), status: 201, remote: "127.0.0.2"},
		{name: "PROXY v2 from the trusted proxy", from: "127.0.0.1", msg: append(proxyHeader(t, 2, "127.0.0.2"), post("edge", "X-Forwarded-For: 127.0.0.3\r\n")...), status: 201, remote: "127.0.0.2"},
		{name: "PROXY v1 from an untrusted peer", from: "127.0.0.2", msg: append(proxyHeader(t, 1, "127.0.0.9"), get("")...), status: 400, code: "bad_request"},
		{name: "PROXY v2 from an untrusted peer", from: "127.0.0.2", msg: append(proxyHeader(t, 2, "127.0.0.9"), get("")...), status: 400, code: "bad_request"},
		{name: "headers over max_header_bytes", from: "127.0.0.2", msg: get("X-Big: " + strings.Repeat("x", 2000) + "\r\n"), status: 431, code: "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := metric(t, ts, `ringcast_publish_rejected_total{code="forbidden"}`)
			c := rawFrom(t, ts, tc.from)
			a := exchange(t, c, tc.msg)
			if a.status != tc.status {
				t.Fatalf("%d %s, want %d", a.status, a.body, tc.status)
			}
			if tc.code != "" && a.errorCode(t) != tc.code {
				t.Fatalf("%s, want code %s", a.body, tc.code)
			}
			if tc.remote != "" {
				if got := lastRemoteAddr(t, ts, "edge"); got != tc.remote {
					t.Fatalf("remote_addr %q, want %q", got, tc.remote)
				}
			}
			if tc.closed {
				if n, err := c.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("a denied client's connection stays open: read %d, %v", n, err)
				}
			} else if tc.status != 400 && tc.status != 431 {
				// Still served: the same connection answers another request.
				if a := exchange(t, c, get("")); a.status != 200 {
					t.Errorf("the connection's next request: %d %s", a.status, a.body)
				}
			}
			after := metric(t, ts, `ringcast_publish_rejected_total{code="forbidden"}`)
			if tc.rejected != (after == before+1) {
				t.Errorf("publish_rejected_total{code=forbidden} went from %v to %v", before, after)
			}
		})
	}
	if got := metric(t, ts, "ringcast_acl_denied_total"); got != 6 {
		t.Errorf("ringcast_acl_denied_total %v, want 6", got)
	}
	if got := metric(t, ts, `ringcast_limit_rejected_total{limit="header_size"}`); got != 1 {
		t.Errorf("header_size rejections %v, want 1", got)
	}
}

// TestConnectionLimitsCountUpgraded holds WebSocket subscribers, which
// leave fasthttp, and checks they count against the limits until they
// close.
func TestConnectionLimitsCountUpgraded(t *testing.T) {
	ts := start(t, Config{Limits: Limits{MaxConnections: 5, MaxConnectionsPerIP: 2}})
	dialer := func(ip string) *websocket.Dialer {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &websocket.Dialer{NetDial: d.Dial, HandshakeTimeout: 5 * time.Second}
	}
	// A subscriber and a publisher from 127.0.0.2.
	var held []*websocket.Conn
	for _, mode := range []string{"sub", "pub"} {
		c, _, err := dialer("127.0.0.2").Dial(ts.ws+"/v1/topics/lim/ws?mode="+mode, nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	a := doFrom(t, "127.0.0.2", "GET", ts.base+"/v1/topics", "")
	if a.status != 503 || a.errorCode(t) != "overloaded" || a.header.Get("Retry-After") == "" {
		t.Fatalf("third connection from one address: %d %v %s", a.status, a.header, a.body)
	}
	if a := doFrom(t, "127.0.0.2", "POST", ts.base+"/v1/topics/lim", "x"); a.status != 503 || a.errorCode(t) != "overloaded" {
		t.Fatalf("publish over the limit: %d %s", a.status, a.body)
	}
	_, resp, err := dialer("127.0.0.2").Dial(ts.ws+"/v1/topics/lim/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("a third WebSocket from one address: %v %v", err, resp)
	}
	if a := doFrom(t, "127.0.0.3", "GET", ts.base+"/v1/topics", ""); a.status != 200 {
		t.Fatalf("another address: %d %s", a.status, a.body)
	}
	// The refused connections and the GET's count until the server has
	// closed them, which it does after answering: wait for them to go.
	eventually(t, "the short connections released", func() error {
		if n := ts.edgeLn.Open(); n != 2 {
			return fmt.Errorf("%d connections counted, want the 2 WebSockets", n)
		}
		return nil
	})
	// A pubsub WebSocket and an SSE stream from 127.0.0.3, a subscriber
	// from 127.0.0.4: five connections.
	for _, ip := range []string{"127.0.0.3", "127.0.0.4"} {
		c, _, err := dialer(ip).Dial(ts.ws+"/v1/topics/lim/ws?mode=pubsub", nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	sseDial := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}
	sseClient := &http.Client{Transport: &http.Transport{DialContext: sseDial.DialContext, DisableKeepAlives: true}}
	sse, err := sseClient.Get(ts.base + "/v1/topics/lim/sse")
	if err != nil || sse.StatusCode != 200 {
		t.Fatalf("SSE: %v %v", err, sse)
	}
	if a := doFrom(t, "127.0.0.5", "GET", ts.base+"/healthz", ""); a.status != 503 || a.errorCode(t) != "overloaded" {
		t.Fatalf("over max_connections: %d %s", a.status, a.body)
	}
	// Closing a subscriber gives its place back, once its actor has
	// closed the socket.
	held[0].Close()
	eventually(t, "a place freed", func() error {
		if a := doFrom(t, "127.0.0.2", "GET", ts.base+"/healthz", ""); a.status != 200 {
			return fmt.Errorf("%d %s", a.status, a.body)
		}
		return nil
	})
	for _, c := range held[1:] {
		c.Close()
	}
	sse.Body.Close()
	eventually(t, "every connection released", func() error {
		if n := ts.edgeLn.Open(); n != 0 {
			return fmt.Errorf("%d connections counted", n)
		}
		return nil
	})
	if got := metric(t, ts, `ringcast_publish_rejected_total{code="overloaded"}`); got != 1 {
		t.Errorf("publish_rejected_total{code=overloaded} %v, want 1", got)
	}
	if got := metric(t, ts, `ringcast_limit_rejected_total{limit="max_connections_per_ip"}`); got != 3 {
		t.Errorf("max_connections_per_ip rejections %v, want 3", got)
	}
	if got := metric(t, ts, `ringcast_limit_rejected_total{limit="max_connections"}`); got < 1 {
		t.Errorf("max_connections rejections %v, want at least 1", got)
	}
}

// TestPublishRateLimit checks 429 rate_limited on publish and batch, per
// address.
func TestPublishRateLimit(t *testing.T) {
	ts := start(t, Config{Limits: Limits{PublishRatePerIP: 3}})
	for i := range 3 {
		if a := doFrom(t, "127.0.0.2", "POST", ts.base+"/v1/topics/rate", "x"); a.status != 201 {
			t.Fatalf("message %d: %d %s", i+1, a.status, a.body)
		}
	}
	for _, tc := range []struct{ path, body string }{
		{"/v1/topics/rate", "x"},
		{"/v1/topics/rate/batch", "a\nb\n"},
	} {
		a := doFrom(t, "127.0.0.2", "POST", ts.base+tc.path, tc.body)
		if a.status != 429 || a.errorCode(t) != "rate_limited" {
			t.Fatalf("%s over the rate: %d %s", tc.path, a.status, a.body)
		}
		if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
		}
	}
	// A batch over the bucket, from a fresh address, is taken whole.
	if a := doFrom(t, "127.0.0.3", "POST", ts.base+"/v1/topics/rate/batch", "1\n2\n\n3\n4\n5\n"); a.status != 201 {
		t.Fatalf("a batch of 5 from a full bucket of 3: %d %s", a.status, a.body)
	}
	if a := doFrom(t, "127.0.0.3", "POST", ts.base+"/v1/topics/rate", "x"); a.status != 429 {
		t.Fatalf("after a batch of 5 at 3/s: %d %s", a.status, a.body)
	}
	if got := metric(t, ts, `ringcast_publish_rejected_total{code="rate_limited"}`); got != 3 {
		t.Errorf("publish_rejected_total{code=rate_limited} %v, want 3", got)
	}
	if got := metric(t, ts, `ringcast_limit_rejected_total{limit="publish_rate"}`); got != 3 {
		t.Errorf("limit_rejected_total{limit=publish_rate} %v, want 3", got)
	}
	if st := do(t, "GET", ts.base+"/v1/topics/rate", ""); !strings.Contains(string(st.body), `"head_seq":8`) {
		t.Errorf("stats %s, want head_seq 8 (3 + a batch of 5)", st.body)
	}
}

// TestWebSocketPublishPaced checks that a WebSocket publisher over the
// rate is slowed, not refused: every frame is accepted.
func TestWebSocketPublishPaced(t *testing.T) {
	ts := start(t, Config{Limits: Limits{PublishRatePerIP: 20}})
	for _, mode := range []string{"pub", "pubsub"} {
		c := dial(t, ts.ws+"/v1/topics/paced-"+mode+"/ws?mode="+mode)
		for i := range 30 {
			if err := c.WriteMessage(websocket.TextMessage, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, mode+": every frame accepted", func() error {
			st := do(t, "GET", ts.base+"/v1/topics/paced-"+mode, "")
			if !strings.Contains(string(st.body), `"head_seq":30`) {
				return fmt.Errorf("stats %s", st.body)
			}
			return nil
		})
	}
	if got := metric(t, ts, `ringcast_limit_delayed_total{limit="publish_rate"}`); got < 1 {
		t.Errorf("limit_delayed_total{limit=publish_rate} %v, want frames paced", got)
	}
}

// TestSlowlorisCutOff sends a request's headers one byte a second: the
// server gives up at read_timeout, answers 408, counts it and lets the
// connection go.
func TestSlowlorisCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes read_timeout (2 s)")
	}
	ts := start(t, Config{Limits: Limits{ReadTimeout: 2 * time.Second}})
	c := rawFrom(t, ts, "127.0.0.2")
	msg := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("x", 100) + "\r\n\r\n"
	cut := make(chan int, 1)
	go func() {
		sent := 0
		for ; sent < len(msg); sent++ {
			if _, err := c.Write([]byte{msg[sent]}); err != nil {
				break
			}
			time.Sleep(time.Second)
		}
		cut <- sent
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to the slow client: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 408 {
		t.Fatalf("slow client: %d, want 408", resp.StatusCode)
	}
	c.Close() // ends the writer
	if sent := <-cut; sent >= len(msg) {
		t.Fatalf("the whole request was sent before the cut-off")
	}
	// Served meanwhile and after: the slow client held nothing.
	if a := do(t, "GET", ts.base+"/healthz", ""); a.status != 200 {
		t.Fatalf("healthz: %d", a.status)
	}
	if got := metric(t, ts, `ringcast_limit_rejected_total{limit="read_timeout"}`); got != 1 {
		t.Errorf("read_timeout rejections %v, want 1", got)
	}
	eventually(t, "the slow connection released", func() error {
		if n := ts.edgeLn.Open(); n != 0 {
			return fmt.Errorf("%d connections open", n)
		}
		if g := metric(t, ts, `ringcast_connections{kind="http"}`); g != 1 { // the scrape's own
			return fmt.Errorf("ringcast_connections{kind=http} %v", g)
		}
		return nil
	})
}

// TestWriteTimeoutSparesStreams checks that write_timeout does not end
// SSE streams or WebSockets that outlive it.
func TestWriteTimeoutSparesStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("waits past the write timeout")
	}
	ts := start(t, Config{Limits: Limits{WriteTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond}})
	ws := dial(t, ts.ws+"/v1/topics/long/ws")
	sse := openSSE(t, ts.base+"/v1/topics/long/sse")
	time.Sleep(time.Second) // five write timeouts
	if a := do(t, "POST", ts.base+"/v1/topics/long", "still here"); a.status != 201 {
		t.Fatalf("publish: %d %s", a.status, a.body)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, p, err := ws.ReadMessage(); err != nil || string(p) != "still here" {
		t.Fatalf("WebSocket after the write timeout: %q %v", p, err)
	}
	if ev, err := sse.next(); err != nil || ev.data != "still here" {
		t.Fatalf("SSE after the write timeout: %+v %v", ev, err)
	}
}

// TestReadyzOverloaded checks /readyz's connection threshold, and that
// draining wins over it.
func TestReadyzOverloaded(t *testing.T) {
	ts := start(t, Config{Limits: Limits{ReadyMaxConnections: 2}})
	if a := do(t, "GET", ts.base+"/readyz", ""); a.status != 200 {
		t.Fatalf("idle: %d %s", a.status, a.body)
	}
	c1, c2 := dial(t, ts.ws+"/v1/topics/r/ws"), dial(t, ts.ws+"/v1/topics/r/ws")
	a := do(t, "GET", ts.base+"/readyz", "")
	if a.status != 503 || a.errorCode(t) != "overloaded" || !strings.Contains(string(a.body), "limits.ready_max_connections") {
		t.Fatalf("with three connections: %d %s", a.status, a.body)
	}
	c1.Close()
	c2.Close()
	eventually(t, "ready again", func() error {
		if a := do(t, "GET", ts.base+"/readyz", ""); a.status != 200 {
			return fmt.Errorf("%d %s", a.status, a.body)
		}
		return nil
	})
	heavy := start(t, Config{Limits: Limits{ReadyMaxHeapBytes: 1}})
	if a := do(t, "GET", heavy.base+"/readyz", ""); a.status != 503 || !strings.Contains(string(a.body), "limits.ready_max_heap_bytes") {
		t.Fatalf("over the heap threshold: %d %s", a.status, a.body)
	}
	heavy.draining.Store(true)
	defer heavy.draining.Store(false)
	if a := do(t, "GET", heavy.base+"/readyz", ""); a.status != 503 || a.errorCode(t) != "draining" {
		t.Fatalf("draining and overloaded: %d %s", a.status, a.body)
	}
}

// TestTLSWebSocketAndReload subscribes over WSS, publishes over HTTPS,
// replaces the certificate and reloads it: a new connection sees the new
// certificate while the old WebSocket keeps receiving.
func TestTLSWebSocketAndReload(t *testing.T) {
	dir := t.TempDir()
	first, second := edgetest.NewCert(t, "first"), edgetest.NewCert(t, "second")
	certFile, keyFile := first.Write(t, dir)
	ts := start(t, Config{TLS: config.ServerTLS{CertFile: certFile, KeyFile: keyFile}})
	addr := ts.Addr().String()
	clientTLS := edgetest.ClientConfig(first, second)
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS, DisableKeepAlives: true}}
	publish := func(body string) string {
		t.Helper()
		resp, err := https.Post("https://"+addr+"/v1/topics/secure", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("publish over HTTPS: %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	wss := &websocket.Dialer{TLSClientConfig: clientTLS, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := wss.Dial("wss://"+addr+"/v1/topics/secure/ws", nil)
	if err != nil {
		t.Fatalf("WSS: %v %v", err, resp)
	}
	defer ws.Close()
	if cn := publish("one"); cn != "first" {
		t.Fatalf("certificate %q, want first", cn)
	}
	read := func(want string) {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, p, err := ws.ReadMessage(); err != nil || string(p) != want {
			t.Fatalf("WSS read %q %v, want %q", p, err, want)
		}
	}
	read("one")
	second.Write(t, dir)
	if err := ts.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if cn := publish("two"); cn != "second" {
		t.Fatalf("after ReloadTLS: certificate %q, want second", cn)
	}
	read("two")
	if err := ws.WriteMessage(websocket.PingMessage, nil); err != nil {
		t.Fatalf("the old WebSocket after the reload: %v", err)
	}
	// A broken file keeps the certificate in use.
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS of a broken file succeeded")
	}
	if cn := publish("three"); cn != "second" {
		t.Fatalf("after a failed reload: certificate %q, want second", cn)
	}
	read("three")
	resp, err = https.Get("https://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`ringcast_tls_reloads_total{result="ok"} 1`, `ringcast_tls_reloads_total{result="error"} 1`} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
