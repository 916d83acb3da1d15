package egress

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ringcast/ringcast/broker"
)

func TestMetricsRegistered(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	s.dial(t, "m", "", nil)
	s.waitSubscribers(t, "m", 1)
	families, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[f.GetName()] == nil {
					labels[f.GetName()] = map[string]bool{}
				}
				labels[f.GetName()][l.GetValue()] = true
			}
		}
	}
	for name, want := range map[string][]string{
		"ringcast_messages_delivered_total": transports,
		"ringcast_delivery_latency_seconds": transports,
		"ringcast_subscribers":              {TransportWS, TransportSSE},
		"ringcast_connections":              {"ws", "sse"},
	} {
		for _, v := range want {
			if !labels[name][v] {
				t.Errorf("%s has no child %q (has %v)", name, v, labels[name])
			}
		}
	}
	if got := s.subscribers(TransportWS); got != 1 {
		t.Errorf("ws subscribers %v", got)
	}
}

func TestUnknownTransportPanics(t *testing.T) {
	e, err := New(Config{Broker: &broker.Broker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	e.DeliveredCounter("pigeon")
}

func TestNewValidates(t *testing.T) {
	b := &broker.Broker{}
	for _, cfg := range []Config{
		{},
		{Broker: b, MaxMessageBytes: -1},
		{Broker: b, PingInterval: -1},
		{Broker: b, SSEHeartbeat: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	e, err := New(Config{Broker: b, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg.MaxMessageBytes != DefaultMaxMessageBytes || e.cfg.PingInterval != DefaultPingInterval || e.cfg.SSEHeartbeat != DefaultSSEHeartbeat {
		t.Fatalf("defaults not filled: %+v", e.cfg)
	}
}
