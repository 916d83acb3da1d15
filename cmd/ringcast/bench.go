package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	rcbench "github.com/ringcast/ringcast/bench"
)

const benchUsage = `usage: ringcast bench SCENARIO [flags]

Load-tests a running broker, and only the one at --url. Every run stops by
itself (--duration, --max-messages, --timeout), prints its result (--json:
one JSON object, comparable between runs) and writes a progress line a
second to standard error. Unlike the other commands, bench reads no
RINGCAST_* environment variables: its target is always explicit.

Scenarios (ringcast bench SCENARIO -h for the flags of each):
  publish      HTTP POST over --connections keep-alive connections, as fast
               as possible or at --rate; times every request and checks that
               every 201 got a seq of its own, without holes
  ws-publish   WebSocket frames over --connections mode=pub connections as
               fast as possible; the broker's published counter must grow by
               every frame; --subs subscribers time and check delivery.
               Unpaced (--rate 0, here and in fanout), a WebSocket publisher
               packs its frames into one write() per 32 KiB; paced, it
               writes each frame as it is due
  fanout       --publishers publishers, --subs WebSocket or SSE subscribers,
               --rate messages/s; every subscriber must get every message in
               order, judged by --policy's rules
  connections  ramps to --connections idle subscribers and reports the
               broker's resident memory per connection, then checks that each
               still gets messages
  soak         fanout for a long --duration, reporting every --every with the
               broker's CPU, memory and drops

ringcast bench table FILE... prints the --json results in FILEs (one
object each) as a Markdown table to compare runs (bench/run.sh uses it).

Loss is judged by the subscribers' --policy: drop-oldest may skip messages
if the broker counts each one (ringcast_messages_dropped_total); disconnect
may close a lapped subscriber but never skip; block may lose nothing
(it needs a topic rule with allow_block).

File descriptors: connections needs one per connection here and one in the
broker. bench raises its own soft limit to the hard one; start the broker
from a shell whose limit is high enough (ulimit -n 65536), and, since every
connection comes from one address, with limits.max_connections_per_ip
above --connections (default 1000): ringcast serve --config
bench/loopback.yaml.`

// benchScenarios are the scenarios, as the usage lists them.
var benchScenarios = []string{rcbench.ScenarioPublish, rcbench.ScenarioWSPublish, rcbench.ScenarioFanout, rcbench.ScenarioConnections, rcbench.ScenarioSoak}

// bench runs a load-test scenario against a running broker.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, benchUsage)
		if len(args) == 0 {
			return fmt.Errorf("bench needs a scenario: %v", benchScenarios)
		}
		return nil
	}
	scenario, args := args[0], args[1:]
	if scenario == "table" {
		return benchTable(args, stdout)
	}
	if scenario == rcbench.ScenarioConnections {
		cfg, asJSON, err := parseConnectionsFlags(args, stderr)
		if err != nil {
			return err
		}
		cfg.Progress = stderr
		res, runErr := rcbench.Connections(ctx, cfg)
		if res.Connected > 0 || runErr == nil {
			if err := writeJSONOr(stdout, &res, asJSON, res.WriteText); err != nil {
				return err
			}
		}
		return runErr
	}
	run, ok := map[string]func(context.Context, rcbench.FanoutConfig) (rcbench.Result, error){
		rcbench.ScenarioPublish:   rcbench.Publish,
		rcbench.ScenarioWSPublish: rcbench.WSPublish,
		rcbench.ScenarioFanout:    rcbench.Fanout,
		rcbench.ScenarioSoak:      rcbench.Soak,
	}[scenario]
	if !ok {
		return fmt.Errorf("bench: unknown scenario %q; want one of %v", scenario, benchScenarios)
	}
	cfg, asJSON, err := parsePublishingFlags(scenario, args, stderr)
	if err != nil {
		return err
	}
	cfg.Progress = stderr
	res, runErr := run(ctx, cfg)
	if res.Published > 0 || runErr == nil {
		if err := writeResult(stdout, &res, asJSON); err != nil {
			return err
		}
	}
	return runErr
}

// publishingDefaults are the flag defaults of a publishing scenario.
type publishingDefaults struct {
	subs, publishers int
	publish          string
	rate             int
	duration, warmup time.Duration
}

var scenarioDefaults = map[string]publishingDefaults{
	rcbench.ScenarioPublish:   {subs: 0, publishers: 64, publish: "http", rate: 0, duration: 10 * time.Second, warmup: time.Second},
	rcbench.ScenarioWSPublish: {subs: 1, publishers: 1, publish: "ws", rate: 0, duration: 10 * time.Second, warmup: time.Second},
	rcbench.ScenarioFanout:    {subs: 200, publishers: 1, publish: "ws", rate: 10000, duration: 10 * time.Second, warmup: time.Second},
	rcbench.ScenarioSoak:      {subs: 100, publishers: 1, publish: "ws", rate: 1000, duration: 10 * time.Minute, warmup: time.Second},
}

// parsePublishingFlags turns the flags of publish, ws-publish, fanout or
// soak into the run's configuration.
func parsePublishingFlags(scenario string, args []string, stderr io.Writer) (cfg rcbench.FanoutConfig, asJSON bool, err error) {
	d := scenarioDefaults[scenario]
	fs := newFlagSet("bench "+scenario, stderr, benchUsage)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the broker's base URL; the run talks to nothing else")
	fs.StringVar(&cfg.Topic, "topic", "bench."+scenario, "the topic to publish to and subscribe to")
	pubFlag, pubHelp := "publishers", "publishing connections"
	if scenario == rcbench.ScenarioPublish || scenario == rcbench.ScenarioWSPublish {
		pubFlag = "connections"
	}
	fs.IntVar(&cfg.Publishers, pubFlag, d.publishers, pubHelp)
	fs.StringVar(&cfg.Publish, "publish", d.publish, "how publishers send: ws (mode=pub frames) or http (POST)")
	fs.IntVar(&cfg.Subscribers, "subs", d.subs, "subscriber connections that check and time every message")
	fs.IntVar(&cfg.Rate, "rate", d.rate, "messages/s over all publishers; 0: as fast as possible")
	fs.IntVar(&cfg.Size, "size", 100, fmt.Sprintf("payload bytes, at least %d", rcbench.MinPayloadSize))
	fs.DurationVar(&cfg.Duration, "duration", d.duration, "how long the measured window lasts")
	fs.DurationVar(&cfg.Warmup, "warmup", d.warmup, "how long to publish before measuring")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "how long subscribers may take to catch up once publishing stops")
	fs.StringVar(&cfg.Transport, "transport", "ws", "the subscribers' transport: ws or sse")
	fs.StringVar(&cfg.Policy, "policy", rcbench.PolicyDropOldest, "the subscribers' policy: drop-oldest, disconnect or block")
	fs.Int64Var(&cfg.MaxMessages, "max-messages", 50_000_000, "publishing stops after this many messages")
	if scenario == rcbench.ScenarioSoak {
		fs.DurationVar(&cfg.Every, "every", 10*time.Second, "how often to report")
	}
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	fs.Func("sub-urls", "spread the subscribers round-robin over these base URLs, comma-separated (instances sharing topics through --redis); default: --url", func(v string) error {
		cfg.SubscriberURLs = strings.Split(v, ",")
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	minSubs := 0
	if scenario == rcbench.ScenarioFanout || scenario == rcbench.ScenarioSoak {
		minSubs = 1
	}
	switch {
	case fs.NArg() > 0:
		return cfg, false, fmt.Errorf("bench %s takes no arguments, got %q", scenario, fs.Args())
	case cfg.Subscribers < minSubs:
		return cfg, false, fmt.Errorf("bench %s: --subs must be at least %d", scenario, minSubs)
	case cfg.Publishers < 1:
		return cfg, false, fmt.Errorf("bench %s: --%s must be at least 1", scenario, pubFlag)
	case cfg.Duration <= 0:
		return cfg, false, fmt.Errorf("bench %s: --duration must be positive", scenario)
	case cfg.Drain <= 0:
		return cfg, false, fmt.Errorf("bench %s: --drain must be positive", scenario)
	case cfg.MaxMessages < 1:
		return cfg, false, fmt.Errorf("bench %s: --max-messages must be at least 1", scenario)
	case scenario == rcbench.ScenarioSoak && cfg.Every <= 0:
		return cfg, false, errors.New("bench soak: --every must be positive")
	}
	return cfg, asJSON, nil
}

// parseConnectionsFlags turns the connections scenario's flags into its
// configuration.
func parseConnectionsFlags(args []string, stderr io.Writer) (cfg rcbench.ConnectionsConfig, asJSON bool, err error) {
	fs := newFlagSet("bench connections", stderr, benchUsage)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the broker's base URL; the run talks to nothing else")
	fs.StringVar(&cfg.Topic, "topic", "bench.connections", "the topic the connections subscribe to")
	fs.IntVar(&cfg.Connections, "connections", 1000, "idle subscribers to hold (one file descriptor each, here and in the broker)")
	fs.StringVar(&cfg.Transport, "transport", "ws", "the subscribers' transport: ws or sse")
	fs.IntVar(&cfg.Ramp, "ramp", 0, "connections opened per second; 0: as fast as possible")
	fs.DurationVar(&cfg.Hold, "hold", 5*time.Second, "how long the connections stay idle before the broker's memory is read")
	fs.IntVar(&cfg.Messages, "messages", 3, "messages then published to every connection and checked")
	fs.IntVar(&cfg.Size, "size", 100, fmt.Sprintf("payload bytes of those, at least %d", rcbench.MinPayloadSize))
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "bounds the ramp, and the delivery check")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, false, fmt.Errorf("bench connections takes no arguments, got %q", fs.Args())
	case cfg.Connections < 1:
		return cfg, false, errors.New("bench connections: --connections must be at least 1")
	case cfg.Messages < 1:
		return cfg, false, errors.New("bench connections: --messages must be at least 1")
	case cfg.Hold <= 0 || cfg.Timeout <= 0:
		return cfg, false, errors.New("bench connections: --hold and --timeout must be positive")
	}
	return cfg, asJSON, nil
}

// benchTable prints the JSON results in files as one Markdown table.
func benchTable(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return errors.New("bench table needs the JSON result files of ringcast bench --json runs")
	}
	rows := make([]rcbench.Row, 0, len(files))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("bench table: %w", err)
		}
		row, err := rcbench.ReadRow(b)
		if err != nil {
			return fmt.Errorf("bench table: %s: %w", name, err)
		}
		rows = append(rows, row)
	}
	return rcbench.WriteTable(stdout, rows)
}

// writeResult prints res as a table or as JSON.
func writeResult(w io.Writer, res *rcbench.Result, asJSON bool) error {
	return writeJSONOr(w, res, asJSON, res.WriteText)
}

// writeJSONOr prints v as JSON, or with text.
func writeJSONOr(w io.Writer, v any, asJSON bool, text func(io.Writer) error) error {
	if !asJSON {
		return text(w)
	}
	return json.NewEncoder(w).Encode(v)
}
