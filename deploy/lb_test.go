package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/client"
)

// TestLoadBalancerMemoryEngine is issue 6's end-to-end test: two instances
// with the memory engine behind HAProxy (deploy/haproxy.cfg) with PROXY
// protocol v2. Clients publish and subscribe through HAProxy over
// WebSocket and SSE; the instances see the clients' own addresses (in
// remote_addr and in their ACL); then one instance drains while clients
// are connected, and they move to the other one through HAProxy.
func TestLoadBalancerMemoryEngine(t *testing.T) {
	heavy(t)
	memoryLB(t, func(t *testing.T, ins []*instance) *lb { return startHAProxy(t, ins, true) })
}

// TestNginxMemoryEngine is the same behind nginx (deploy/nginx.conf),
// which passes the client's address in X-Forwarded-For.
func TestNginxMemoryEngine(t *testing.T) {
	heavy(t)
	memoryLB(t, startNginx)
}

// memoryLB runs issue 6's checks behind the load balancer that start
// starts.
func memoryLB(t *testing.T, start func(*testing.T, []*instance) *lb) {
	ins := startInstances(t, 2, instanceOpts{acl: "-" + deniedIP, trustedProxies: true, readyMaxConns: overloadConns})
	l := start(t, ins)
	web := newHTTPClient(clientIP, false)
	t.Cleanup(web.CloseIdleConnections)
	const wantAddr = clientIP

	t.Run("websocket", func(t *testing.T) {
		// Two subscribers: round-robin puts them on different instances,
		// so one shares the publisher's instance (the memory engine
		// keeps topics per instance).
		subs := []*wsConn{dialWS(t, clientIP, l.url, "ws-topic", "format=json"), dialWS(t, clientIP, l.url, "ws-topic", "format=json")}
		if subs[0].server == subs[1].server {
			t.Fatalf("round-robin put both subscribers on %s", subs[0].server)
		}
		pub := dialWS(t, clientIP, l.url, "ws-topic", "mode=pubsub&format=json")
		var sub *wsConn
		for _, s := range subs {
			if s.server == pub.server {
				sub = s
			}
		}
		if sub == nil {
			t.Fatalf("publisher on %q, subscribers on %q and %q", pub.server, subs[0].server, subs[1].server)
		}
		const n = 20
		for i := range n {
			if err := pub.ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "ws-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []*wsConn{sub, pub} { // pub gets its own back: echo is on by default
			for i := range n {
				e, err := c.next(10 * time.Second)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if e.Seq != uint64(i+1) || e.Data != fmt.Sprintf("ws-%d", i) {
					t.Fatalf("message %d: seq %d data %q, want seq %d data ws-%d", i, e.Seq, e.Data, i+1, i)
				}
				if got := e.Attrs["remote_addr"]; got != wantAddr {
					t.Fatalf("remote_addr %q, want the client's %s (HAProxy connects from %s)", got, wantAddr, proxyIP)
				}
			}
		}
	})

	t.Run("sse", func(t *testing.T) {
		subs := []*sseConn{openSSE(t, web, l.url, "sse-topic", "format=json"), openSSE(t, web, l.url, "sse-topic", "format=json")}
		if subs[0].server == subs[1].server {
			t.Fatalf("round-robin put both subscribers on %s", subs[0].server)
		}
		want := map[string][]published{}
		for i := range 20 {
			p := publish(t, web, l.url, "sse-topic", fmt.Sprintf("sse-%d", i))
			want[p.server] = append(want[p.server], p)
		}
		if len(want) != 2 {
			t.Fatalf("round-robin sent the publishes to %d instance(s), want 2", len(want))
		}
		for _, s := range subs {
			for i, p := range want[s.server] {
				e, err := s.next(10 * time.Second)
				if err != nil {
					t.Fatalf("%s: message %d: %v", s.server, i, err)
				}
				if e.Seq != p.Seq || e.Epoch != p.Epoch {
					t.Fatalf("%s: got seq %d epoch %s, the publish was answered seq %d epoch %s", s.server, e.Seq, e.Epoch, p.Seq, p.Epoch)
				}
				if got := e.Attrs["remote_addr"]; got != wantAddr {
					t.Fatalf("remote_addr %q, want the client's %s", got, wantAddr)
				}
			}
		}
	})

	t.Run("acl and remote_addr see the client's address", func(t *testing.T) { aclThroughProxy(t, l, ins) })

	t.Run("tls at the load balancer", func(t *testing.T) { tlsAtLB(t, l, wantAddr) })

	if l.kind == "haproxy" { // nginx has no active health checks
		t.Run("overload", func(t *testing.T) { overload(t, l, ins) })
	}

	t.Run("drain", func(t *testing.T) { drainMemory(t, l, ins) })
}

// overloadConns is the instances' limits.ready_max_connections: above
// what the other steps hold open to one instance (their subscribers and
// the load balancer's idle connections).
const overloadConns = 12

// overload holds more than overloadConns connections open to one
// instance: its /readyz answers 503 overloaded, HAProxy takes it out, and
// puts it back once they close.
func overload(t *testing.T, l *lb, ins []*instance) {
	busy, other := ins[0], ins[1]
	var conns []*wsConn
	for range overloadConns + 2 {
		conns = append(conns, dialWS(t, probeIP, "http://"+busy.addr, "overload-topic", ""))
	}
	resp, err := busy.probe.Get(busy.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "overloaded") {
		t.Fatalf("/readyz with %d connections open: %s %s, want 503 overloaded", len(conns), resp.Status, body)
	}
	l.waitStatus(t, map[string]string{busy.name: "DOWN", other.name: "UP"})
	web := newHTTPClient(clientIP, true)
	for i := range 4 {
		if p := publish(t, web, l.url, "overload-topic", fmt.Sprint(i)); p.server != other.name {
			t.Fatalf("publish %d went to the overloaded %s", i, p.server)
		}
	}
	for _, c := range conns {
		c.ws.Close()
	}
	l.waitStatus(t, map[string]string{busy.name: "UP", other.name: "UP"})
}

// tlsAtLB publishes and subscribes through the load balancer's TLS
// listener: SSE and publishes (over HTTP/2 with HAProxy) and a WebSocket.
func tlsAtLB(t *testing.T, l *lb, wantAddr string) {
	hc := newHTTPSClient(clientIP, l.cert)
	defer hc.CloseIdleConnections()
	sse := openSSE(t, hc, l.tlsURL, "tls-topic", "format=json")
	// Both examples offer HTTP/2.
	if sse.resp.ProtoMajor != 2 {
		t.Errorf("SSE over TLS went over %s, want HTTP/2", sse.resp.Proto)
	}
	var mine []published
	for i := range 4 {
		if p := publish(t, hc, l.tlsURL, "tls-topic", fmt.Sprintf("tls-%d", i)); p.server == sse.server {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("no publish went to the SSE subscriber's %s", sse.server)
	}
	for _, p := range mine {
		e, err := sse.next(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != p.Seq || e.Attrs["remote_addr"] != wantAddr {
			t.Fatalf("got seq %d remote_addr %q, want seq %d remote_addr %s", e.Seq, e.Attrs["remote_addr"], p.Seq, wantAddr)
		}
	}
	ws, _, err := wssDialer(clientIP, l.cert).Dial("wss://"+l.tlsAddr+"/v1/topics/tls-ws/ws?mode=pubsub&format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	e, err := (&wsConn{ws: ws}).next(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if e.Data != "over tls" || e.Attrs["remote_addr"] != wantAddr {
		t.Fatalf("echo %q remote_addr %q, want %q from %s", e.Data, e.Attrs["remote_addr"], "over tls", wantAddr)
	}
}

// aclThroughProxy checks that the instances' ACL judges the address
// HAProxy passes in the PROXY header: it denies only deniedIP, while every
// connection reaches the instances from HAProxy's own proxyIP.
func aclThroughProxy(t *testing.T, l *lb, ins []*instance) {
	denied := newHTTPClient(deniedIP, true)
	before := 0.0
	for _, in := range ins {
		v, _ := in.metric(t, "ringcast_acl_denied_total")
		before += v
	}
	for range 2 * len(ins) { // round-robin: every instance is asked
		resp, err := denied.Get(l.url + "/v1/topics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// 403 from the instance, or 502 from HAProxy when the instance
		// closed the connection: either way, refused.
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("GET /v1/topics from %s through HAProxy: %s, want 403 (or 502 after a closed connection)", deniedIP, resp.Status)
		}
		if _, err := tryPublish(denied, l.url, "acl-topic", "no"); err == nil {
			t.Fatalf("a publish from %s through HAProxy was accepted", deniedIP)
		}
	}
	if _, resp, err := wsDialer(deniedIP).Dial("ws"+strings.TrimPrefix(l.url, "http")+"/v1/topics/acl-topic/ws", nil); err == nil {
		t.Fatalf("a WebSocket from %s through HAProxy was upgraded", deniedIP)
	} else if resp != nil {
		resp.Body.Close()
	}
	// A client's own X-Forwarded-For changes nothing: through HAProxy the
	// PROXY address is the peer, an untrusted one whose header is
	// ignored; through nginx it is the left of nginx's entry, never read.
	for _, c := range []struct{ from, claims string }{{clientIP, deniedIP}, {deniedIP, clientIP}} {
		hc := newHTTPClient(c.from, true)
		req, _ := http.NewRequest(http.MethodPost, l.url+"/v1/topics/xff-topic", strings.NewReader("spoof"))
		req.Header.Set("X-Forwarded-For", c.claims)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case c.from == deniedIP && resp.StatusCode == http.StatusCreated:
			t.Fatalf("%s claiming X-Forwarded-For: %s was let in", c.from, c.claims)
		case c.from == clientIP && resp.StatusCode != http.StatusCreated:
			t.Fatalf("%s claiming X-Forwarded-For: %s: %s %s", c.from, c.claims, resp.Status, body)
		case c.from == clientIP:
			var p published
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			in := ins[0]
			if resp.Header.Get(serverHeader) == ins[1].name {
				in = ins[1]
			}
			msgs := messagesOf(t, in, "xff-topic")
			if len(msgs) == 0 || msgs[len(msgs)-1].Seq != p.Seq || msgs[len(msgs)-1].Attrs["remote_addr"] != clientIP {
				t.Fatalf("the spoofing publish from %s is %+v on %s, want remote_addr %s", clientIP, msgs, in.name, clientIP)
			}
		}
	}
	allowed := newHTTPClient(clientIP, true)
	resp, err := allowed.Get(l.url + "/v1/topics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/topics from %s through HAProxy: %s, want 200", clientIP, resp.Status)
	}
	after := 0.0
	for _, in := range ins {
		v, ok := in.metric(t, "ringcast_acl_denied_total")
		if !ok {
			t.Logf("%s has no ringcast_acl_denied_total", in.name)
		}
		after += v
	}
	// 2 GETs and 2 publishes per instance, the WebSocket and the spoofing
	// publish.
	if want := float64(4*len(ins) + 2); after-before < want {
		t.Errorf("ringcast_acl_denied_total grew by %v, want at least %v (one per denied request)", after-before, want)
	}
}

// drainMemory drains one of the instances with SIGTERM while clients of
// the Go client library are subscribed to it over WebSocket and SSE: they
// reconnect through HAProxy to the other instance, whose topic (memory
// engine) is another epoch: the client reports a Reset and goes on
// receiving. HAProxy marks the drained instance DOWN and sends it nothing
// more.
func drainMemory(t *testing.T, l *lb, ins []*instance) {
	const topic = "drain-topic"
	var mu sync.Mutex
	var disconnects []disconnect
	c, err := client.New(l.url, client.WithBackoff(50*time.Millisecond, time.Second), client.WithDialTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// From oldest: no stats request first, so that round-robin spreads the
	// subscriptions themselves, alternately.
	transports := []client.Transport{client.WebSocket, client.WebSocket, client.SSE, client.SSE}
	var subs []*client.Subscription
	for i, tr := range transports {
		s, err := c.Subscribe(ctx, topic, client.SubscribeOptions{
			From: client.Oldest, Transport: tr,
			OnDisconnect: func(err error, retryIn time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				disconnects = append(disconnects, disconnect{sub: i, tr: tr, err: err.Error(), retryIn: retryIn})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, s)
	}
	// Two messages on each instance, so that every subscriber learns its
	// instance's epoch.
	web := newHTTPClient(clientIP, true)
	perServer := map[string][]published{}
	for i := range 2 * len(ins) {
		p := publish(t, web, l.url, topic, fmt.Sprintf("before-%d", i))
		perServer[p.server] = append(perServer[p.server], p)
	}
	epochOf := map[string]string{}
	for srv, ps := range perServer {
		epochOf[ps[0].Epoch] = srv
	}
	subServer := make([]string, len(subs))
	for i, s := range subs {
		for j := range 2 {
			m := nextMessage(t, ctx, s, fmt.Sprintf("subscriber %d, message %d before the drain", i, j))
			subServer[i] = epochOf[m.Epoch]
		}
	}
	victim, survivor := ins[0], ins[1]
	onVictim := map[client.Transport]int{}
	for i, srv := range subServer {
		if srv == victim.name {
			onVictim[transports[i]]++
		}
	}
	if onVictim[client.WebSocket] == 0 || onVictim[client.SSE] == 0 {
		t.Fatalf("round-robin put no WebSocket or no SSE subscriber on %s: subscribers on %v", victim.name, subServer)
	}
	survivorEpoch := perServer[survivor.name][0].Epoch

	// Drain, and watch /readyz on the drained instance until it exits.
	start := time.Now()
	victim.drain(t)
	var probes []string
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		for !victim.p.exited() {
			code, err := victim.readyz()
			switch {
			case err != nil:
				probes = append(probes, "refused")
			default:
				probes = append(probes, fmt.Sprint(code))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	l.waitDrained(t, victim, survivor)
	t.Logf("%s sends %s nothing more %v after SIGTERM", l.kind, victim.name, time.Since(start).Round(time.Millisecond))

	// Everything published now goes to the survivor.
	var after []published
	for i := range 6 {
		p := publish(t, web, l.url, topic, fmt.Sprintf("after-%d", i))
		if p.server != survivor.name {
			t.Fatalf("publish %d after the drain went to %s", i, p.server)
		}
		after = append(after, p)
	}
	for i, s := range subs {
		moved := subServer[i] == victim.name
		if moved {
			// A Reset to the survivor's epoch, then its history from the
			// oldest retained: its two messages from before the drain.
			ev := nextEvent(t, ctx, s, fmt.Sprintf("subscriber %d after the drain", i))
			r, ok := ev.(client.Reset)
			if !ok || r.NewEpoch != survivorEpoch {
				t.Fatalf("subscriber %d moved from %s: got %#v, want a Reset to epoch %s", i, victim.name, ev, survivorEpoch)
			}
			for j := range 2 {
				m := nextMessage(t, ctx, s, fmt.Sprintf("subscriber %d, replay %d", i, j))
				if m.Epoch != survivorEpoch || m.Seq != uint64(j+1) {
					t.Fatalf("subscriber %d: replay %d: seq %d epoch %s", i, j, m.Seq, m.Epoch)
				}
			}
		}
		for j, p := range after {
			m := nextMessage(t, ctx, s, fmt.Sprintf("subscriber %d, message %d after the drain", i, j))
			if m.Seq != p.Seq || m.Epoch != p.Epoch || string(m.Data) != fmt.Sprintf("after-%d", j) {
				t.Fatalf("subscriber %d: got seq %d epoch %s %q, want seq %d epoch %s", i, m.Seq, m.Epoch, m.Data, p.Seq, p.Epoch)
			}
		}
	}
	if err := victim.p.waitExit(t, drainTimeout+3*time.Second); err != nil {
		t.Errorf("%s exited with %v after SIGTERM, want status 0", victim.name, err)
	}
	checkExit(t, victim, start)
	<-probeDone
	checkProbes(t, probes)
	mu.Lock()
	defer mu.Unlock()
	if len(disconnects) < onVictim[client.WebSocket]+onVictim[client.SSE] {
		t.Errorf("%d disconnects reported, want at least %d: %v", len(disconnects), onVictim[client.WebSocket]+onVictim[client.SSE], disconnects)
	}
	// Each moved subscriber was told when to come back (WebSocket: the
	// 1001 close reason; SSE: retry:), within half the drain timeout, and
	// the client waited at least that long.
	for _, d := range disconnects {
		t.Log(d)
		m := hintRE.FindStringSubmatch(d.err)
		if m == nil {
			t.Errorf("subscriber %d (%v) got no reconnect hint: %s", d.sub, d.tr, d.err)
			continue
		}
		hint, err := time.ParseDuration(m[1])
		if err != nil {
			t.Errorf("subscriber %d: hint %q: %v", d.sub, m[1], err)
			continue
		}
		if hint >= drainTimeout/2 || d.retryIn < hint {
			t.Errorf("subscriber %d (%v): hint %v (want under %v), the client retried in %v (want at least the hint)", d.sub, d.tr, hint, drainTimeout/2, d.retryIn)
		}
	}
}

// disconnect is one OnDisconnect call.
type disconnect struct {
	sub     int
	tr      client.Transport
	err     string
	retryIn time.Duration
}

// String describes d.
func (d disconnect) String() string {
	return fmt.Sprintf("subscriber %d (%v): %s; retry in %v", d.sub, d.tr, d.err, d.retryIn.Round(time.Millisecond))
}

// hintRE finds the drain hint in the Go client's disconnect error.
var hintRE = regexp.MustCompile(`the server asked to reconnect in ([0-9.]+[a-zµ]+)\)`)

// checkExit checks that victim exited within its drain_timeout (and a
// second's slack for a loaded machine) of start, its SIGTERM.
func checkExit(t *testing.T, victim *instance, start time.Time) {
	t.Helper()
	took := victim.p.at.Sub(start).Round(time.Millisecond)
	t.Logf("%s exited %v after SIGTERM (drain_timeout %v)", victim.name, took, drainTimeout)
	if took > drainTimeout+time.Second {
		t.Errorf("%s took %v to exit after SIGTERM, past its drain_timeout of %v", victim.name, took, drainTimeout)
	}
}

// checkProbes checks what the drained instance's /readyz answered after
// SIGTERM: once it stops answering 200 (503 draining, or a refused
// connection once the listener is closed), it never answers 200 again.
func checkProbes(t *testing.T, probes []string) {
	t.Helper()
	seen := map[string]int{}
	notReady := false
	for _, p := range probes {
		seen[p]++
		if p != "200" {
			notReady = true
		} else if notReady {
			t.Fatalf("/readyz answered 200 again after it had stopped: %v", probes)
		}
	}
	t.Logf("/readyz on the drained instance, probed every 20 ms until it exited: %v", seen)
}

// subscribeFour subscribes to topic from seq 1 four times, by WebSocket,
// SSE, WebSocket and SSE; the subscriptions are closed when the test ends.
func subscribeFour(t *testing.T, ctx context.Context, c *client.Client, topic string) []*client.Subscription {
	t.Helper()
	var subs []*client.Subscription
	for _, tr := range []client.Transport{client.WebSocket, client.SSE, client.WebSocket, client.SSE} {
		s, err := c.Subscribe(ctx, topic, client.SubscribeOptions{From: client.Seq(1), Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		subs = append(subs, s)
	}
	return subs
}

// nextEvent returns s's next event, failing the test after 20 s.
func nextEvent(t *testing.T, ctx context.Context, s *client.Subscription, what string) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return ev
}

// nextMessage returns s's next event, failing the test unless it is a
// Message.
func nextMessage(t *testing.T, ctx context.Context, s *client.Subscription, what string) client.Message {
	t.Helper()
	ev := nextEvent(t, ctx, s, what)
	m, ok := ev.(client.Message)
	if !ok {
		t.Fatalf("%s: got %#v, want a message", what, ev)
	}
	return m
}
