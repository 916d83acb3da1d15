package ingress

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
)

func TestNewValidates(t *testing.T) {
	b, err := broker.New(broker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Broker"},
		{Config{Broker: b, MaxMessageBytes: -1}, "--max-message-bytes"},
		{Config{Broker: b, MaxBatchBytes: -1}, "--max-batch-bytes"},
		{Config{Broker: b, PublishTimeout: -1}, "--publish-timeout"},
		{Config{Broker: b, PingInterval: -1}, "PingInterval"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	in, err := New(Config{Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	if in.maxMessage != DefaultMaxMessageBytes || in.maxBatch != DefaultMaxBatchBytes ||
		in.timeout != DefaultPublishTimeout || in.ping != DefaultPingInterval {
		t.Fatalf("defaults not filled: %+v", in)
	}
}

func TestMetricsRegistered(t *testing.T) {
	b, err := broker.New(broker.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := prometheus.NewRegistry()
	in, err := New(Config{Broker: b, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	in.RejectedCounter("draining").Inc()
	in.RejectedCounter("draining").Inc()
	for name, series := range map[string]int{
		"ringcast_messages_published_total": 4, // http, batch, ws, source
		"ringcast_publish_rejected_total":   9,
		"ringcast_publish_duration_seconds": 3,
	} {
		if got := testutil.CollectAndCount(reg, name); got != series {
			t.Errorf("%s has %d series, want %d", name, got, series)
		}
	}
	if got := testutil.ToFloat64(in.RejectedCounter("draining")); got != 2 {
		t.Fatalf("rejected{draining} = %v", got)
	}
	if _, err := New(Config{Broker: b, Registerer: reg}); err == nil {
		t.Fatal("registering twice should fail")
	}
}
