package config

import (
	"fmt"
	"os"
	"reflect"
)

// Config is the configuration file of CONFIG.md. Parse and Load fill in the
// default written on each field when it is zero, and validate it.
type Config struct {
	// Listen is where the server listens: PORT, :PORT or IP:PORT (see
	// ParseListen). "": ":8080".
	Listen string `yaml:"listen"`
	// RingSize is the slots per topic, a power of two of at least 2.
	// 0: 65536.
	RingSize int `yaml:"ring_size"`
	// MaxMessageBytes is the largest payload accepted. 0: 1 MiB.
	MaxMessageBytes Size `yaml:"max_message_bytes"`
	// PublishTimeout is how long a publisher waits for a block subscriber
	// before the publish fails with backpressure. 0: 5s.
	PublishTimeout Duration `yaml:"publish_timeout"`
	// DrainTimeout is how long a shutdown waits for connections and
	// destinations to finish. 0: 10s.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// DocumentRoot is an existing directory served as static files
	// (index.html for /), the console then at /console. "": none, the
	// console at /.
	DocumentRoot string `yaml:"document_root"`
	// Topics override settings per topic; the first match wins. nil: none.
	Topics []TopicRule `yaml:"topics"`
	// Destinations are the webhooks and outbound WebSockets messages are
	// pushed to. nil: none.
	Destinations []Destination `yaml:"destinations"`
	// Sources are the outbound WebSockets and polled URLs messages are
	// pulled from. nil: none.
	Sources []Source `yaml:"sources"`
	// Engine is where topics live. Zero: in memory.
	Engine Engine `yaml:"engine"`
	// TLS makes the server speak HTTPS and WSS. Zero: plain HTTP.
	TLS ServerTLS `yaml:"tls"`
	// ACL says which client addresses may connect, as ParseACL reads it.
	// "": everyone.
	ACL string `yaml:"acl"`
	// TrustedProxies are the CIDRs or IPs (see ParseNet) whose
	// X-Forwarded-For and PROXY protocol headers are believed. nil: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Auth restricts publishing and subscribing to bearer tokens. nil:
	// everyone may publish and subscribe.
	Auth *Auth `yaml:"auth"`
	// Limits bound connections, publish rates and topics. Zero: the
	// defaults written on its fields.
	Limits Limits `yaml:"limits"`
}

// Limits bound what clients may use.
type Limits struct {
	// MaxConnections is the most connections the server holds. 0: 100000.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP is the most connections from one client address.
	// 0: 1000.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// PublishRatePerIP is the most messages per second one client address
	// may publish; over it the answer is 429 with Retry-After. 0: unlimited.
	PublishRatePerIP int `yaml:"publish_rate_per_ip"`
	// MaxTopics is the most topics that exist at once. 0: 100000.
	MaxTopics int `yaml:"max_topics"`
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body, from its first byte (the first request: from
	// connecting). A slower one (a slowloris) is cut off. 0: 30s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout is how long writing one response may take. Streams
	// (SSE) and WebSockets are not bound by it. 0: 30s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout is how long a keep-alive connection may wait between
	// requests. 0: 2m.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes is the largest request line and headers accepted;
	// over it the answer is 431. 0: 4KiB.
	MaxHeaderBytes Size `yaml:"max_header_bytes"`
	// ReadyMaxConnections makes /readyz answer 503 overloaded while the
	// server holds more client connections than this. 0: no threshold.
	ReadyMaxConnections int `yaml:"ready_max_connections"`
	// ReadyMaxHeapBytes makes /readyz answer 503 overloaded while the Go
	// heap holds more bytes than this. 0: no threshold.
	ReadyMaxHeapBytes Size `yaml:"ready_max_heap_bytes"`
}

// Load reads the configuration file at path and parses it with Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("cannot read the configuration file: %w", err)}
	}
	return Parse(path, data)
}

// Parse decodes the YAML configuration data strictly, fills in the
// defaults and validates the result. name is the file's name for errors,
// which are *Error. Empty data is the default configuration.
func Parse(name string, data []byte) (*Config, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	d := &decoder{file: name, lines: map[string]int{}, budget: 10000 + 4*len(data)}
	if root != nil {
		if err := d.decode(root, reflect.ValueOf(c).Elem(), ""); err != nil {
			return nil, err
		}
	}
	c.setDefaults()
	k := &checker{file: name, lines: d.lines}
	c.validate(k)
	if k.err != nil {
		return nil, k.err
	}
	return c, nil
}

// check validates the limits under the key path p.
func (l *Limits) check(k *checker, p string) {
	for _, f := range []struct {
		key string
		v   int
	}{
		{"max_connections", l.MaxConnections},
		{"max_connections_per_ip", l.MaxConnectionsPerIP},
		{"publish_rate_per_ip", l.PublishRatePerIP},
		{"max_topics", l.MaxTopics},
		{"ready_max_connections", l.ReadyMaxConnections},
	} {
		if f.v < 0 {
			k.fail(join(p, f.key), "%d is negative", f.v)
		}
	}
	if l.MaxHeaderBytes < minHeaderBytes {
		k.fail(join(p, "max_header_bytes"), "%d is less than %d bytes: no browser request fits", l.MaxHeaderBytes, minHeaderBytes)
	}
	if l.ReadyMaxHeapBytes < 0 {
		k.fail(join(p, "ready_max_heap_bytes"), "%d is negative", l.ReadyMaxHeapBytes)
	}
}

// minHeaderBytes is the least limits.max_header_bytes accepted.
const minHeaderBytes = 1 << 10
