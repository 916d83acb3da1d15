package config

import (
	"slices"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// Defaults of the top-level settings, which flags override.
const (
	DefaultListen                   = ":8080"
	DefaultRingSize                 = broker.DefaultRingSize
	DefaultMaxMessageBytes Size     = 1 << 20
	DefaultPublishTimeout  Duration = Duration(broker.DefaultPublishTimeout)
	DefaultDrainTimeout    Duration = Duration(10 * time.Second)
)

// Defaults of the limits section's timeouts and header size.
const (
	DefaultReadTimeout    Duration = Duration(30 * time.Second)
	DefaultWriteTimeout   Duration = Duration(30 * time.Second)
	DefaultIdleTimeout    Duration = Duration(2 * time.Minute)
	DefaultMaxHeaderBytes Size     = 4 << 10
)

// setDefaults fills every zero field that has a default, as written on
// the field. It is the one place defaults are filled.
func (c *Config) setDefaults() {
	orDefault(&c.Listen, DefaultListen)
	orDefault(&c.RingSize, DefaultRingSize)
	orDefault(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	orDefault(&c.PublishTimeout, DefaultPublishTimeout)
	orDefault(&c.DrainTimeout, DefaultDrainTimeout)
	for i := range c.Destinations {
		d := &c.Destinations[i]
		orDefault(&d.From, "latest")
		orDefault(&d.Policy, "block")
		orDefault(&d.Timeout, Duration(10*time.Second))
		orDefault(&d.Retry.InitialBackoff, Duration(100*time.Millisecond))
		orDefault(&d.Retry.MaxBackoff, Duration(30*time.Second))
		switch d.Type {
		case TypeWebhook:
			orDefault(&d.Method, "POST")
			if d.CheckOnStart == nil {
				d.CheckOnStart = new(true)
			}
			if d.MaxRedirects == nil {
				d.MaxRedirects = new(10)
			}
			orDefault(&d.MaxInFlight, 1)
			if d.DropOn == nil {
				d.DropOn = slices.Clone(defaultDropOn)
			}
		case TypeWebSocket:
			orDefault(&d.PingInterval, Duration(20*time.Second))
			orDefault(&d.Reconnect.InitialBackoff, Duration(100*time.Millisecond))
			orDefault(&d.Reconnect.MaxBackoff, Duration(30*time.Second))
		}
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		orDefault(&s.Timeout, Duration(10*time.Second))
		switch s.Type {
		case TypeHTTPPoll:
			orDefault(&s.Method, "GET")
			orDefault(&s.Interval, Duration(30*time.Second))
			if s.MaxRedirects == nil {
				s.MaxRedirects = new(10)
			}
		case TypeWebSocket:
			orDefault(&s.Reconnect.InitialBackoff, Duration(100*time.Millisecond))
			orDefault(&s.Reconnect.MaxBackoff, Duration(30*time.Second))
		}
	}
	orDefault(&c.Engine.Type, EngineMemory)
	orDefault(&c.Engine.Redis.Prefix, "ringcast")
	orDefault(&c.Limits.MaxConnections, 100000)
	orDefault(&c.Limits.MaxConnectionsPerIP, 1000)
	orDefault(&c.Limits.MaxTopics, broker.DefaultMaxTopics)
	orDefault(&c.Limits.ReadTimeout, DefaultReadTimeout)
	orDefault(&c.Limits.WriteTimeout, DefaultWriteTimeout)
	orDefault(&c.Limits.IdleTimeout, DefaultIdleTimeout)
	orDefault(&c.Limits.MaxHeaderBytes, DefaultMaxHeaderBytes)
}

// orDefault sets *v to def when it is zero.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
