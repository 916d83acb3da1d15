package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestConnections(t *testing.T) {
	url := startServer(t)
	for _, transport := range []string{"ws", "sse"} {
		var progress strings.Builder
		res, err := Connections(context.Background(), ConnectionsConfig{
			URL:         url,
			Connections: 60,
			Transport:   transport,
			Ramp:        60,
			Hold:        300 * time.Millisecond,
			Messages:    2,
			Progress:    &progress,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Server
		switch {
		case res.Connected != 60 || res.Failed != 0 || res.Handshake.Samples != 60 || res.Handshake.P50 <= 0:
			t.Fatalf("%s: connected %d, failed %d, handshake %+v", transport, res.Connected, res.Failed, res.Handshake)
		case res.RampTime < 900*time.Millisecond:
			t.Fatalf("%s: 60 connections at 60/s in %v", transport, res.RampTime)
		case s == nil || s.RSSAfter <= 0 || s.Subscribers != 60 || s.Connections != 60:
			t.Fatalf("%s: server %+v, warnings %q", transport, s, res.Warnings)
		case res.Published != 2 || res.Delivered != 120 || res.Expected != 120 || res.Lost != 0 || res.Latency.Samples != 120:
			t.Fatalf("%s: published %d, delivered %d of %d, lost %d, latency %+v", transport, res.Published, res.Delivered, res.Expected, res.Lost, res.Latency)
		case res.Loss == nil || !res.Loss.OK:
			t.Fatalf("%s: loss %+v", transport, res.Loss)
		case res.FDLimit < 60:
			t.Fatalf("%s: fd limit %d", transport, res.FDLimit)
		case !strings.Contains(progress.String(), "connected"):
			t.Fatalf("%s: progress %q", transport, progress.String())
		}
		var text strings.Builder
		if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "rss per connection") {
			t.Fatalf("%v: %s", err, text.String())
		}
		if b, err := json.Marshal(res); err != nil || !strings.Contains(string(b), `"rss_per_connection_bytes"`) {
			t.Fatalf("%v: %s", err, b)
		}
	}
}

func TestConnectionsRefused(t *testing.T) {
	for _, tc := range []struct {
		cfg  ConnectionsConfig
		want string
	}{
		{ConnectionsConfig{URL: "ftp://127.0.0.1"}, "--url"},
		{ConnectionsConfig{Connections: -1}, "--connections"},
		{ConnectionsConfig{Transport: "grpc"}, "--transport"},
		{ConnectionsConfig{Size: 3}, "--size"},
		{ConnectionsConfig{Connections: 1 << 40}, "file descriptors"},
		{ConnectionsConfig{URL: "http://127.0.0.1:1", Connections: 1}, "cannot reach"},
	} {
		if _, err := Connections(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.cfg, err, tc.want)
		}
	}
}
