package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ringcast/ringcast/internal/auth"
	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/server"
)

const serveUsage = `usage: ringcast [serve] [flags]

Runs the broker: HTTP and WebSocket publish, WebSocket and SSE subscribe,
the console at /, metrics at /metrics. Every flag can also be set with the
environment variable RINGCAST_<FLAG>, e.g. RINGCAST_LISTEN=:9000; flags
and environment override the configuration file's top-level settings.`

// serveFlags holds serve's flags.
type serveFlags struct {
	listen          string
	ringSize        int
	maxMessageBytes int
	maxBatchBytes   int
	publishTimeout  time.Duration
	drainTimeout    time.Duration
	configFile      string
	showVersion     bool
	redis           string // --redis: host:port[,host:port]
}

func newServeFlags(stderr io.Writer) (*flag.FlagSet, *serveFlags) {
	f := &serveFlags{}
	fs := newFlagSet("serve", stderr, serveUsage)
	fs.StringVar(&f.listen, "listen", server.DefaultListen, "listen on PORT, :PORT or IP:PORT")
	fs.IntVar(&f.ringSize, "ring-size", 65536, "slots per topic ring, a power of two")
	fs.IntVar(&f.maxMessageBytes, "max-message-bytes", server.DefaultMaxMessageBytes, "largest message accepted, in bytes")
	fs.IntVar(&f.maxBatchBytes, "max-batch-bytes", server.DefaultMaxBatchBytes, "largest batch body accepted, in bytes")
	fs.DurationVar(&f.publishTimeout, "publish-timeout", server.DefaultPublishTimeout, "how long a publish waits for block subscribers before 503 backpressure")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", server.DefaultDrainTimeout, "how long shutdown may take")
	fs.StringVar(&f.configFile, "config", "", "YAML configuration file (see CONFIG.md)")
	fs.StringVar(&f.redis, "redis", "", "share topics with other instances through Redis at HOST:PORT (several, comma-separated: Redis Cluster); the short form of engine.type: redis")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	return fs, f
}

// serve runs the broker until ctx ends (SIGINT or SIGTERM), then drains.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newServeFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.showVersion {
		fmt.Fprintln(stdout, "ringcast", version)
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	cfg, err := serverConfig(fs, f)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Version = version
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	defer reloadOnHUP(s, cfg.Logger)()
	return s.Run(ctx)
}

// serverConfig builds the server's configuration: the file's settings
// first, then every flag given on the command line or in the environment.
func serverConfig(fs *flag.FlagSet, f *serveFlags) (server.Config, error) {
	cfg := server.Config{
		Listen: f.listen, RingSize: f.ringSize, MaxMessageBytes: f.maxMessageBytes,
		MaxBatchBytes: f.maxBatchBytes, PublishTimeout: f.publishTimeout, DrainTimeout: f.drainTimeout,
	}
	// Without a file the defaults apply, limits included, as with an empty
	// file.
	var file *config.Config
	var err error
	name := f.configFile
	if name == "" {
		name = "the default configuration"
		file, err = config.Parse(name, nil)
	} else {
		file, err = config.Load(name)
	}
	if err != nil {
		return cfg, err
	}
	if cfg.Rules, err = file.BrokerRules(); err != nil {
		return cfg, err
	}
	if cfg.Auth, err = auth.New(file.Auth); err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	cfg.MaxTopics = file.Limits.MaxTopics
	cfg.TLS, cfg.ACL, cfg.TrustedProxies = file.TLS, file.ACL, file.TrustedProxies
	cfg.Limits = serverLimits(file.Limits)
	cfg.Destinations, cfg.Sources = file.Destinations, file.Sources
	if err := applyRedis(&cfg, file, f.redis); err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	cfg.DocumentRoot = file.DocumentRoot
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if !given["listen"] && file.Listen != "" {
		cfg.Listen = file.Listen
	}
	if !given["ring-size"] && file.RingSize != 0 {
		cfg.RingSize = file.RingSize
	}
	if !given["max-message-bytes"] && file.MaxMessageBytes != 0 {
		cfg.MaxMessageBytes = int(file.MaxMessageBytes)
	}
	if !given["publish-timeout"] && file.PublishTimeout != 0 {
		cfg.PublishTimeout = time.Duration(file.PublishTimeout)
	}
	if !given["drain-timeout"] && file.DrainTimeout != 0 {
		cfg.DrainTimeout = time.Duration(file.DrainTimeout)
	}
	return cfg, nil
}
