package redisengine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config's zero values.
const (
	DefaultPrefix    = "ringcast"
	DefaultTimeout   = 2 * time.Second
	DefaultIdleDelay = 30 * time.Second
)

// Config configures an Engine. Addrs is required; every other field has a
// working zero value.
type Config struct {
	// Addrs are Redis host:port addresses (--redis, engine.redis.addrs);
	// several mean Redis Cluster.
	Addrs []string
	// Password authenticates to Redis (engine.redis.password_file). "": none.
	Password string
	// Prefix starts every key and channel (engine.redis.prefix). "": "ringcast".
	Prefix string
	// HistorySize is how many messages Redis keeps per topic
	// (engine.redis.history_size). 0: the topic's ring size.
	HistorySize int
	// TLS, when set, speaks TLS to Redis (engine.redis.tls). nil: plain TCP.
	TLS *tls.Config
	// Timeout bounds one Redis round trip: a publish that takes longer
	// answers 503 unavailable. 0: 2s.
	Timeout time.Duration
	// IdleDelay is how long a topic has no local subscriber before the
	// instance unsubscribes from it. 0: 30s.
	IdleDelay time.Duration
	// Registerer is where the ringcast_engine_* metrics go. nil: not
	// registered.
	Registerer prometheus.Registerer
}

// fill fills the defaults and validates.
func (c *Config) fill() error {
	if len(c.Addrs) == 0 {
		return errors.New("redisengine: no Redis address: give --redis HOST:PORT or engine.redis.addrs")
	}
	for _, a := range c.Addrs {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return fmt.Errorf("redisengine: %q is not host:port (--redis, engine.redis.addrs)", a)
		}
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.IdleDelay == 0 {
		c.IdleDelay = DefaultIdleDelay
	}
	if c.HistorySize < 0 || c.Timeout < 0 || c.IdleDelay < 0 {
		return errors.New("redisengine: HistorySize (engine.redis.history_size), Timeout and IdleDelay must not be negative")
	}
	return nil
}
