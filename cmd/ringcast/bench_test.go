package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
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
	} {
		if err := bench(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("bench %q ran", args)
		}
	}
	if err := bench(context.Background(), []string{"fanout", "-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("bench fanout -h: %v", err)
	}
}

func TestBenchFailsWithoutBroker(t *testing.T) {
	var out syncBuffer
	err := bench(context.Background(), []string{"fanout", "--url", "http://127.0.0.1:1", "--subs", "1", "--duration", "100ms"}, &out, io.Discard)
	if err == nil || out.String() != "" {
		t.Fatalf("no broker: %v, printed %q", err, out.String())
	}
}
