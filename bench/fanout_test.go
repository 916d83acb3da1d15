package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// checkComplete asserts that every subscriber got every message.
func checkComplete(t *testing.T, res Result) {
	t.Helper()
	subs := uint64(res.Config.Subscribers)
	switch {
	case res.Published == 0:
		t.Fatalf("nothing published: %+v", res)
	case res.Delivered != res.Published*subs || res.Expected != res.Published*subs:
		t.Fatalf("delivered %d of %d expected; want %d × %d", res.Delivered, res.Expected, res.Published, subs)
	case res.Lost != 0 || res.LossPercent != 0 || res.Errors != 0 || !res.Drained:
		t.Fatalf("lost %d (%v%%), errors %d, drained %v", res.Lost, res.LossPercent, res.Errors, res.Drained)
	case res.Latency.Samples == 0 || res.Latency.Samples != int64(res.PublishedMeasured*subs):
		t.Fatalf("%d latency samples, want %d × %d", res.Latency.Samples, res.PublishedMeasured, subs)
	case res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max:
		t.Fatalf("latency %+v", res.Latency)
	case res.Server == nil || res.Server.RSSAfter <= 0:
		t.Fatalf("server stats %+v, warnings %q", res.Server, res.Warnings)
	}
}

func TestFanoutWebSocket(t *testing.T) {
	var progress strings.Builder
	res, err := Fanout(context.Background(), FanoutConfig{
		URL:         startServer(t),
		Subscribers: 20,
		Rate:        2000,
		Duration:    time.Second,
		Warmup:      200 * time.Millisecond,
		Progress:    &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
	// Pacing never runs ahead of 2000/s over 1.2 s; on a busy machine it
	// may fall behind and catch up.
	if res.Published > 2401 || res.StoppedBy != "duration" || res.Measured != time.Second {
		t.Fatalf("published %d in %v at 2000/s, stopped by %s", res.Published, res.Measured, res.StoppedBy)
	}
	if res.DeliveredMeasured == 0 || res.DeliveryRate != float64(res.DeliveredMeasured) {
		t.Fatalf("%.0f deliveries/s of %d in the window", res.DeliveryRate, res.DeliveredMeasured)
	}
	if !strings.Contains(progress.String(), "delivered") {
		t.Fatalf("no progress line: %q", progress.String())
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "p99") {
		t.Fatalf("%v: %s", err, text.String())
	}
}

func TestFanoutSSE(t *testing.T) {
	res, err := Fanout(context.Background(), FanoutConfig{
		URL:         startServer(t),
		Transport:   "sse",
		Subscribers: 5,
		Rate:        500,
		Size:        300,
		Duration:    500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
}

func TestFanoutStopsAtMaxMessages(t *testing.T) {
	url := startServer(t)
	res, err := Fanout(context.Background(), FanoutConfig{
		URL:         url,
		Topic:       "bench.max",
		Subscribers: 3,
		Publishers:  2,
		MaxMessages: 301,
		Size:        MinPayloadSize,
		Duration:    5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
	if res.Published != 301 || res.StoppedBy != "max-messages" || res.Measured >= 5*time.Second {
		t.Fatalf("published %d, stopped by %s after %v; want 301 by max-messages", res.Published, res.StoppedBy, res.Measured)
	}
	// A second run on the same topic starts after the first one's messages.
	res, err = Fanout(context.Background(), FanoutConfig{URL: url, Topic: "bench.max", Subscribers: 2, MaxMessages: 10, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, res)
}

func TestFanoutRefused(t *testing.T) {
	url := startServer(t)
	for _, tc := range []struct {
		cfg  FanoutConfig
		want string
	}{
		{FanoutConfig{URL: "ftp://127.0.0.1"}, "--url"},
		{FanoutConfig{URL: url, Size: 10}, "--size"},
		{FanoutConfig{URL: url, Transport: "grpc"}, "--transport"},
		{FanoutConfig{URL: url, Topic: "no/such topic"}, "400"},
		{FanoutConfig{URL: "http://127.0.0.1:1", Subscribers: 1}, "cannot reach"},
	} {
		if _, err := Fanout(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.cfg, err, tc.want)
		}
	}
}
