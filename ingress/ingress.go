package ingress

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Defaults for Config's zero values.
const (
	DefaultMaxMessageBytes = 1 << 20
	DefaultMaxBatchBytes   = 16 << 20
	DefaultPublishTimeout  = 5 * time.Second
	DefaultPingInterval    = 20 * time.Second
)

// Config configures an Ingress. Every field but Broker has a working zero
// value.
type Config struct {
	Broker          *broker.Broker        // required
	Conns           *httpx.ConnMetrics    // WebSocket publishers' gauge and events; nil: counted privately
	Registerer      prometheus.Registerer // nil: metrics not registered
	MaxMessageBytes int                   // --max-message-bytes; 0: 1 MiB
	MaxBatchBytes   int                   // --max-batch-bytes; 0: 16 MiB
	PublishTimeout  time.Duration         // --publish-timeout, how long an HTTP publish waits for block subscribers (the broker's own PublishTimeout bounds it too); 0: 5s
	PingInterval    time.Duration         // WebSocket publisher keepalive, a dead peer is closed within 2 intervals; 0: 20s
	// Pace runs before each WebSocket frame (mode=pub and, through
	// PublishFrame, mode=pubsub) is published, with the publisher's
	// address; it waits as long as the server's publish_rate_per_ip
	// requires, so the connection is not read meanwhile. An error (ctx
	// ended) gives the frame up as ErrDraining. nil: no wait.
	Pace func(ctx context.Context, remoteAddr string) error
}

// Ingress is the publish side of the HTTP server. Create it with New and
// stop it with Shutdown.
type Ingress struct {
	b          *broker.Broker
	conns      *httpx.ConnMetrics
	m          *metrics
	maxMessage int
	maxBatch   int
	timeout    time.Duration
	ping       time.Duration
	upgrader   websocket.FastHTTPUpgrader
	pace       func(ctx context.Context, remoteAddr string) error

	// ctx is cancelled by Shutdown; publishes waiting for block
	// subscribers give up on it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex // guards draining and pubs, and orders wg.Add before wg.Wait
	draining bool
	pubs     map[*wsPublisher]struct{}
	wg       sync.WaitGroup // one per WebSocket publisher goroutine
}

// New fills cfg's defaults, validates it and registers the metrics.
func New(cfg Config) (*Ingress, error) {
	if cfg.Broker == nil {
		return nil, errors.New("ingress: Config.Broker is nil")
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	switch {
	case cfg.MaxMessageBytes < 0:
		return nil, errors.New("ingress: MaxMessageBytes (--max-message-bytes) must not be negative")
	case cfg.MaxBatchBytes < 0:
		return nil, errors.New("ingress: MaxBatchBytes (--max-batch-bytes) must not be negative")
	case cfg.PublishTimeout < 0:
		return nil, errors.New("ingress: PublishTimeout (--publish-timeout) must not be negative")
	case cfg.PingInterval < 0:
		return nil, errors.New("ingress: PingInterval must not be negative")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	if cfg.Conns == nil {
		cfg.Conns = httpx.NewConnMetrics(nil)
	}
	i := &Ingress{
		b:          cfg.Broker,
		conns:      cfg.Conns,
		m:          m,
		maxMessage: cfg.MaxMessageBytes,
		maxBatch:   cfg.MaxBatchBytes,
		timeout:    cfg.PublishTimeout,
		ping:       cfg.PingInterval,
		pubs:       map[*wsPublisher]struct{}{},
		pace:       cfg.Pace,
	}
	i.ctx, i.cancel = context.WithCancel(context.Background())
	i.upgrader = newUpgrader(i)
	return i, nil
}

// Shutdown drains the WebSocket publishers: it closes each with 1001
// (going away) and waits for their goroutines. Publishes waiting for block
// subscribers give up with 503 draining (HTTP) or are not accepted
// (WebSocket, counted as draining). New WebSocket publishers are refused
// with 503 draining. When ctx ends first, Shutdown closes the remaining
// connections at once, waits for their goroutines and returns ctx.Err().
// It is safe to call more than once.
func (i *Ingress) Shutdown(ctx context.Context) error {
	i.mu.Lock()
	i.draining = true
	pubs := i.publishers()
	i.mu.Unlock()
	i.cancel()
	for _, p := range pubs {
		p.goAway()
	}
	done := make(chan struct{})
	go func() {
		i.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	i.mu.Lock()
	pubs = i.publishers()
	i.mu.Unlock()
	for _, p := range pubs {
		p.abort()
	}
	<-done
	return ctx.Err()
}

// publishers returns the open WebSocket publishers. Called under i.mu.
func (i *Ingress) publishers() []*wsPublisher {
	out := make([]*wsPublisher, 0, len(i.pubs))
	for p := range i.pubs {
		out = append(out, p)
	}
	return out
}

// track registers p's goroutine with Shutdown; false means the ingress is
// draining and p must close at once.
func (i *Ingress) track(p *wsPublisher) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.draining {
		return false
	}
	i.pubs[p] = struct{}{}
	i.wg.Add(1)
	return true
}

// untrack tells Shutdown that p's goroutine is done.
func (i *Ingress) untrack(p *wsPublisher) {
	i.mu.Lock()
	delete(i.pubs, p)
	i.mu.Unlock()
	i.wg.Done()
}

// isDraining reports whether Shutdown has begun.
func (i *Ingress) isDraining() bool { return i.ctx.Err() != nil }
