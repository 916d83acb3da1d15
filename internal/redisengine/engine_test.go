package redisengine_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		// The webhook destination's fasthttp client keeps its idle-connection
		// cleaners sleeping for a while after it is done.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

func payload(seq uint64) string { return "m" + strconv.FormatUint(seq, 10) }

// fanOut publishes on a (single messages and batches) and checks that a
// WebSocket subscriber on b and an SSE subscriber on c get every message
// with the same seqs and payloads, in order.
func fanOut(t *testing.T, a, b, c *instance, topic string) {
	ws := subscribeWS(t, b, topic, "")
	sse := subscribeSSE(t, c, topic, "from=1")
	const n = 300
	var epoch string
	for seq := uint64(1); seq <= n; {
		if seq%50 == 0 && seq+9 <= n {
			var body strings.Builder
			for i := range uint64(10) {
				body.WriteString(payload(seq+i) + "\n")
			}
			r := do(t, http.MethodPost, a.base+"/v1/topics/"+topic+"/batch", body.String())
			if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"first_seq":`+strconv.FormatUint(seq, 10)) {
				t.Fatalf("batch at %d: %d %s", seq, r.status, r.body)
			}
			seq += 10
			continue
		}
		p := publish(t, a, topic, payload(seq))
		if p.Seq != seq {
			t.Fatalf("publish answered seq %d, want %d", p.Seq, seq)
		}
		epoch = p.Epoch
		seq++
	}
	got := map[string][]envelope{"ws on B": ws.take(t, n), "sse on C": sse.take(t, n)}
	for who, es := range got {
		checkRun(t, who, es, 1, payload)
		if es[0].Epoch != epoch || es[0].Topic != topic {
			t.Fatalf("%s: epoch %s topic %s, want %s %s", who, es[0].Epoch, es[0].Topic, epoch, topic)
		}
	}
	for i := range n {
		w, s := got["ws on B"][i], got["sse on C"][i]
		if w.ID != s.ID || w.Time != s.Time {
			t.Fatalf("seq %d: id/time %s %s on B, %s %s on C", w.Seq, w.ID, w.Time, s.ID, s.Time)
		}
	}
	// Every instance answers the same stats and messages.
	var stats []string
	for _, in := range []*instance{a, b, c} {
		r := do(t, http.MethodGet, in.base+"/v1/topics/"+topic, "")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"head_seq":300,"oldest_seq":1`) || !strings.Contains(string(r.body), epoch) {
			t.Fatalf("stats on %s: %d %s", in.base, r.status, r.body)
		}
		m := do(t, http.MethodGet, in.base+"/v1/topics/"+topic+"/messages?from=295", "")
		stats = append(stats, string(m.body))
	}
	if stats[0] != stats[1] || stats[1] != stats[2] || !strings.Contains(stats[0], `"seq":300`) {
		t.Fatalf("messages differ between instances:\n%s\n%s\n%s", stats[0], stats[1], stats[2])
	}
}

func TestFanOutAcrossInstances(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 3, r.addr())
	fanOut(t, ins[0], ins[1], ins[2], "fan.out")
	list := do(t, http.MethodGet, ins[2].base+"/v1/topics", "")
	if !strings.Contains(string(list.body), `"topic":"fan.out"`) {
		t.Fatalf("listing on C: %s", list.body)
	}
}

func TestFanOutRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a 3-master cluster takes seconds to form")
	}
	addrs := startCluster(t)
	ins := startInstances(t, 3, addrs...)
	// Topics whose hash tags land on different masters.
	for _, topic := range []string{"c.one", "c.two", "c.three"} {
		fanOut(t, ins[0], ins[1], ins[2], topic)
	}
}

func TestSubscriberMovesBetweenInstances(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 3, r.addr())
	a, c := ins[0], ins[2]
	const topic, n = "move", 400
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // publishing goes on, through B, all along
		for seq := uint64(1); seq <= n; seq++ {
			publish(t, ins[1], topic, payload(seq))
			if seq == n/2 {
				<-stop
			}
		}
	})
	first := subscribeWS(t, a, topic, "from=1")
	got := first.take(t, 150)
	first.close()
	close(stop)
	last := got[len(got)-1]
	second := subscribeWS(t, c, topic, "from="+strconv.FormatUint(last.Seq+1, 10)+"&epoch="+last.Epoch)
	got = append(got, second.take(t, n-150)...)
	wg.Wait()
	checkRun(t, "moved subscriber", got, 1, payload)
	second.quiet(t, 200*time.Millisecond)
}

func TestConcurrentPublishersContiguousSeqs(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 3, r.addr())
	const topic, each = "busy", 150
	sub := subscribeWS(t, ins[1], topic, "from=1")
	var mu sync.Mutex
	var seqs []uint64
	var wg sync.WaitGroup
	for i, in := range ins {
		for g := range 2 {
			wg.Go(func() {
				for k := range each {
					p := publish(t, in, topic, fmt.Sprintf("%d.%d.%d", i, g, k))
					mu.Lock()
					seqs = append(seqs, p.Seq)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	total := len(ins) * 2 * each
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("seqs are not 1..%d without duplicates: index %d has %d", total, i, s)
		}
	}
	got := sub.take(t, total)
	seen := map[string]bool{}
	for i, e := range got {
		if e.Seq != uint64(i+1) || seen[e.Data] {
			t.Fatalf("subscriber: message %d is seq %d %q (seen before: %v)", i, e.Seq, e.Data, seen[e.Data])
		}
		seen[e.Data] = true
	}
}

func TestRedisDownAndBack(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 2, r.addr())
	a, b := ins[0], ins[1]
	const topic = "outage"
	sub := subscribeSSE(t, b, topic, "from=1")
	for i := range 20 {
		publish(t, a, topic, "before"+strconv.Itoa(i))
	}
	sub.take(t, 20)
	r.kill()
	// Down: publishes are refused with 503 unavailable and Retry-After,
	// and /readyz says why.
	refused := 0
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		res := do(t, http.MethodPost, a.base+"/v1/topics/"+topic, "during")
		switch res.status {
		case http.StatusCreated:
			t.Fatalf("a publish was accepted with Redis down: %s", res.body)
		case http.StatusServiceUnavailable:
			if res.code() != "unavailable" || res.header.Get("Retry-After") == "" {
				t.Fatalf("refusal: %d %s %v", res.status, res.body, res.header)
			}
			refused++
		default:
			t.Fatalf("publish with Redis down: %d %s", res.status, res.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if refused == 0 {
		t.Fatal("no publish was refused")
	}
	waitFor(t, "readyz 503 unavailable", func() bool {
		res := do(t, http.MethodGet, a.base+"/readyz", "")
		return res.status == http.StatusServiceUnavailable && res.code() == "unavailable"
	})
	metrics := string(do(t, http.MethodGet, a.base+"/metrics", "").body)
	for _, want := range []string{"ringcast_engine_up 0", `ringcast_engine_errors_total{op="publish"}`, `ringcast_engine_latency_seconds_count{op="publish"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, `ringcast_engine_errors_total{op="publish"} 0`) {
		t.Error("no publish error counted")
	}
	// Everything that needs Redis says so the same way.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/topics/" + topic + "/batch", "x\ny\n"},
		{http.MethodGet, "/v1/topics/" + topic + "/messages", ""},
		{http.MethodGet, "/v1/topics/" + topic, ""},
		{http.MethodGet, "/v1/topics", ""},
	} {
		res := do(t, c.method, a.base+c.path, c.body)
		if res.status != http.StatusServiceUnavailable || res.code() != "unavailable" || res.header.Get("Retry-After") == "" {
			t.Errorf("%s %s with Redis down: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	r.start() // an empty Redis on the same port: the topics start a new epoch
	waitFor(t, "readyz 200", func() bool { return do(t, http.MethodGet, a.base+"/readyz", "").status == http.StatusOK })
	if m := string(do(t, http.MethodGet, a.base+"/metrics", "").body); !strings.Contains(m, "ringcast_engine_up 1") {
		t.Error("ringcast_engine_up is not 1 once Redis is back")
	}
	var after []published
	for i := range 20 {
		after = append(after, publish(t, a, topic, "after"+strconv.Itoa(i)))
	}
	if after[0].Seq != 1 {
		t.Fatalf("after the restart the topic continued at seq %d, want a new epoch from 1", after[0].Seq)
	}
	// The old subscription ends (its epoch is gone); the client resumes
	// with its epoch and gets every message accepted since.
	sub.ended(t)
	resumed := subscribeSSE(t, b, topic, "from=21&epoch="+"stale")
	got := resumed.take(t, 20)
	checkRun(t, "resumed", got, 1, func(seq uint64) string { return "after" + strconv.Itoa(int(seq-1)) })
	if got[0].Epoch != after[0].Epoch {
		t.Fatalf("resumed in epoch %s, want %s", got[0].Epoch, after[0].Epoch)
	}
}

func TestRedisPausedSubscribersCatchUp(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 2, r.addr())
	a, b := ins[0], ins[1]
	const topic = "pause"
	sub := subscribeWS(t, b, topic, "from=1")
	for seq := uint64(1); seq <= 10; seq++ {
		publish(t, a, topic, payload(seq))
	}
	sub.take(t, 10)
	// Drop B's connections to Redis (CLIENT KILL): its subscription is
	// lost while A publishes; B subscribes again and fills the gap from
	// the history.
	if out, err := r.cli("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatalf("client kill: %v %s", err, out)
	}
	for seq := uint64(11); seq <= 60; seq++ {
		publish(t, a, topic, payload(seq))
	}
	checkRun(t, "subscriber on B", sub.take(t, 50), 11, payload)
	sub.quiet(t, 200*time.Millisecond)
}

func TestEpochChange(t *testing.T) {
	r := startRedis(t)
	ins := startInstances(t, 2, r.addr())
	a, b := ins[0], ins[1]
	const topic = "epoch"
	old := publish(t, a, topic, payload(1))
	sub := subscribeWS(t, b, topic, "from=1")
	first := sub.take(t, 1)
	if _, err := r.cli("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	fresh := publish(t, a, topic, "new1")
	if fresh.Seq != 1 || fresh.Epoch == old.Epoch {
		t.Fatalf("after FLUSHALL: seq %d epoch %s (old %s)", fresh.Seq, fresh.Epoch, old.Epoch)
	}
	// B's subscriber is ended so that it resumes against the new epoch.
	sub.ended(t)
	again := subscribeWS(t, b, topic, "from=2&epoch="+first[0].Epoch)
	e := again.take(t, 1)[0]
	if e.Seq != 1 || e.Epoch != fresh.Epoch || e.Data != "new1" {
		t.Fatalf("resumed with %+v, want seq 1 of epoch %s", e, fresh.Epoch)
	}
	st := do(t, http.MethodGet, b.base+"/v1/topics/"+topic, "")
	if !strings.Contains(string(st.body), fresh.Epoch) {
		t.Fatalf("stats on B: %s", st.body)
	}
}

func TestHistoryOlderThanLocalRing(t *testing.T) {
	r := startRedis(t)
	rc := redisengine.Config{Addrs: []string{r.addr()}, HistorySize: 1000}
	a := startInstance(t, rc, server.Config{RingSize: 16})
	b := startInstance(t, rc, server.Config{RingSize: 16})
	const topic = "replay"
	live := subscribeWS(t, b, topic, "") // B mirrors the topic in a 16-slot ring
	for seq := uint64(1); seq <= 100; seq++ {
		publish(t, a, topic, payload(seq))
	}
	live.take(t, 100)
	// Both from an instance that mirrors the topic (B) and one that does
	// not (A), a from older than the ring reads Redis's history.
	for _, in := range []*instance{b, a} {
		ws := subscribeWS(t, in, topic, "from=5")
		checkRun(t, "ws from=5", ws.take(t, 96), 5, payload)
		sse := subscribeSSE(t, in, topic, "from=30")
		checkRun(t, "sse from=30", sse.take(t, 71), 30, payload)
		m := do(t, http.MethodGet, in.base+"/v1/topics/"+topic+"/messages?from=3&limit=5", "")
		if m.status != http.StatusOK || !strings.Contains(string(m.body), `"seq":3,`) || !strings.Contains(string(m.body), `"seq":7,`) || strings.Contains(string(m.body), `"seq":8,`) {
			t.Fatalf("messages: %d %s", m.status, m.body)
		}
	}
	publish(t, a, topic, payload(101))
	checkRun(t, "live", live.take(t, 1), 101, payload)
}

func TestPolicyBlockRefused(t *testing.T) {
	r := startRedis(t)
	in := startInstances(t, 1, r.addr())[0]
	for _, path := range []string{"/ws", "/sse"} {
		res := do(t, http.MethodGet, in.base+"/v1/topics/t"+path+"?policy=block", "")
		if res.status != http.StatusForbidden || res.code() != "forbidden" || !strings.Contains(string(res.body), "redis engine") {
			t.Fatalf("%s policy=block: %d %s", path, res.status, res.body)
		}
	}
}

// waitFor polls cond every 50 ms for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
