package redisengine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ringcast/ringcast/api"
	"github.com/ringcast/ringcast/egress"
	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

// hookLog is a webhook receiver that records every delivery, in arrival
// order.
type hookLog struct {
	mu   sync.Mutex
	seqs []uint64
	data map[uint64]string
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost {
		return
	}
	seq, _ := strconv.ParseUint(req.Header.Get("X-Ringcast-Seq"), 10, 64)
	h.mu.Lock()
	h.seqs = append(h.seqs, seq)
	h.data[seq] = string(b)
	h.mu.Unlock()
}

// snapshot returns the seqs received so far.
func (h *hookLog) snapshot() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]uint64(nil), h.seqs...)
}

// waitDistinct waits until every seq from 1 to n arrived.
func (h *hookLog) waitDistinct(t *testing.T, n uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		seen := map[uint64]bool{}
		for _, s := range h.snapshot() {
			seen[s] = true
		}
		all := true
		for s := uint64(1); s <= n; s++ {
			if !seen[s] {
				all = false
				break
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook has %d distinct of seqs 1..%d after %v", len(seen), n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// destStatus is one entry of GET /v1/destinations.
type destStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"`
	Holder  string `json:"holder"`
	Cursors []struct {
		Topic  string `json:"topic"`
		Cursor uint64 `json:"cursor"`
	} `json:"cursors"`
}

// destinations reads in's GET /v1/destinations, checking it against the
// DestinationStatus schema of api/openapi.yaml.
func destinations(t *testing.T, in *instance) []destStatus {
	t.Helper()
	a := do(t, http.MethodGet, in.base+"/v1/destinations", "")
	if a.status != http.StatusOK {
		t.Fatalf("GET /v1/destinations: %d %s", a.status, a.body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec())
	if err != nil {
		t.Fatal(err)
	}
	var raw []any
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["DestinationStatus"].Value
	for _, v := range raw {
		if err := schema.VisitJSON(v); err != nil {
			t.Fatalf("GET /v1/destinations: %s does not match the document: %v", a.body, err)
		}
	}
	var out []destStatus
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitLeader waits until exactly one of ins runs the destination (its
// subscription made: a cursor shown) and every other one stands by
// naming it as the holder; it returns the runner's index and id.
func waitLeader(t *testing.T, ins []*instance, within time.Duration) (int, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last []destStatus
	for {
		leader, id, standby := -1, "", 0
		last = last[:0]
		for i, in := range ins {
			st := destinations(t, in)[0]
			last = append(last, st)
			switch {
			case st.State == "standby":
				standby++
			case len(st.Cursors) == 1 && st.Holder != "":
				if leader >= 0 {
					t.Fatalf("two instances run the destination: %+v", last)
				}
				leader, id = i, st.Holder
			}
		}
		if leader >= 0 && standby == len(ins)-1 {
			ok := true
			for i, st := range last {
				if i != leader && st.Holder != id {
					ok = false
				}
			}
			if ok {
				return leader, id
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single holder after %v: %+v", within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaderGauge reads ringcast_destination_leader{destination="hook"}.
func leaderGauge(t *testing.T, in *instance) string {
	t.Helper()
	a := do(t, http.MethodGet, in.base+"/metrics", "")
	for line := range strings.SplitSeq(string(a.body), "\n") {
		if v, ok := strings.CutPrefix(line, `ringcast_destination_leader{destination="hook"} `); ok {
			return v
		}
	}
	t.Fatalf("no ringcast_destination_leader for hook in /metrics")
	return ""
}

// Three instances configured with the same webhook destination deliver
// each message once, in order: one holds the lease and runs it, the
// others stand by. When the holder drains mid-stream, another takes over
// within the retry interval and resumes after the stored cursor: nothing
// is lost, and only the message the old holder had in flight (its answer
// came after Shutdown began, so its cursor never moved past it) may come
// twice.
func TestDestinationLeaseOneHolder(t *testing.T) {
	r := startRedis(t)
	hook := &hookLog{data: map[uint64]string{}}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	no := false
	rc := redisengine.Config{Addrs: []string{r.addr()}}
	cfg := server.Config{Destinations: []config.Destination{{
		Name: "hook", Type: "webhook", Topics: []string{"orders.created"}, URL: hs.URL, CheckOnStart: &no,
	}}}
	var ins []*instance
	for range 3 {
		ins = append(ins, startInstance(t, rc, cfg))
	}
	leader, id := waitLeader(t, ins, 10*time.Second)
	for i, in := range ins {
		want := "0"
		if i == leader {
			want = "1"
		}
		if got := leaderGauge(t, in); got != want {
			t.Errorf("instance %d: ringcast_destination_leader %s, want %s", i, got, want)
		}
	}

	// Steady state: every message once, in order.
	const first = 60
	var epoch string
	for seq := uint64(1); seq <= first; seq++ {
		p := publish(t, ins[int(seq)%3], "orders.created", payload(seq))
		if p.Seq != seq {
			t.Fatalf("publish got seq %d, want %d", p.Seq, seq)
		}
		epoch = p.Epoch
	}
	hook.waitDistinct(t, first, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // any duplicate would have come by now
	got := hook.snapshot()
	if len(got) != first {
		t.Fatalf("steady state: %d deliveries of %d messages: %v", len(got), first, got)
	}
	for i, s := range got {
		if s != uint64(i+1) || hook.data[s] != payload(s) {
			t.Fatalf("steady state: delivery %d is seq %d (%q), want %d", i, s, hook.data[s], i+1)
		}
	}

	// Drain the holder while messages keep coming through the others.
	var rest []*instance
	for i, in := range ins {
		if i != leader {
			rest = append(rest, in)
		}
	}
	const total = 400
	pubDone := make(chan error, 1)
	go func() {
		for seq := uint64(first + 1); seq <= total; seq++ {
			resp, err := httpClient.Post(rest[int(seq)%2].base+"/v1/topics/orders.created", "text/plain", strings.NewReader(payload(seq)))
			if err != nil {
				pubDone <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				pubDone <- fmt.Errorf("publish %d: %d", seq, resp.StatusCode)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		pubDone <- nil
	}()
	for len(hook.snapshot()) < first+50 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ins[leader].Shutdown(ctx); err != nil {
		t.Fatalf("shutdown of the holder: %v", err)
	}
	stopped := time.Now()
	oldRun := len(hook.snapshot()) // all the old holder delivered
	// Another instance takes over within the retry interval (2s), plus
	// the time its term takes to start.
	next, nextID := waitLeader(t, rest, 2*redisengine.DefaultLeaseRetry+2*time.Second)
	if nextID == id {
		t.Fatalf("the drained instance %s still holds the lease", id)
	}
	t.Logf("instance %s took over %v after the holder drained", nextID, time.Since(stopped).Round(time.Millisecond))
	if got := leaderGauge(t, rest[next]); got != "1" {
		t.Errorf("new holder: ringcast_destination_leader %s, want 1", got)
	}
	if err := <-pubDone; err != nil {
		t.Fatal(err)
	}
	hook.waitDistinct(t, total, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	got = hook.snapshot()

	// The old holder delivered 1..k in order; the new one resumes at its
	// stored cursor + 1 and goes on in order to the end. The old holder's
	// final save, once its requests finished, stored every seq it
	// committed, so the new one resumes at k+1, or at k when k was in
	// flight as Shutdown began (delivered, but its cursor never moved
	// past it): at most max_in_flight (1) duplicate, right at the switch.
	if len(got) != total && len(got) != total+1 {
		t.Fatalf("%d deliveries of %d messages: %v", len(got), total, got)
	}
	if got[0] != 1 || got[len(got)-1] != total {
		t.Fatalf("deliveries run from %d to %d, want 1 to %d", got[0], got[len(got)-1], total)
	}
	dups := 0
	for i := 1; i < len(got); i++ {
		switch got[i] {
		case got[i-1] + 1:
		case got[i-1]:
			dups++
			t.Logf("seq %d delivered twice: by the old holder and again by the new one", got[i])
		default:
			t.Fatalf("delivery %d is seq %d after %d (all: %v)", i, got[i], got[i-1], got)
		}
	}
	if dups > 1 {
		t.Fatalf("%d duplicates, want at most 1", dups)
	}
	t.Logf("the old holder had delivered %d messages when it stopped; %d duplicate(s)", oldRun, dups)
	for s := uint64(1); s <= total; s++ {
		if hook.data[s] != payload(s) {
			t.Fatalf("seq %d: got %q, want %q", s, hook.data[s], payload(s))
		}
	}

	// The new holder stored its cursor, with the epoch, in Redis.
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := r.cli("HGET", "{ringcast:dest:hook}:cursors", "orders.created")
		if err == nil && strings.TrimSpace(v) == fmt.Sprintf("%d %s", total, epoch) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored cursor %q (%v), want %q", v, err, fmt.Sprintf("%d %s", total, epoch))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A lease is one instance's at a time; its holder alone stores cursors;
// release hands it over at once; and a holder that cannot reach Redis
// gives the lease up (its context ends) within two thirds of the TTL,
// before the lease can expire and another instance take it.
func TestLeasesUnit(t *testing.T) {
	r := startRedis(t)
	newEngine := func() *redisengine.Engine {
		e, err := redisengine.New(redisengine.Config{Addrs: []string{r.addr()}, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	}
	const ttl = 1500 * time.Millisecond
	a := newEngine().Leases(redisengine.LeaseConfig{Instance: "a", TTL: ttl, Renew: 300 * time.Millisecond})
	b := newEngine().Leases(redisengine.LeaseConfig{Instance: "b", TTL: ttl, Renew: 300 * time.Millisecond})

	held, holder, err := a.Acquire("d")
	if err != nil || held == nil || holder != "a" {
		t.Fatalf("a: Acquire = %v, %q, %v", held, holder, err)
	}
	time.Sleep(2 * ttl) // renewed meanwhile
	if held.Err() != nil {
		t.Fatal("a lost a lease it renews")
	}
	if h, holder, err := b.Acquire("d"); h != nil || holder != "a" || err != nil {
		t.Fatalf("b: Acquire = %v, %q, %v; want the holder a", h, holder, err)
	}
	if err := a.SaveCursors("d", map[string]egress.StoredCursor{"t": {Epoch: "e1", Last: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveCursors("d", map[string]egress.StoredCursor{"t": {Epoch: "e1", Last: 9}}); err == nil {
		t.Fatal("b, which does not hold the lease, stored a cursor")
	}
	b.Release("d") // b holds nothing: the lease stays a's
	if cs, err := b.Cursors("d"); err != nil || cs["t"] != (egress.StoredCursor{Epoch: "e1", Last: 7}) {
		t.Fatalf("Cursors = %v, %v", cs, err)
	}
	a.Release("d")
	if held.Err() == nil {
		t.Fatal("the released lease's context did not end")
	}
	hb, holder, err := b.Acquire("d")
	if err != nil || hb == nil || holder != "b" {
		t.Fatalf("b after the release: Acquire = %v, %q, %v", hb, holder, err)
	}

	// Redis goes away: b stops trusting its lease within 2/3 of the TTL.
	r.kill()
	killed := time.Now()
	select {
	case <-hb.Done():
		if d := time.Since(killed); d > ttl {
			t.Fatalf("the lease's context ended %v after Redis went away, later than its TTL %v", d, ttl)
		}
	case <-time.After(2 * ttl):
		t.Fatal("the lease's context did not end with Redis gone")
	}
	if _, _, err := b.Acquire("d"); err == nil {
		t.Fatal("Acquire worked with Redis gone")
	}
	r.start()
	b.Release("d")
}

// A holder whose lease is taken from it (it expired while the holder
// could not renew, and another instance took it) stops the destination
// at its next renewal and stands by, naming the new holder.
func TestDestinationLeaseLost(t *testing.T) {
	r := startRedis(t)
	hook := &hookLog{data: map[uint64]string{}}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	no := false
	in := startInstance(t, redisengine.Config{Addrs: []string{r.addr()}}, server.Config{Destinations: []config.Destination{{
		Name: "hook", Type: "webhook", Topics: []string{"orders.created"}, URL: hs.URL, CheckOnStart: &no,
	}}})
	_, id := waitLeader(t, []*instance{in}, 10*time.Second)
	// Its starting cursor is stored: nothing delivered yet.
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := r.cli("HGET", "{ringcast:dest:hook}:cursors", "orders.created")
		if err == nil && strings.HasPrefix(v, "0 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored cursor %q (%v), want 0 and the epoch", v, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := r.cli("SET", "{ringcast:dest:hook}", "elsewhere", "PX", "60000"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(redisengine.DefaultLeaseRenew + redisengine.DefaultLeaseRetry + 2*time.Second)
	for {
		st := destinations(t, in)[0]
		if st.State == "standby" && st.Holder == "elsewhere" && len(st.Cursors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s still runs the destination after losing its lease: %+v", id, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := leaderGauge(t, in); got != "0" {
		t.Fatalf("ringcast_destination_leader %s after losing the lease, want 0", got)
	}
	// Not the holder: what is published is not delivered here.
	publish(t, in, "orders.created", "x")
	time.Sleep(300 * time.Millisecond)
	if got := hook.snapshot(); len(got) != 0 {
		t.Fatalf("a standby instance delivered %v", got)
	}
	// The other holder goes away: this instance takes the lease back and
	// resumes after its stored cursor, delivering what it had not.
	if _, err := r.cli("DEL", "{ringcast:dest:hook}"); err != nil {
		t.Fatal(err)
	}
	hook.waitDistinct(t, 1, redisengine.DefaultLeaseRetry+5*time.Second)
	if got := hook.snapshot(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("after taking the lease back: %v, want [1]", got)
	}
}
