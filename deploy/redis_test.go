package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/redistest"
)

// TestRedisEngineBehindHAProxy is issue 7's end-to-end test: three
// instances on one redis-server behind HAProxy (deploy/haproxy.cfg),
// round-robin with no stickiness. Clients publish and subscribe only
// through HAProxy; every instance has the same seqs; one instance drains
// mid-stream and its subscribers resume on the others with
// from=last+1, losing and repeating nothing.
func TestRedisEngineBehindHAProxy(t *testing.T) {
	heavy(t)
	redisLB(t, func(t *testing.T, ins []*instance) *lb { return startHAProxy(t, ins, true) })
}

// TestRedisEngineBehindNginx is the same behind nginx (deploy/nginx.conf).
func TestRedisEngineBehindNginx(t *testing.T) {
	heavy(t)
	redisLB(t, startNginx)
}

// redisLB runs issue 7's checks behind the load balancer start starts.
func redisLB(t *testing.T, start func(*testing.T, []*instance) *lb) {
	addr := redisServer(t)
	ins := startInstances(t, 3, instanceOpts{trustedProxies: true, redis: addr})
	l := start(t, ins)
	web := newHTTPClient(clientIP, false)
	t.Cleanup(web.CloseIdleConnections)
	const topic = "orders"

	// Publishes through the load balancer land on every instance and get
	// contiguous seqs of one epoch.
	const first = 30
	servers := map[string]int{}
	var epoch string
	for i := range first {
		p := publish(t, web, l.url, topic, fmt.Sprintf("first-%d", i))
		if p.Seq != uint64(i+1) || (epoch != "" && p.Epoch != epoch) {
			t.Fatalf("publish %d through %s: seq %d epoch %s, want seq %d epoch %s", i, l.kind, p.Seq, p.Epoch, i+1, epoch)
		}
		epoch = p.Epoch
		servers[p.server]++
	}
	if len(servers) != len(ins) {
		t.Fatalf("round-robin spread the publishes over %v, want all %d instances", servers, len(ins))
	}
	// Every instance answers the same history.
	want := messagesOf(t, ins[0], topic)
	if len(want) != first {
		t.Fatalf("%s retains %d messages, want %d", ins[0].name, len(want), first)
	}
	for _, in := range ins[1:] {
		if got := messagesOf(t, in, topic); !sameMessages(got, want) {
			t.Fatalf("%s and %s disagree on the history:\n%v\n%v", ins[0].name, in.name, got, want)
		}
	}
	// And the same topic stats.
	for _, in := range ins {
		if st := statsOf(t, in, topic); st.Epoch != epoch || st.HeadSeq != first || st.OldestSeq != 1 {
			t.Fatalf("%s: topic stats %+v, want epoch %s, head_seq %d, oldest_seq 1", in.name, st, epoch, first)
		}
	}

	// Subscribers, all through the load balancer: raw WebSocket and SSE
	// ones that resume by hand (from=, Last-Event-ID) and check the wire
	// itself for repeats and gaps, made to land on the instance that will
	// drain; and the Go client's subscriptions, wherever they land.
	victim := ins[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	rawWS := newResumer(t, l, "ws", topic, victim)
	rawSSE := newResumer(t, l, "sse", topic, victim)
	for _, r := range []*resumer{rawWS, rawSSE} {
		wg.Go(func() { r.run(ctx) })
	}
	c, err := client.New(l.url, client.WithBackoff(50*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		events []client.Event
		err    error
	}
	results := make([]result, 6)
	for i := range results {
		tr := client.WebSocket
		if i%2 == 1 {
			tr = client.SSE
		}
		s, err := c.Subscribe(ctx, topic, client.SubscribeOptions{From: client.Seq(1), Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Go(func() {
			for {
				ev, err := s.Next(ctx)
				if err != nil {
					results[i].err = err
					return
				}
				results[i].events = append(results[i].events, ev)
				if m, ok := ev.(client.Message); ok && string(m.Data) == "end" {
					return
				}
			}
		})
	}
	waitSubscribers(t, ins, 2+len(results))
	// The raw subscribers that landed elsewhere were closed (newResumer):
	// those not yet noticed are not on the victim.
	onVictim := subscribersOn(t, victim)
	if onVictim < 3 {
		t.Fatalf("%s has %d subscribers: the two raw ones and none of the client's", victim.name, onVictim)
	}

	// Publish on, drain the victim mid-stream, and publish on until it has
	// exited and beyond.
	accepted := map[uint64]string{}
	var drained time.Time
	for i := 0; ; i++ {
		data := fmt.Sprintf("live-%d", i)
		p, err := tryPublish(web, l.url, topic, data)
		if err != nil {
			t.Logf("publish %d failed (not counted as accepted): %v", i, err)
		} else {
			accepted[p.Seq] = data
			if p.Epoch != epoch {
				t.Fatalf("publish %d: epoch %s, want %s", i, p.Epoch, epoch)
			}
		}
		if i == 40 {
			victim.drain(t)
			drained = time.Now()
		}
		if i > 40 && victim.p.exited() && len(accepted) > 100 {
			break
		}
		if i > 5000 {
			t.Fatalf("%s has not exited after %d publishes", victim.name, i)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := victim.p.waitExit(t, drainTimeout+3*time.Second); err != nil {
		t.Errorf("%s exited with %v after SIGTERM, want status 0", victim.name, err)
	}
	checkExit(t, victim, drained)
	end := publish(t, web, l.url, topic, "end")
	if end.server == victim.name {
		t.Fatalf("the last publish went to the drained %s", victim.name)
	}
	wg.Wait()

	// Each subscriber got every seq from 1 to end's, in order, once, and
	// the payloads of every accepted publish.
	check := func(who string, msgs []envelope) {
		t.Helper()
		if len(msgs) != int(end.Seq) {
			t.Fatalf("%s received %d messages, want %d", who, len(msgs), end.Seq)
		}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) || m.Epoch != epoch {
				t.Fatalf("%s: message %d has seq %d epoch %s, want seq %d epoch %s", who, i, m.Seq, m.Epoch, i+1, epoch)
			}
			if i < first && m.Data != fmt.Sprintf("first-%d", i) {
				t.Fatalf("%s: seq %d is %q", who, m.Seq, m.Data)
			}
			if d, ok := accepted[m.Seq]; ok && m.Data != d {
				t.Fatalf("%s: seq %d is %q, the publish that got it sent %q", who, m.Seq, m.Data, d)
			}
		}
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("client subscriber %d: %v", i, r.err)
		}
		var msgs []envelope
		for _, ev := range r.events {
			m, ok := ev.(client.Message)
			if !ok {
				t.Fatalf("client subscriber %d: got %v, want only messages (no gap, no reset)", i, ev)
			}
			msgs = append(msgs, envelope{Seq: m.Seq, Epoch: m.Epoch, Data: string(m.Data)})
		}
		check(fmt.Sprintf("client subscriber %d", i), msgs)
	}
	for _, r := range []*resumer{rawWS, rawSSE} {
		if r.err != nil {
			t.Fatalf("raw %s subscriber: %v", r.kind, r.err)
		}
		check("raw "+r.kind+" subscriber", r.msgs)
		if len(r.servers) < 2 || r.servers[0] != victim.name || r.servers[len(r.servers)-1] == victim.name {
			t.Fatalf("raw %s subscriber was served by %v: want %s, then another instance", r.kind, r.servers, victim.name)
		}
		t.Logf("raw %s subscriber: served by %v; disconnects: %v", r.kind, r.servers, r.disconnects)
	}
	t.Logf("%d publishes accepted during the drain run; %d seqs in all", len(accepted), end.Seq)
	// The survivors still agree.
	want = messagesOf(t, ins[1], topic)
	if got := messagesOf(t, ins[2], topic); !sameMessages(got, want) {
		t.Fatalf("%s and %s disagree on the history", ins[1].name, ins[2].name)
	}
}

// messagesOf reads a topic's retained messages (up to 1000) from an
// instance directly.
func messagesOf(t *testing.T, in *instance, topic string) []envelope {
	t.Helper()
	resp, err := in.probe.Get(in.base + "/v1/topics/" + topic + "/messages?from=1&limit=1000")
	if err != nil {
		t.Fatalf("%s: /messages: %v", in.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: /messages: %s", in.name, resp.Status)
	}
	var out []envelope
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: /messages: %v", in.name, err)
	}
	return out
}

// topicStats is a topic as GET /v1/topics/{topic} shows it.
type topicStats struct {
	Epoch     string `json:"epoch"`
	HeadSeq   uint64 `json:"head_seq"`
	OldestSeq uint64 `json:"oldest_seq"`
}

// statsOf reads a topic's stats from an instance directly.
func statsOf(t *testing.T, in *instance, topic string) topicStats {
	t.Helper()
	var st topicStats
	resp, err := in.probe.Get(in.base + "/v1/topics/" + topic)
	if err != nil {
		t.Fatalf("%s: topic stats: %v", in.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: topic stats: %s", in.name, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("%s: topic stats: %v", in.name, err)
	}
	return st
}

// sameMessages compares two histories by seq, epoch, id and data.
func sameMessages(a, b []envelope) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || a[i].Epoch != b[i].Epoch || a[i].ID != b[i].ID || a[i].Data != b[i].Data {
			return false
		}
	}
	return true
}

// subscribersOn is an instance's ringcast_subscribers, all transports.
func subscribersOn(t *testing.T, in *instance) int {
	t.Helper()
	v, _ := in.metric(t, "ringcast_subscribers")
	return int(v)
}

// waitSubscribers waits until the instances hold at least n subscribers
// in all. (More: an SSE subscriber that went away is noticed at the next
// write, at worst the next heartbeat.)
func waitSubscribers(t *testing.T, ins []*instance, n int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%d subscribers", n), func() error {
		sum := 0
		for _, in := range ins {
			sum += subscribersOn(t, in)
		}
		if sum < n {
			return fmt.Errorf("%d subscribers", sum)
		}
		return nil
	})
}

// resumer is a raw subscriber through the load balancer that resumes by
// hand: WebSocket with from=<last+1>, SSE with Last-Event-ID. It records
// every message and fails on a repeat or a gap on the wire.
type resumer struct {
	l     *lb
	kind  string // "ws" or "sse"
	topic string
	ws    *wsConn
	sse   *sseConn
	web   *http.Client
	next  uint64 // the seq expected next
	msgs  []envelope
	err   error
	// servers are the instances that served each connection, in order;
	// disconnects say why each ended.
	servers     []string
	disconnects []string
}

// newResumer connects a resumer from seq 1, retrying until the load
// balancer puts it on want.
func newResumer(t *testing.T, l *lb, kind, topic string, want *instance) *resumer {
	t.Helper()
	r := &resumer{l: l, kind: kind, topic: topic, next: 1, web: newHTTPClient(clientIP, true)}
	for range 20 {
		if err := r.connect(); err != nil {
			t.Fatal(err)
		}
		if r.servers[len(r.servers)-1] == want.name {
			r.servers = r.servers[len(r.servers)-1:]
			return r
		}
		r.close()
	}
	t.Fatalf("the raw %s subscriber never landed on %s in 20 tries", kind, want.name)
	return nil
}

// connect opens one connection from r.next.
func (r *resumer) connect() error {
	q := url.Values{"format": {"json"}, "from": {strconv.FormatUint(r.next, 10)}}
	if r.kind == "ws" {
		ws, resp, err := wsDialer(clientIP).Dial("ws"+strings.TrimPrefix(r.l.url, "http")+"/v1/topics/"+r.topic+"/ws?"+q.Encode(), nil)
		if err != nil {
			return fmt.Errorf("raw WebSocket from %d: %w", r.next, err)
		}
		r.ws = &wsConn{ws: ws, server: resp.Header.Get(serverHeader)}
		r.servers = append(r.servers, r.ws.server)
		return nil
	}
	req, _ := http.NewRequest(http.MethodGet, r.l.url+"/v1/topics/"+r.topic+"/sse?format=json", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	if r.next > 1 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(r.next-1, 10))
	} else {
		req.URL.RawQuery += "&from=1"
	}
	resp, err := r.web.Do(req)
	if err != nil {
		cancel()
		return fmt.Errorf("raw SSE from %d: %w", r.next, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return fmt.Errorf("raw SSE from %d: %s", r.next, resp.Status)
	}
	r.sse = &sseConn{resp: resp, r: newReader(resp), cancel: cancel, server: resp.Header.Get(serverHeader)}
	r.servers = append(r.servers, r.sse.server)
	return nil
}

// close ends the current connection.
func (r *resumer) close() {
	if r.ws != nil {
		r.ws.ws.Close()
		r.ws = nil
	}
	if r.sse != nil {
		r.sse.cancel()
		r.sse.resp.Body.Close()
		r.sse = nil
	}
}

// run reads until the "end" message, reconnecting (after the server's
// hint, at most 3 s) whenever a connection ends, until ctx ends.
func (r *resumer) run(ctx context.Context) {
	defer r.close()
	for ctx.Err() == nil {
		var e envelope
		var err error
		if r.ws != nil {
			e, err = r.ws.next(20 * time.Second)
		} else {
			e, err = r.sse.next(20 * time.Second)
		}
		if err == nil {
			if e.Seq != r.next {
				r.err = fmt.Errorf("got seq %d, want %d (served by %v)", e.Seq, r.next, r.servers)
				return
			}
			r.next++
			r.msgs = append(r.msgs, e)
			if e.Data == "end" {
				return
			}
			continue
		}
		why := err.Error()
		if r.sse != nil && len(r.sse.retry) > 0 {
			why += fmt.Sprintf(" after retry: %d", r.sse.retry[len(r.sse.retry)-1])
		}
		r.disconnects = append(r.disconnects, why)
		r.close()
		for {
			time.Sleep(100 * time.Millisecond)
			if ctx.Err() != nil {
				r.err = ctx.Err()
				return
			}
			if err := r.connect(); err == nil {
				break
			} else {
				r.disconnects = append(r.disconnects, err.Error())
			}
		}
	}
	r.err = ctx.Err()
}

// TestRedisOutageBehindHAProxy stops the redis-server under two instances
// behind HAProxy and starts a new, empty one on the same port: meanwhile
// /readyz answers 503 on both and HAProxy shows them DOWN, while the
// subscribers already connected through it stay connected; afterwards
// HAProxy shows them UP, and the subscribers receive what is published
// next, after a Reset if the new Redis gave the topic a new epoch.
func TestRedisOutageBehindHAProxy(t *testing.T) {
	heavy(t)
	redis := redistest.Start(t)
	ins := startInstances(t, 2, instanceOpts{trustedProxies: true, redis: redis.Addr()})
	l := startHAProxy(t, ins, true)
	web := newHTTPClient(clientIP, true)
	const topic = "outage"
	c, err := client.New(l.url, client.WithBackoff(50*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	subs := subscribeFour(t, ctx, c, topic)
	var epoch string
	for i := range 4 {
		epoch = publish(t, web, l.url, topic, fmt.Sprintf("before-%d", i)).Epoch
	}
	for i, s := range subs {
		for j := range 4 {
			if m := nextMessage(t, ctx, s, fmt.Sprintf("subscriber %d, message %d", i, j)); m.Seq != uint64(j+1) {
				t.Fatalf("subscriber %d: seq %d, want %d", i, m.Seq, j+1)
			}
		}
	}

	redis.Kill()
	l.waitStatus(t, map[string]string{ins[0].name: "DOWN", ins[1].name: "DOWN"})
	for _, in := range ins {
		if code, err := in.readyz(); err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("%s: /readyz with Redis down: %d %v, want 503", in.name, code, err)
		}
	}
	if _, err := tryPublish(web, l.url, topic, "lost"); err == nil {
		t.Fatal("a publish was accepted while Redis was down")
	}
	// The subscribers are still connected to the instances.
	sum := 0
	for _, in := range ins {
		sum += subscribersOn(t, in)
	}
	if sum != len(subs) {
		t.Fatalf("%d subscribers left with Redis down, want %d", sum, len(subs))
	}

	redis.Restart() // empty: persistence is off
	l.waitStatus(t, map[string]string{ins[0].name: "UP", ins[1].name: "UP"})
	var after []published
	for i := range 4 {
		after = append(after, publish(t, web, l.url, topic, fmt.Sprintf("after-%d", i)))
	}
	t.Logf("epoch %s before the outage, %s after; seqs after: %d…%d", epoch, after[0].Epoch, after[0].Seq, after[len(after)-1].Seq)
	for i, s := range subs {
		got := 0
		for got < len(after) {
			ev := nextEvent(t, ctx, s, fmt.Sprintf("subscriber %d after the outage", i))
			switch ev := ev.(type) {
			case client.Reset:
				if ev.NewEpoch != after[0].Epoch {
					t.Fatalf("subscriber %d: %v, want a reset to %s", i, ev, after[0].Epoch)
				}
			case client.Message:
				p := after[got]
				if ev.Seq != p.Seq || ev.Epoch != p.Epoch || string(ev.Data) != fmt.Sprintf("after-%d", got) {
					t.Fatalf("subscriber %d: seq %d epoch %s %q, want seq %d epoch %s after-%d", i, ev.Seq, ev.Epoch, ev.Data, p.Seq, p.Epoch, got)
				}
				got++
			default:
				t.Fatalf("subscriber %d: unexpected %v after the outage", i, ev)
			}
		}
	}
}
