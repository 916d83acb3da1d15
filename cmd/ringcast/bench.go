package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	rcbench "github.com/ringcast/ringcast/bench"
)

const benchUsage = `usage: ringcast bench fanout [flags]

Load-tests a running broker, and only the one at --url. fanout subscribes
--subs connections to --topic, publishes --rate messages/s over --publishers
WebSocket connections for --warmup and then --duration, checks that every
subscriber got every message in order, and prints deliveries/s, loss and
publish-to-receive latency (--json: one JSON object). A line a second of
progress goes to standard error. Unlike the other commands, bench reads
no RINGCAST_* environment variables: its target is always explicit.`

// bench runs a load-test scenario against a running broker.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, benchUsage)
		if len(args) == 0 {
			return errors.New("bench needs a scenario: fanout")
		}
		return nil
	}
	if args[0] != "fanout" {
		return fmt.Errorf("bench: unknown scenario %q; want fanout", args[0])
	}
	cfg, asJSON, err := parseFanoutFlags(args[1:], stderr)
	if err != nil {
		return err
	}
	cfg.Progress = stderr
	res, runErr := rcbench.Fanout(ctx, cfg)
	if res.Published > 0 || runErr == nil {
		if err := writeResult(stdout, &res, asJSON); err != nil {
			return err
		}
	}
	return runErr
}

// parseFanoutFlags turns fanout's flags into its configuration.
func parseFanoutFlags(args []string, stderr io.Writer) (cfg rcbench.FanoutConfig, asJSON bool, err error) {
	fs := newFlagSet("bench fanout", stderr, benchUsage)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the broker's base URL; the run talks to nothing else")
	fs.StringVar(&cfg.Topic, "topic", "bench.fanout", "the topic to publish to and subscribe to")
	fs.IntVar(&cfg.Subscribers, "subs", 200, "subscriber connections")
	fs.IntVar(&cfg.Publishers, "publishers", 1, "publisher WebSocket connections (mode=pub)")
	fs.IntVar(&cfg.Rate, "rate", 10000, "messages/s over all publishers; 0: as fast as possible")
	fs.IntVar(&cfg.Size, "size", 100, fmt.Sprintf("payload bytes, at least %d", rcbench.MinPayloadSize))
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the measured window lasts")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "how long to publish before measuring")
	fs.StringVar(&cfg.Transport, "transport", "ws", "the subscribers' transport: ws or sse")
	fs.Int64Var(&cfg.MaxMessages, "max-messages", 50_000_000, "publishing stops after this many messages")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, false, fmt.Errorf("bench fanout takes no arguments, got %q", fs.Args())
	case cfg.Subscribers < 1 || cfg.Publishers < 1:
		return cfg, false, errors.New("bench fanout: --subs and --publishers must be at least 1")
	case cfg.Duration <= 0:
		return cfg, false, errors.New("bench fanout: --duration must be positive")
	case cfg.MaxMessages < 1:
		return cfg, false, errors.New("bench fanout: --max-messages must be at least 1")
	}
	return cfg, asJSON, nil
}

// writeResult prints res as a table or as JSON.
func writeResult(w io.Writer, res *rcbench.Result, asJSON bool) error {
	if !asJSON {
		return res.WriteText(w)
	}
	return json.NewEncoder(w).Encode(res)
}
