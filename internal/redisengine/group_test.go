package redisengine_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Concurrent batches to one topic on one instance share publish scripts
// (group commit), yet each stays contiguous and whole, and together they
// cover 1..N once.
func TestConcurrentBatchesStayContiguous(t *testing.T) {
	r := startRedis(t)
	in := startInstances(t, 1, r.addr())[0]
	const topic, workers, batches, lines = "grouped", 8, 25, 5
	sub := subscribeWS(t, in, topic, "from=1")
	type span struct{ first, last uint64 }
	var mu sync.Mutex
	var spans []span
	owner := map[string]int{} // payload → its span's index
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var body strings.Builder
				var payloads []string
				for l := range lines {
					p := fmt.Sprintf("w%d.b%d.l%d", w, b, l)
					payloads = append(payloads, p)
					body.WriteString(p + "\n")
				}
				res := do(t, http.MethodPost, in.base+"/v1/topics/"+topic+"/batch", body.String())
				if res.status != http.StatusCreated {
					t.Errorf("batch: %d %s", res.status, res.body)
					return
				}
				var a struct {
					FirstSeq uint64 `json:"first_seq"`
					LastSeq  uint64 `json:"last_seq"`
					Count    int    `json:"count"`
				}
				if err := json.Unmarshal(res.body, &a); err != nil || a.Count != lines || a.LastSeq-a.FirstSeq+1 != lines {
					t.Errorf("batch answer %s", res.body)
					return
				}
				mu.Lock()
				for _, p := range payloads {
					owner[p] = len(spans)
				}
				spans = append(spans, span{a.FirstSeq, a.LastSeq})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.first) - int(b.first) })
	for i, s := range spans {
		if s.first != uint64(i*lines+1) {
			t.Fatalf("batch %d covers %d-%d, want from %d", i, s.first, s.last, i*lines+1)
		}
	}
	got := sub.take(t, workers*batches*lines)
	for i := 0; i < len(got); i += lines {
		o := owner[got[i].Data]
		for j := range lines {
			e := got[i+j]
			if e.Seq != uint64(i+j+1) || owner[e.Data] != o || !strings.HasSuffix(e.Data, fmt.Sprintf(".l%d", j)) {
				t.Fatalf("seq %d is %q: batches interleaved or out of order", e.Seq, e.Data)
			}
		}
	}
}
