package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rcbench "github.com/ringcast/ringcast/bench"
)

func TestBenchFanoutJSON(t *testing.T) {
	url := startServer(t)
	var out, progress syncBuffer
	err := bench(context.Background(), []string{"fanout", "--url", url, "--subs", "4", "--rate", "400",
		"--duration", "400ms", "--warmup", "100ms", "--json"}, &out, &progress)
	if err != nil {
		t.Fatalf("%v: %s", err, progress.String())
	}
	var res rcbench.Result
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if res.Published == 0 || res.Delivered != 4*res.Published || res.Lost != 0 || res.Config.URL != url ||
		res.Config.Duration != 400*time.Millisecond || res.Latency.Samples != int64(4*res.PublishedMeasured) {
		t.Fatalf("%s", out.String())
	}
}

func TestBenchFanoutText(t *testing.T) {
	var out syncBuffer
	err := bench(context.Background(), []string{"fanout", "--url", startServer(t), "--subs", "2", "--rate", "100",
		"--duration", "200ms", "--warmup", "0s"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"published", "delivered", "lost", "p99", "server cpu"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

func TestBenchScenariosJSON(t *testing.T) {
	url := startServer(t)
	for _, tc := range []struct {
		args  []string
		check func(rcbench.Result) bool
	}{
		{[]string{"publish", "--connections", "3", "--subs", "1", "--rate", "600", "--duration", "300ms", "--warmup", "0s"}, func(r rcbench.Result) bool {
			return r.Config.Publish == "http" && r.Config.Publishers == 3 && r.Requests != nil && r.Requests.Seq.OK && r.Loss != nil && r.Loss.OK && r.Delivered == r.Published
		}},
		{[]string{"ws-publish", "--max-messages", "3000", "--duration", "5s"}, func(r rcbench.Result) bool {
			return r.Config.Publish == "ws" && r.Config.Subscribers == 1 && r.Published == 3000 && r.Delivered == 3000 && r.Ingest.OK && r.Loss.OK
		}},
		{[]string{"ws-publish", "--subs", "0", "--connections", "2", "--max-messages", "3000", "--duration", "5s"}, func(r rcbench.Result) bool {
			return r.Published == 3000 && r.Loss == nil && r.Ingest.OK && *r.Ingest.Accepted == 3000
		}},
		{[]string{"soak", "--subs", "2", "--rate", "500", "--duration", "700ms", "--warmup", "0s", "--every", "200ms"}, func(r rcbench.Result) bool {
			return len(r.Intervals) >= 3 && r.Loss.OK && r.Delivered == 2*r.Published
		}},
		{[]string{"fanout", "--subs", "2", "--publish", "http", "--publishers", "2", "--rate", "400", "--duration", "300ms", "--policy", "disconnect"}, func(r rcbench.Result) bool {
			return r.Config.Policy == "disconnect" && r.Requests != nil && r.Loss.OK && r.Delivered == 2*r.Published
		}},
	} {
		var out, progress syncBuffer
		err := bench(context.Background(), append(tc.args, "--url", url, "--json"), &out, &progress)
		if err != nil {
			t.Fatalf("%q: %v: %s", tc.args, err, progress.String())
		}
		var res rcbench.Result
		if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
			t.Fatalf("%q: %v: %q", tc.args, err, out.String())
		}
		if res.Scenario != tc.args[0] || res.Published == 0 || res.Env.GoVersion == "" || !tc.check(res) {
			t.Fatalf("%q: %s", tc.args, out.String())
		}
	}
}

func TestBenchTable(t *testing.T) {
	url := startServer(t)
	dir := t.TempDir()
	var files []string
	for i, args := range [][]string{
		{"fanout", "--subs", "2", "--rate", "200", "--duration", "200ms", "--warmup", "0s"},
		{"connections", "--connections", "3", "--hold", "10ms", "--messages", "1"},
	} {
		var out syncBuffer
		if err := bench(context.Background(), append(args, "--url", url, "--json"), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		if err := os.WriteFile(name, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	var table syncBuffer
	if err := bench(context.Background(), append([]string{"table"}, files...), &table, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| fanout | 1 ws pub → 2 ws sub") || !strings.Contains(lines[3], "KiB per connection") {
		t.Fatalf("%s", table.String())
	}
	if err := bench(context.Background(), []string{"table"}, io.Discard, io.Discard); err == nil {
		t.Error("table without files ran")
	}
	if err := bench(context.Background(), []string{"table", filepath.Join(dir, "none.json")}, io.Discard, io.Discard); err == nil {
		t.Error("table of a missing file ran")
	}
}

func TestBenchConnections(t *testing.T) {
	url := startServer(t)
	var out syncBuffer
	err := bench(context.Background(), []string{"connections", "--url", url, "--connections", "20", "--hold", "50ms", "--messages", "2", "--json"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var res rcbench.ConnectionsResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if res.Scenario != "connections" || res.Connected != 20 || res.Server == nil || res.Server.RSSPerConn == 0 || res.Delivered != 40 || !res.Loss.OK {
		t.Fatalf("%s", out.String())
	}
	var text syncBuffer
	if err := bench(context.Background(), []string{"connections", "--url", url, "--connections", "5", "--hold", "10ms"}, &text, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rss per connection", "handshake p99", "loss check: ok"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("no %q in\n%s", want, text.String())
		}
	}
}

func TestBenchRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"fanin"},
		{"fanout", "extra"},
		{"fanout", "--subs", "0"},
		{"fanout", "--publishers", "0"},
		{"fanout", "--duration", "0s"},
		{"fanout", "--max-messages", "0"},
		{"fanout", "--bogus"},
		{"fanout", "--policy", "sometimes"},
		{"fanout", "--publish", "carrier-pigeon"},
		{"soak", "--every", "0s"},
		{"soak", "--subs", "0"},
		{"publish", "--connections", "0"},
		{"publish", "--publishers", "2"},
		{"ws-publish", "--subs", "-1"},
		{"connections", "--connections", "0"},
		{"connections", "--messages", "0"},
		{"connections", "--hold", "0s"},
		{"connections", "extra"},
	} {
		if err := bench(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("bench %q ran", args)
		}
	}
	for _, scenario := range []string{"fanout", "publish", "ws-publish", "connections", "soak"} {
		if err := bench(context.Background(), []string{scenario, "-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("bench %s -h: %v", scenario, err)
		}
	}
}

func TestBenchFailsWithoutBroker(t *testing.T) {
	var out syncBuffer
	err := bench(context.Background(), []string{"fanout", "--url", "http://127.0.0.1:1", "--subs", "1", "--duration", "100ms"}, &out, io.Discard)
	if err == nil || out.String() != "" {
		t.Fatalf("no broker: %v, printed %q", err, out.String())
	}
}
