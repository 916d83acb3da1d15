package redisengine_test

import (
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

// Redis stops answering for 2 s but keeps its data (SIGSTOP): publishes
// meanwhile answer 503 unavailable, subscribers stay connected, and
// afterwards they get every accepted message, in order, without a gap
// or a repeat.
func TestRedisStalledSubscribersStayAndCatchUp(t *testing.T) {
	r := startRedis(t)
	rc := redisengine.Config{Addrs: []string{r.addr()}, Timeout: 300 * time.Millisecond}
	a := startInstance(t, rc, server.Config{})
	b := startInstance(t, rc, server.Config{})
	const topic = "stall"
	sub := subscribeWS(t, b, topic, "from=1")
	accepted := map[uint64]string{}
	for i := 1; i <= 10; i++ {
		p := publish(t, a, topic, "m"+strconv.Itoa(i))
		accepted[p.Seq] = "m" + strconv.Itoa(i)
	}
	if err := r.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = r.Signal(syscall.SIGCONT)
		}
	}()
	refused := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		res := do(t, http.MethodPost, a.base+"/v1/topics/"+topic, "stalled")
		if res.status != http.StatusServiceUnavailable || res.code() != "unavailable" || res.header.Get("Retry-After") == "" {
			t.Fatalf("publish with Redis stalled: %d %s", res.status, res.body)
		}
		refused++
	}
	if refused == 0 {
		t.Fatal("no publish was refused")
	}
	if err := r.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	var last uint64
	waitFor(t, "publishing again", func() bool {
		res := do(t, http.MethodPost, a.base+"/v1/topics/"+topic, "after")
		if res.status != http.StatusCreated {
			return false
		}
		last = seqOf(t, res.body)
		accepted[last] = "after"
		return true
	})
	// A refused publish may still have reached Redis (its answer was what
	// timed out): the subscriber sees it too, in its place. What matters:
	// seqs 1..last, each once, in order, with every accepted payload.
	got := sub.take(t, int(last))
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d", i, e.Seq)
		}
		if w, ok := accepted[e.Seq]; ok && e.Data != w {
			t.Fatalf("seq %d is %q, want %q", e.Seq, e.Data, w)
		}
		if _, ok := accepted[e.Seq]; !ok && e.Data != "stalled" {
			t.Fatalf("seq %d is %q", e.Seq, e.Data)
		}
	}
	sub.quiet(t, 200*time.Millisecond)
}

// When its last local subscriber leaves, an instance unsubscribes from
// the topic's channel (after Config.IdleDelay, 500 ms in these tests).
func TestUnsubscribesWhenIdle(t *testing.T) {
	r := startRedis(t)
	in := startInstances(t, 1, r.addr())[0]
	numsub := func() string {
		out, err := r.cli("PUBSUB", "SHARDNUMSUB", "{ringcast:idle}:ch")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(out)[1]
	}
	sub := subscribeSSE(t, in, "idle", "")
	waitFor(t, "the instance's SSUBSCRIBE", func() bool { return numsub() == "1" })
	sub.close()
	waitFor(t, "the instance's SUNSUBSCRIBE", func() bool { return numsub() == "0" })
	// A new subscriber subscribes again and gets what is published next.
	again := subscribeWS(t, in, "idle", "")
	p := publish(t, in, "idle", "back")
	if e := again.take(t, 1)[0]; e.Seq != p.Seq || e.Data != "back" {
		t.Fatalf("after resubscribing: %+v", e)
	}
}

func seqOf(t testing.TB, body []byte) uint64 {
	t.Helper()
	s := string(body)
	i := strings.Index(s, `"seq":`)
	if i < 0 {
		t.Fatalf("no seq in %s", body)
	}
	s = s[i+6:]
	j := strings.IndexByte(s, ',')
	n, err := strconv.ParseUint(s[:j], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
