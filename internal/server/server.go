package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress"
	"github.com/ringcast/ringcast/ingress"
	"github.com/ringcast/ringcast/internal/auth"
	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/edge"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/ringcast/ringcast/internal/redisengine"
)

// Defaults of the contract's flags (API.md).
const (
	DefaultListen          = ":8080"
	DefaultMaxMessageBytes = 1 << 20
	DefaultMaxBatchBytes   = 16 << 20
	DefaultPublishTimeout  = 5 * time.Second
	DefaultDrainTimeout    = 10 * time.Second
)

// Config configures a Server. Its zero value serves the in-memory broker on
// :8080 with the contract's defaults.
type Config struct {
	Listen          string        // PORT, :PORT or IP:PORT; "": ":8080"
	RingSize        int           // slots per topic; 0: 65536
	MaxMessageBytes int           // 0: 1 MiB
	MaxBatchBytes   int           // 0: 16 MiB
	PublishTimeout  time.Duration // 0: 5s
	DrainTimeout    time.Duration // 0: 10s; Run's bound on Shutdown
	PingInterval    time.Duration // WebSocket keepalive; 0: 20s
	SSEHeartbeat    time.Duration // 0: 15s
	TopicIdle       time.Duration // idle topics are removed after this; 0: 10m
	MaxTopics       int           // 0: 100000
	Rules           []broker.TopicRule
	Registry        *prometheus.Registry // nil: a new one with Go and process collectors
	Logger          *slog.Logger         // nil: slog.Default()
	// Destinations and Sources come from the configuration file, validated
	// by config.Parse. Start starts them after the listener; Shutdown
	// stops them with the rest, before the broker. nil: none.
	Destinations []config.Destination
	Sources      []config.Source
	Version      string // destinations and sources send User-Agent ringcast/<Version>; "": "dev"
	// Auth checks the bearer token of every topic route (auth.New builds
	// it from the file's auth section). nil: no auth, everyone may
	// publish and subscribe.
	Auth *auth.Authenticator
	// Redis, when set, runs the redis engine (engine.type: redis,
	// --redis): several instances share topics through Redis. nil: the
	// memory engine, topics live in this process only.
	Redis *redisengine.Config
	// DocumentRoot, when set, is a directory whose files are served at /
	// (index.html for /), and the console moves to /console/ (static.go).
	// New fails unless it is a directory. "": the console at /.
	DocumentRoot string
	// The network edge (edge.go): TLS serves HTTPS and WSS (zero: plain
	// HTTP); ACL is the acl key ("": everyone); TrustedProxies are the
	// CIDRs or IPs whose PROXY protocol and X-Forwarded-For are believed
	// (nil: none); Limits bound connections, publish rates, timeouts and
	// header size (zero: unlimited, with default timeouts).
	TLS            config.ServerTLS
	ACL            string
	TrustedProxies []string
	Limits         Limits
}

// Server is a running Ringcast: broker, ingress, egress and the listener.
type Server struct {
	cfg      Config
	log      *slog.Logger
	reg      *prometheus.Registry
	broker   *broker.Broker
	ingress  *ingress.Ingress
	egress   *egress.Egress
	dests    *egress.Destinations
	sources  *ingress.Sources
	conns    *httpx.ConnMetrics
	http     *fasthttp.Server
	metrics  fasthttp.RequestHandler
	ln       net.Listener
	draining atomic.Bool
	engine   *redisengine.Engine // nil: the memory engine
	static   *staticFiles        // Config.DocumentRoot; nil: none
	// The network edge (edge.go).
	acl         edge.ACL
	trusted     edge.Nets
	cert        *edge.Certificate // nil: no TLS
	rate        *edge.RateLimiter // nil: no publish_rate_per_ip
	edgeMetrics *edge.Metrics
	edgeLn      *edge.Listener
	served      servedConns // for Shutdown (conns.go)
	serveErr    chan error
	stopOnce    sync.Once
}

// New validates cfg, fills its defaults and builds the server; Start
// listens.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	addr, err := config.ParseListen(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("server: --listen: %w", err)
	}
	cfg.Listen = addr
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.MaxMessageBytes < 0 || cfg.MaxBatchBytes < 0 || cfg.PublishTimeout < 0 || cfg.DrainTimeout < 0 {
		return nil, errors.New("server: --max-message-bytes, --max-batch-bytes, --publish-timeout and --drain-timeout must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry, serveErr: make(chan error, 1)}
	if s.static, err = newStaticFiles(cfg.DocumentRoot); err != nil {
		return nil, err
	}
	if err := s.newEdge(); err != nil {
		return nil, err
	}
	eng, err := s.newEngine()
	if err != nil {
		return nil, err
	}
	s.broker, err = broker.New(broker.Config{
		Engine:         eng,
		RingSize:       cfg.RingSize,
		PublishTimeout: cfg.PublishTimeout,
		IdleTimeout:    cfg.TopicIdle,
		MaxTopics:      cfg.MaxTopics,
		Rules:          cfg.Rules,
		Registerer:     s.reg,
	})
	if err != nil {
		s.closeEngine()
		return nil, fmt.Errorf("server: --ring-size or topic rules: %w", err)
	}
	s.startEngine()
	s.conns = httpx.NewConnMetrics(s.reg)
	s.ingress, err = ingress.New(ingress.Config{
		Broker:          s.broker,
		Conns:           s.conns,
		Registerer:      s.reg,
		MaxMessageBytes: cfg.MaxMessageBytes,
		MaxBatchBytes:   cfg.MaxBatchBytes,
		PublishTimeout:  cfg.PublishTimeout,
		PingInterval:    cfg.PingInterval,
		Pace:            s.pacer(),
	})
	if err != nil {
		s.broker.Close()
		return nil, err
	}
	s.egress, err = egress.New(egress.Config{
		Broker:          s.broker,
		Conns:           s.conns,
		Registerer:      s.reg,
		MaxMessageBytes: cfg.MaxMessageBytes,
		PingInterval:    cfg.PingInterval,
		SSEHeartbeat:    cfg.SSEHeartbeat,
		// Drained subscribers are told to reconnect within half the drain
		// timeout, so a rolling restart's clients are back before the next
		// instance drains.
		ReconnectWindow: cfg.DrainTimeout / 2,
		Publish:         s.ingress.PublishFrame,
		// Upgraded connections keep no fasthttp goroutine or wrapper:
		// 13.3 KiB per idle subscriber instead of 18.0 (egress's memory test).
		KeepHijackedConns: true,
	})
	if err != nil {
		s.broker.Close()
		return nil, err
	}
	if err := s.outbound(); err != nil {
		s.broker.Close()
		return nil, err
	}
	s.metrics = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.http = &fasthttp.Server{
		Handler:            s.handle,
		ErrorHandler:       s.requestError,
		ConnState:          s.connState,
		Name:               "ringcast",
		MaxRequestBodySize: max(cfg.MaxBatchBytes, cfg.MaxMessageBytes),
		ReadTimeout:        s.cfg.Limits.ReadTimeout,
		WriteTimeout:       s.cfg.Limits.WriteTimeout, // hijacked streams and WebSockets have their deadlines cleared
		IdleTimeout:        s.cfg.Limits.IdleTimeout,
		ReadBufferSize:     s.cfg.Limits.MaxHeaderBytes,
		CloseOnShutdown:    true,
		KeepHijackedConns:  true, // egress and ingress close what they hijack
		NoDefaultDate:      true,
		Logger:             fasthttpLogger{s.log},
	}
	return s, nil
}

// Broker returns the server's broker.
func (s *Server) Broker() *broker.Broker { return s.broker }

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := s.listen()
	if err != nil {
		s.broker.Close()
		return fmt.Errorf("server: cannot listen on %s (--listen): %w", s.cfg.Listen, err)
	}
	s.ln, s.edgeLn = ln, ln
	go func() { s.serveErr <- s.http.Serve(ln) }()
	s.log.Info("ringcast serving", "addr", ln.Addr().String())
	s.dests.Start()
	s.attachDestinationTopics()
	s.sources.Start()
	return nil
}

// outbound makes the destinations and sources, not started.
func (s *Server) outbound() error {
	version := s.cfg.Version
	if version == "" {
		version = "dev"
	}
	dcfgs, err := destinationConfigs(s.cfg.Destinations, "ringcast/"+version)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if s.dests, err = s.egress.NewDestinations(dcfgs, s.log); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if err := s.coordinateDestinations(); err != nil {
		return err
	}
	scfgs, err := sourceConfigs(s.cfg.Sources, "ringcast/"+version)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if s.sources, err = s.ingress.NewSources(scfgs, s.log); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// Addr returns the address the server listens on, once started.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown drains: /readyz answers 503 and new requests 503 draining, the
// listener closes, WebSocket clients get close code 1001, SSE streams end,
// sources stop, destinations finish their requests in flight and stop, and
// the broker closes. It returns when all of that is done or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.draining.Store(true)
		s.log.Info("ringcast draining")
		var wg sync.WaitGroup
		errs := make([]error, 5)
		wg.Go(func() { errs[0] = s.egress.Shutdown(ctx) })
		wg.Go(func() { errs[1] = s.ingress.Shutdown(ctx) })
		wg.Go(func() { errs[2] = s.shutdownHTTP(ctx) })
		wg.Go(func() { errs[3] = s.sources.Shutdown(ctx) })
		wg.Go(func() { errs[4] = s.dests.Shutdown(ctx) })
		wg.Wait()
		s.broker.Close()
		if serveErr := <-s.serveErr; serveErr != nil {
			errs = append(errs, serveErr)
		}
		err = errors.Join(errs...)
	})
	return err
}

// Run starts the server, serves until ctx ends, then drains within
// DrainTimeout.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-s.serveErr:
		s.serveErr <- err
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	return s.Shutdown(drainCtx)
}

// fasthttpLogger sends fasthttp's log lines to slog.
type fasthttpLogger struct{ log *slog.Logger }

// Printf logs one of fasthttp's lines as a warning.
func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}
