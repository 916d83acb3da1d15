package server

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress"
	"github.com/ringcast/ringcast/egress/template"
	"github.com/ringcast/ringcast/ingress"
	"github.com/ringcast/ringcast/internal/config"
)

// destinationConfigs turns the configuration file's destinations into
// egress's, loading their TLS files.
func destinationConfigs(ds []config.Destination, userAgent string) ([]egress.DestinationConfig, error) {
	out := make([]egress.DestinationConfig, 0, len(ds))
	for i, d := range ds {
		tmpl, err := template.Compile(d.Template)
		if err != nil {
			return nil, fmt.Errorf("destinations[%d].template: %w", i, err)
		}
		tlsCfg, err := clientTLS(d.TLS, d.URL)
		if err != nil {
			return nil, fmt.Errorf("destinations[%d].%w", i, err)
		}
		from := broker.Position{Kind: broker.Latest}
		if d.From == "oldest" {
			from.Kind = broker.Oldest
		}
		c := egress.DestinationConfig{
			Name:         d.Name,
			Type:         d.Type,
			Topics:       d.Topics,
			From:         from,
			DropOldest:   d.Policy == "drop-oldest",
			URL:          d.URL,
			Headers:      d.Headers,
			UserAgent:    userAgent,
			Template:     tmpl,
			Timeout:      time.Duration(d.Timeout),
			TLS:          tlsCfg,
			Method:       d.Method,
			CheckOnStart: d.CheckOnStart != nil && *d.CheckOnStart,
			MaxInFlight:  d.MaxInFlight,
			SuccessOn:    d.SuccessOn,
			DropOn:       d.DropOn,
			MaxAttempts:  d.Retry.MaxAttempts,
			Retry:        egress.Backoff{Initial: time.Duration(d.Retry.InitialBackoff), Max: time.Duration(d.Retry.MaxBackoff)},
			DeadLetter:   d.DeadLetter,
			Protocol:     d.Protocol,
			PingInterval: time.Duration(d.PingInterval),
			Reconnect:    egress.Backoff{Initial: time.Duration(d.Reconnect.InitialBackoff), Max: time.Duration(d.Reconnect.MaxBackoff)},
		}
		if d.MaxRedirects != nil {
			c.MaxRedirects = *d.MaxRedirects
		}
		out = append(out, c)
	}
	return out, nil
}

// sourceConfigs turns the configuration file's sources into ingress's,
// loading their TLS files.
func sourceConfigs(ss []config.Source, userAgent string) ([]ingress.SourceConfig, error) {
	out := make([]ingress.SourceConfig, 0, len(ss))
	for i, s := range ss {
		tlsCfg, err := clientTLS(s.TLS, s.URL)
		if err != nil {
			return nil, fmt.Errorf("sources[%d].%w", i, err)
		}
		c := ingress.SourceConfig{
			Name:      s.Name,
			Type:      s.Type,
			URL:       s.URL,
			Topic:     s.Topic,
			Headers:   s.Headers,
			UserAgent: userAgent,
			Timeout:   time.Duration(s.Timeout),
			TLS:       tlsCfg,
			Protocol:  s.Protocol,
			Reconnect: ingress.Backoff{Initial: time.Duration(s.Reconnect.InitialBackoff), Max: time.Duration(s.Reconnect.MaxBackoff)},
			Method:    s.Method,
			Interval:  time.Duration(s.Interval),
		}
		if s.MaxRedirects != nil {
			c.MaxRedirects = *s.MaxRedirects
		}
		out = append(out, c)
	}
	return out, nil
}

// clientTLS loads a client TLS configuration for connections to rawURL.
func clientTLS(t config.ClientTLS, rawURL string) (*tls.Config, error) {
	host := ""
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Hostname()
	}
	return egress.ClientTLSFiles{
		CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		InsecureSkipVerify: t.InsecureSkipVerify, AllowSelfSigned: t.AllowSelfSigned,
	}.Config(host)
}
