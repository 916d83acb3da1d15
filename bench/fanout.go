package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Scenarios that publish, named as on the command line.
const (
	ScenarioFanout    = "fanout"
	ScenarioPublish   = "publish"
	ScenarioWSPublish = "ws-publish"
	ScenarioSoak      = "soak"
)

// FanoutConfig configures Fanout, and Publish, WSPublish and Soak, which
// are the same run with other defaults. Its zero value runs Fanout's 200
// WebSocket subscribers and one unpaced WebSocket publisher of 100-byte
// messages for 10 s against http://127.0.0.1:8080.
type FanoutConfig struct {
	URL         string        `json:"url"`          // the broker's base URL, the only one the run talks to; "": http://127.0.0.1:8080
	Topic       string        `json:"topic"`        // "": bench.<scenario>
	Subscribers int           `json:"subscribers"`  // 0: 200 (fanout), 100 (soak), none (publish, ws-publish)
	Publishers  int           `json:"publishers"`   // publishing connections; 0: 64 (publish), else 1
	Publish     string        `json:"publish"`      // how publishers send: ws (mode=pub frames) or http (POST); "": http for publish, else ws
	Rate        int           `json:"rate"`         // messages/s over all publishers; 0: as fast as the connections take them
	Size        int           `json:"size"`         // payload bytes, at least MinPayloadSize; 0: 100
	Duration    time.Duration `json:"duration_ns"`  // the measured window; 0: 10s (soak: 10m)
	Warmup      time.Duration `json:"warmup_ns"`    // publishing before the window: checked, not measured; 0: none
	Transport   string        `json:"transport"`    // the subscribers' transport, ws or sse; "": ws
	Policy      string        `json:"policy"`       // the subscribers' policy: drop-oldest, disconnect or block; "": drop-oldest
	MaxMessages int64         `json:"max_messages"` // publishing stops after this many messages; 0: 50,000,000
	Drain       time.Duration `json:"drain_ns"`     // how long subscribers may take to catch up once publishing stops; 0: 5s
	Every       time.Duration `json:"every_ns"`     // soak: how often a report line is written and kept; 0: 10s (fanout and the rest: a progress line a second, not kept)
	Progress    io.Writer     `json:"-"`            // receives the progress lines while the run lasts; nil: none

	// SubscriberURLs spreads the subscribers round-robin over these base
	// URLs, instances sharing topics through the redis engine (spread.go);
	// nil: all on URL.
	SubscriberURLs []string `json:"subscriber_urls,omitempty"`
}

const (
	// setupTimeout bounds connecting every subscriber and publisher.
	setupTimeout = 30 * time.Second
	// dialParallel is how many connections are being opened at once.
	dialParallel = 32
	// hangUpWait is how long the run waits for the broker to answer its
	// close frames before it closes the sockets.
	hangUpWait = time.Second
	// scrapeTimeout bounds one read of the broker's /metrics.
	scrapeTimeout = 5 * time.Second
	// drainPoll is how often the drain checks whether every subscriber
	// has caught up.
	drainPoll = 5 * time.Millisecond
	// serverDrainPoll is how often the drain of a run without subscribers
	// reads the broker's metrics to see whether it took every frame.
	serverDrainPoll = 50 * time.Millisecond
)

// withDefaults fills cfg's zero fields for scenario and validates it.
func (cfg FanoutConfig) withDefaults(scenario string) (FanoutConfig, error) {
	if cfg.URL == "" {
		cfg.URL = "http://127.0.0.1:8080"
	}
	if cfg.Topic == "" {
		cfg.Topic = "bench." + scenario
	}
	if cfg.Subscribers == 0 {
		switch scenario {
		case ScenarioFanout:
			cfg.Subscribers = 200
		case ScenarioSoak:
			cfg.Subscribers = 100
		}
	}
	if cfg.Publishers == 0 {
		cfg.Publishers = 1
		if scenario == ScenarioPublish {
			cfg.Publishers = 64
		}
	}
	if cfg.Publish == "" {
		cfg.Publish = "ws"
		if scenario == ScenarioPublish {
			cfg.Publish = "http"
		}
	}
	if cfg.Size == 0 {
		cfg.Size = 100
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
		if scenario == ScenarioSoak {
			cfg.Duration = 10 * time.Minute
		}
	}
	if cfg.Transport == "" {
		cfg.Transport = "ws"
	}
	if cfg.Policy == "" {
		cfg.Policy = PolicyDropOldest
	}
	if cfg.MaxMessages == 0 {
		cfg.MaxMessages = 50_000_000
	}
	if cfg.Drain == 0 {
		cfg.Drain = 5 * time.Second
	}
	if cfg.Every == 0 && scenario == ScenarioSoak {
		cfg.Every = 10 * time.Second
	}
	switch {
	case cfg.Subscribers < 0 || cfg.Publishers < 0:
		return cfg, errors.New("bench: --subs must not be negative and --publishers must be at least 1")
	case cfg.Subscribers == 0 && (scenario == ScenarioFanout || scenario == ScenarioSoak):
		return cfg, fmt.Errorf("bench: %s needs at least one subscriber (--subs)", scenario)
	case cfg.Rate < 0:
		return cfg, errors.New("bench: --rate must not be negative (0: as fast as possible)")
	case cfg.Size < MinPayloadSize:
		return cfg, fmt.Errorf("bench: --size %d: payloads carry a %d-byte stamp, so at least %d", cfg.Size, MinPayloadSize, MinPayloadSize)
	case cfg.Duration < 0 || cfg.Warmup < 0 || cfg.Drain < 0 || cfg.Every < 0:
		return cfg, errors.New("bench: --duration, --warmup, --every and the drain must not be negative")
	case cfg.Transport != "ws" && cfg.Transport != "sse":
		return cfg, fmt.Errorf("bench: --transport %q: want ws or sse", cfg.Transport)
	case cfg.Publish != "ws" && cfg.Publish != "http":
		return cfg, fmt.Errorf("bench: --publish %q: want ws or http", cfg.Publish)
	case cfg.MaxMessages < int64(cfg.Publishers):
		return cfg, errors.New("bench: --max-messages must be at least --publishers")
	}
	if err := validPolicy(cfg.Policy); err != nil {
		return cfg, err
	}
	if err := checkSubscriberURLs(cfg.SubscriberURLs); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Fanout runs the fan-out scenario: it subscribes cfg.Subscribers
// connections to cfg.Topic, publishes stamped messages at cfg.Rate for
// cfg.Warmup and then cfg.Duration, waits up to cfg.Drain for every
// subscriber to have every message, and reports what arrived, what was
// lost and how long it took. Once connected, publishing and draining end
// after Warmup + Duration + Drain whatever happens; reading the broker's
// metrics and closing the connections then take a few seconds at most.
//
// It returns an error, with the result measured so far, when a connection
// fails or ctx ends.
func Fanout(ctx context.Context, cfg FanoutConfig) (Result, error) {
	return runScenario(ctx, ScenarioFanout, cfg)
}

// Publish runs the HTTP publish scenario: cfg.Publishers keep-alive
// connections (64 by default) POST stamped messages to cfg.Topic as fast
// as the broker answers, or at cfg.Rate over all of them. It times every
// request and checks that every 201 carries a seq of its own, with no hole
// between them. Subscribers, when asked for, check delivery as in Fanout.
func Publish(ctx context.Context, cfg FanoutConfig) (Result, error) {
	return runScenario(ctx, ScenarioPublish, cfg)
}

// WSPublish runs the WebSocket publish scenario: cfg.Publishers mode=pub
// connections (one by default) send frames as fast as they can, or at
// cfg.Rate. The broker's ringcast_messages_published_total{transport="ws"}
// must have grown by every frame sent once the run is over; subscribers,
// when asked for, check delivery and time it as in Fanout.
func WSPublish(ctx context.Context, cfg FanoutConfig) (Result, error) {
	return runScenario(ctx, ScenarioWSPublish, cfg)
}

// Soak runs Fanout for a long time (10 minutes by default), writing a
// report line to cfg.Progress every cfg.Every (10 s) with the interval's
// rates, latencies and the broker's CPU and memory, and keeping those
// lines in the result.
func Soak(ctx context.Context, cfg FanoutConfig) (Result, error) {
	return runScenario(ctx, ScenarioSoak, cfg)
}

func runScenario(ctx context.Context, scenario string, cfg FanoutConfig) (Result, error) {
	env := currentEnv()
	cfg, err := cfg.withDefaults(scenario)
	if err != nil {
		return Result{Scenario: scenario, Env: env, Config: cfg}, err
	}
	f, err := newFanout(scenario, cfg)
	if err != nil {
		return Result{Scenario: scenario, Env: env, Config: cfg}, err
	}
	defer f.transport.CloseIdleConnections()
	if err := f.connect(ctx); err != nil {
		f.release()
		return Result{Scenario: scenario, Env: env, Config: cfg}, err
	}
	res, err := f.measure(ctx)
	res.Env = env
	return res, err
}

// fanout is one run of a publishing scenario.
type fanout struct {
	scenario  string
	cfg       FanoutConfig
	run       uint32 // tells this run's messages from any other's
	topicURL  string // http(s)://…/v1/topics/{topic}
	wsURL     string // ws(s)://…/v1/topics/{topic}/ws
	transport *http.Transport
	client    *http.Client
	win       window
	http      *httpTarget // HTTP publishers' target; nil for WebSocket ones

	subs      []*subscriber
	pubs      []*publisher
	wg        sync.WaitGroup // every subscriber and publisher goroutine
	intervals []Interval     // soak's reports, written by the progress goroutine
}

func newFanout(scenario string, cfg FanoutConfig) (*fanout, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --url %q: want http://HOST:PORT or https://HOST:PORT", cfg.URL)
	}
	topicURL := strings.TrimSuffix(u.String(), "/") + "/v1/topics/" + url.PathEscape(cfg.Topic)
	// No proxy: the run talks to cfg.URL and nothing else.
	tr := &http.Transport{
		DisableCompression:    true,
		ResponseHeaderTimeout: handshakeTimeout,
		MaxIdleConnsPerHost:   1,
	}
	f := &fanout{
		scenario:  scenario,
		cfg:       cfg,
		run:       rand.Uint32(),
		topicURL:  topicURL,
		wsURL:     "ws" + strings.TrimPrefix(topicURL, "http") + "/ws",
		transport: tr,
		client:    &http.Client{Transport: tr},
	}
	if cfg.Publish == "http" {
		f.http = &httpTarget{addr: hostPort(u), uri: topicURL}
		if u.Scheme == "https" {
			f.http.tls = &tls.Config{ServerName: u.Hostname()}
		}
	}
	return f, nil
}

// hostPort is u's host with its port, the scheme's default if u has none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// measure runs the connected scenario and collects its result.
func (f *fanout) measure(ctx context.Context) (Result, error) {
	cfg := f.cfg
	res := Result{Scenario: f.scenario, Config: cfg, StoppedBy: "duration"}
	before, scrapeErr := f.scrape(ctx)

	t0 := time.Now()
	end := t0.Add(cfg.Warmup + cfg.Duration)
	f.win.start = t0.Add(cfg.Warmup).UnixNano()
	f.win.end.Store(end.UnixNano())
	runCtx, cancel := context.WithDeadline(ctx, end.Add(cfg.Drain))
	defer cancel()
	if f.http != nil {
		f.http.hardEnd.Store(end.Add(cfg.Drain).UnixNano())
	}
	// Whatever happens, nothing outlives the deadline.
	stopAborting := context.AfterFunc(runCtx, f.abort)
	defer stopAborting()
	for _, s := range f.subs {
		f.wg.Go(s.receive)
	}
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() { f.progress(ctx, t0, before, progressDone) })

	pubErrs := f.publish(t0, end, runCtx.Done())
	f.win.cut(time.Now().UnixNano())
	final := make([]uint64, len(f.pubs))
	for i, p := range f.pubs {
		final[i] = p.stamp.counter
		res.Published += p.stamp.counter
		res.PublishedMeasured += p.measured
		res.Refused += p.rejected
		if p.stamp.counter == limitOf(cfg, i) {
			res.StoppedBy = "max-messages"
		}
	}
	if ctx.Err() != nil {
		res.StoppedBy = "interrupted"
	}

	drainCtx, cancelDrain := context.WithTimeout(runCtx, cfg.Drain)
	switch {
	case len(f.subs) > 0:
		res.Drained = f.drain(drainCtx, res.Published)
	case f.http != nil:
		res.Drained = true // every publish was answered
	case scrapeErr == nil:
		res.Drained = f.drainServer(drainCtx, before, res.Published)
	}
	cancelDrain()
	if scrapeErr == nil {
		var after serverSample
		if after, scrapeErr = f.scrape(ctx); scrapeErr == nil {
			res.Server = serverStats(before, after, time.Since(t0), cfg.Publish)
		}
	}
	if scrapeErr != nil {
		res.Warnings = append(res.Warnings, scrapeErr.Error())
	}
	close(progressDone)
	progress.Wait()
	res.Intervals = f.intervals
	f.hangUp(runCtx)
	f.tally(&res, final)
	return res, f.failure(ctx, pubErrs)
}

// publish runs every publisher from start to end, or until stop is
// closed, and returns how each failed.
func (f *fanout) publish(start, end time.Time, stop <-chan struct{}) []error {
	errs := make([]error, len(f.pubs))
	rate := float64(f.cfg.Rate) / float64(len(f.pubs))
	var wg sync.WaitGroup
	for i, p := range f.pubs {
		f.wg.Go(p.conn.read)
		wg.Go(func() {
			if err := p.publish(start, end, rate, limitOf(f.cfg, i), stop); err != nil && !p.closing.Load() {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return errs
}

// tally adds up what the subscribers received, final being each
// publisher's last counter; call it once they have all returned.
func (f *fanout) tally(res *Result, final []uint64) {
	loss := LossCheck{Policy: f.cfg.Policy}
	for _, s := range f.subs {
		gaps := s.lost.Load()
		missing := s.settle(final)
		loss.Gaps += gaps
		if s.disconnected.Load() {
			loss.Disconnected++
			loss.ByPolicy += missing
		} else {
			loss.Undelivered += missing
		}
		res.Delivered += s.delivered.Load()
		res.DeliveredMeasured += s.measured
		res.Lost += s.lost.Load()
		res.Errors += s.errors
	}
	loss.Errors = res.Errors
	res.Expected = res.Published * uint64(len(f.subs))
	if res.Expected > 0 {
		res.LossPercent = 100 * float64(res.Lost) / float64(res.Expected)
	}
	res.Latency = latencyOf(f.mergeLatency())
	res.Measured = max(time.Duration(f.win.end.Load()-f.win.start), 0)
	if secs := res.Measured.Seconds(); secs > 0 {
		res.PublishRate = float64(res.PublishedMeasured) / secs
		res.DeliveryRate = float64(res.DeliveredMeasured) / secs
	}
	if len(f.subs) > 0 {
		loss.judge(res.Server)
		res.Loss = &loss
	}
	res.Ingest = f.ingest(res)
	if rate := f.cfg.Rate; rate > 0 && res.StoppedBy == "duration" && res.PublishRate < 0.95*float64(rate) {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the publishers reached %.0f msg/s of the %d asked: the broker's ingest or this load generator is the bottleneck", res.PublishRate, rate))
	}
}

// ingest checks the publishing side: for HTTP the seqs of the answers,
// for WebSocket the broker's count of accepted frames; and it gathers the
// HTTP request latencies.
func (f *fanout) ingest(res *Result) IngestCheck {
	c := IngestCheck{Transport: f.cfg.Publish, Published: res.Published, Refused: res.Refused}
	if s := res.Server; s != nil {
		c.Accepted = &s.Accepted
	}
	if f.http != nil {
		h := newHist()
		req := &Requests{Refused: map[string]uint64{}}
		var accepted, reordered uint64
		for _, p := range f.pubs {
			hs := p.conn.(*httpSender)
			h.Merge(hs.hist)
			accepted += hs.accepted
			reordered += hs.reordered
			for k, v := range hs.refused {
				req.Refused[k] += v
			}
		}
		req.Latency = latencyOf(h)
		seq := f.http.seqs.check(accepted, reordered)
		req.Seq = &seq
		res.Requests = req
	}
	c.judge(res.Requests, res.Drained)
	return c
}

// mergeLatency merges every subscriber's latency histogram; call it once
// they have all returned.
func (f *fanout) mergeLatency() *hdr.Histogram {
	h := newHist()
	for _, s := range f.subs {
		h.Merge(s.hist)
	}
	return h
}

// limitOf is how many messages publisher i may send.
func limitOf(cfg FanoutConfig, i int) uint64 {
	n, p := uint64(cfg.MaxMessages), uint64(cfg.Publishers)
	if uint64(i) < n%p {
		return n/p + 1
	}
	return n / p
}

// scrape reads the broker's /metrics.
func (f *fanout) scrape(ctx context.Context) (serverSample, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scrapeTimeout)
	defer cancel()
	return scrapeServer(ctx, f.client, f.metricsURL())
}

func (f *fanout) metricsURL() string {
	return strings.TrimSuffix(f.topicURL, "/v1/topics/"+url.PathEscape(f.cfg.Topic)) + "/metrics"
}
