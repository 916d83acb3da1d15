package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/server"
)

func TestPublishHTTP(t *testing.T) {
	var progress strings.Builder
	res, err := Publish(context.Background(), FanoutConfig{
		URL:         startServer(t),
		Publishers:  4,
		Subscribers: 2,
		Duration:    500 * time.Millisecond,
		MaxMessages: 2000,
		Progress:    &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
	q := res.Requests
	switch {
	case res.Scenario != ScenarioPublish || res.Config.Publish != "http" || res.Config.Topic != "bench.publish":
		t.Fatalf("scenario %q, config %+v", res.Scenario, res.Config)
	case q == nil || q.Seq == nil || !q.Seq.OK || q.Seq.Unique != res.Published || q.Seq.Last-q.Seq.First+1 != res.Published:
		t.Fatalf("requests %+v, seq %+v, published %d", q, q.Seq, res.Published)
	case q.Latency.Samples != int64(res.PublishedMeasured) || q.Latency.P50 <= 0:
		t.Fatalf("request latency %+v for %d measured", q.Latency, res.PublishedMeasured)
	case !res.Ingest.OK || res.Ingest.Accepted == nil || *res.Ingest.Accepted != res.Published:
		t.Fatalf("ingest %+v (accepted %v)", res.Ingest, res.Ingest.Accepted)
	case res.Loss == nil || !res.Loss.OK || res.Loss.Policy != PolicyDropOldest:
		t.Fatalf("loss %+v", res.Loss)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "request p99") || !strings.Contains(text.String(), "ingest check: ok") {
		t.Fatalf("%v: %s", err, text.String())
	}
}

func TestPublishHTTPWithoutSubscribers(t *testing.T) {
	url := startServer(t)
	// A first run leaves messages on the topic: the second one's seqs
	// start after them.
	for range 2 {
		res, err := Publish(context.Background(), FanoutConfig{URL: url, Publishers: 3, Rate: 1500, Duration: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if res.Published == 0 || res.Published > 3*1500*3/10+3 || res.Loss != nil || !res.Drained || !res.Ingest.OK || !res.Requests.Seq.OK {
			t.Fatalf("published %d, drained %v, loss %+v, ingest %+v, seq %+v", res.Published, res.Drained, res.Loss, res.Ingest, res.Requests.Seq)
		}
	}
}

func TestWSPublish(t *testing.T) {
	url := startServer(t)
	var progress strings.Builder
	// Without subscribers, the broker's counter is the check.
	res, err := WSPublish(context.Background(), FanoutConfig{URL: url, Publishers: 2, MaxMessages: 10_000, Duration: 10 * time.Second, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 10_000 || res.StoppedBy != "max-messages" || !res.Drained || !res.Ingest.OK || res.Ingest.Accepted == nil || *res.Ingest.Accepted != 10_000 || res.Loss != nil || res.Requests != nil {
		t.Fatalf("published %d, drained %v, ingest %+v", res.Published, res.Drained, res.Ingest)
	}
	// With one, delivery is checked and timed as well.
	res, err = WSPublish(context.Background(), FanoutConfig{URL: url, Subscribers: 1, MaxMessages: 5000, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
	if !res.Ingest.OK || res.Config.Topic != "bench.ws-publish" {
		t.Fatalf("ingest %+v, topic %s", res.Ingest, res.Config.Topic)
	}
}

// lappingServer is a broker whose rings are too small for unpaced
// publishing: subscribers fall behind by a whole ring. Topics bench.* may
// have block subscribers.
func lappingServer(t *testing.T) string {
	return startServerWith(t, server.Config{RingSize: 16, Rules: []broker.TopicRule{{Match: "bench.>", AllowBlock: true}}})
}

func TestPolicyDropOldestCountsEveryGap(t *testing.T) {
	res, err := Fanout(context.Background(), FanoutConfig{URL: lappingServer(t), Subscribers: 20, MaxMessages: 20_000, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Loss
	if l == nil || !l.OK || l.Undelivered != 0 || res.Server == nil || res.Errors != 0 {
		t.Fatalf("loss %+v, server %+v", l, res.Server)
	}
	// The broker counts exactly what the subscribers missed.
	if l.Gaps != res.Server.DroppedBy["drop_oldest"] || res.Lost != l.Gaps {
		t.Fatalf("%d gaps, lost %d, the broker dropped %d", l.Gaps, res.Lost, res.Server.DroppedBy["drop_oldest"])
	}
	t.Logf("%d of %d deliveries skipped: %s", l.Gaps, res.Expected, l.Verdict)
}

func TestPolicyDisconnectSkipsNothing(t *testing.T) {
	res, err := Fanout(context.Background(), FanoutConfig{URL: lappingServer(t), Subscribers: 10, Policy: PolicyDisconnect, MaxMessages: 20_000, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Loss
	if l == nil || !l.OK || l.Gaps != 0 || l.Undelivered != 0 || res.Errors != 0 || res.Lost != l.ByPolicy {
		t.Fatalf("loss %+v, lost %d, published %d, delivered %d, ingest %+v, server %+v", l, res.Lost, res.Published, res.Delivered, res.Ingest, res.Server)
	}
	t.Logf("%d subscribers closed by policy: %s", l.Disconnected, l.Verdict)
}

func TestPolicyBlockLosesNothing(t *testing.T) {
	url := lappingServer(t)
	for _, publish := range []string{"ws", "http"} {
		res, err := Fanout(context.Background(), FanoutConfig{URL: url, Publish: publish, Publishers: 2, Subscribers: 5, Policy: PolicyBlock, MaxMessages: 3000, Duration: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		checkComplete(t, res)
		if !res.Loss.OK || !res.Ingest.OK {
			t.Fatalf("%s: loss %+v, ingest %+v", publish, res.Loss, res.Ingest)
		}
	}
	// Without a rule that allows it, block is refused.
	_, err := Fanout(context.Background(), FanoutConfig{URL: startServer(t), Subscribers: 1, Policy: PolicyBlock, MaxMessages: 10})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("block without allow_block: %v", err)
	}
}

func TestSoakReportsIntervals(t *testing.T) {
	var progress strings.Builder
	res, err := Soak(context.Background(), FanoutConfig{URL: startServer(t), Subscribers: 3, Rate: 1000, Duration: 1100 * time.Millisecond, Every: 250 * time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
	if n := len(res.Intervals); n < 3 || n > 6 {
		t.Fatalf("%d intervals in 1.1 s every 250 ms: %+v", n, res.Intervals)
	}
	timed := 0
	for i, iv := range res.Intervals {
		if iv.ServerRSS <= 0 || iv.At <= 0 || (iv.Phase == "measure" && iv.DeliveryRate <= 0) {
			t.Fatalf("interval %d: %+v", i, iv)
		}
		if iv.P99 > 0 {
			timed++
		}
	}
	// Subscribers hand their latencies over every 250 ms: as often as this
	// test reports, so an interval may miss them.
	if timed == 0 {
		t.Fatalf("no interval has latencies: %+v", res.Intervals)
	}
	if lines := strings.Count(progress.String(), "server cpu"); lines != len(res.Intervals) {
		t.Fatalf("%d report lines for %d intervals:\n%s", lines, len(res.Intervals), progress.String())
	}
	b, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(b), `"intervals":[{"at_ns":`) || !strings.Contains(string(b), `"scenario":"soak"`) {
		t.Fatalf("%v: %s", err, b)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "server rss") {
		t.Fatalf("%v: %s", err, text.String())
	}
}

func TestScenarioDefaults(t *testing.T) {
	for _, tc := range []struct {
		scenario        string
		subs, pubs      int
		publish, topic  string
		duration, every time.Duration
	}{
		{ScenarioFanout, 200, 1, "ws", "bench.fanout", 10 * time.Second, 0},
		{ScenarioPublish, 0, 64, "http", "bench.publish", 10 * time.Second, 0},
		{ScenarioWSPublish, 0, 1, "ws", "bench.ws-publish", 10 * time.Second, 0},
		{ScenarioSoak, 100, 1, "ws", "bench.soak", 10 * time.Minute, 10 * time.Second},
	} {
		cfg, err := FanoutConfig{}.withDefaults(tc.scenario)
		if err != nil || cfg.Subscribers != tc.subs || cfg.Publishers != tc.pubs || cfg.Publish != tc.publish || cfg.Topic != tc.topic ||
			cfg.Duration != tc.duration || cfg.Every != tc.every || cfg.Policy != PolicyDropOldest || cfg.URL != "http://127.0.0.1:8080" {
			t.Errorf("%s: %+v, %v", tc.scenario, cfg, err)
		}
	}
	for _, cfg := range []FanoutConfig{{Policy: "never"}, {Publish: "grpc"}, {Every: -1}, {Subscribers: -1}} {
		if _, err := cfg.withDefaults(ScenarioFanout); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := (FanoutConfig{Subscribers: -1}).withDefaults(ScenarioPublish); err == nil {
		t.Error("negative subscribers accepted")
	}
}
