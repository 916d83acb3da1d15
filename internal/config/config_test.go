package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// exampleConfig is what testdata/ringcast.yaml, the example of CONFIG.md,
// parses to.
func exampleConfig() *Config {
	noTLS := ClientTLS{}
	return &Config{
		Listen:          ":8080",
		RingSize:        65536,
		MaxMessageBytes: 1 << 20,
		PublishTimeout:  Duration(5 * time.Second),
		DrainTimeout:    Duration(10 * time.Second),
		Topics:          []TopicRule{{Match: "audit.>", RingSize: 1048576, AllowBlock: true, MetricsLabel: true}},
		Destinations: []Destination{{
			Name:         "audit-hook",
			Type:         "webhook",
			Topics:       []string{"audit.>"},
			From:         "latest",
			Policy:       "block",
			URL:          "https://hooks.example.com/in",
			Method:       "POST",
			Headers:      map[string]string{"Authorization": "Bearer s3cr3t"},
			Timeout:      Duration(10 * time.Second),
			CheckOnStart: new(true),
			MaxRedirects: new(10),
			MaxInFlight:  1,
			SuccessOn:    []int{},
			DropOn:       []int{400, 401, 403, 404, 410, 413, 422},
			Retry:        Retry{InitialBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(30 * time.Second)},
			TLS:          noTLS,
		}, {
			Name:         "mirror",
			Type:         "websocket",
			Topics:       []string{"logs"},
			From:         "latest",
			Policy:       "block",
			URL:          "wss://collector:8000/",
			Protocol:     "example-protocol",
			Headers:      map[string]string{},
			Template:     "$HOST $ISODATE $MSG",
			Timeout:      Duration(10 * time.Second),
			Retry:        Retry{InitialBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(30 * time.Second)},
			PingInterval: Duration(20 * time.Second),
			Reconnect:    Backoff{InitialBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(30 * time.Second)},
		}},
		Sources: []Source{{
			Name:      "upstream",
			Type:      "websocket",
			URL:       "ws://sensor-hub:9000/stream",
			Topic:     "sensors",
			Timeout:   Duration(10 * time.Second),
			Reconnect: Backoff{InitialBackoff: Duration(100 * time.Millisecond), MaxBackoff: Duration(30 * time.Second)},
		}, {
			Name:         "status-page",
			Type:         "http_poll",
			URL:          "https://status.example.com/api",
			Method:       "GET",
			Headers:      map[string]string{},
			Interval:     Duration(30 * time.Second),
			Topic:        "status",
			Timeout:      Duration(10 * time.Second),
			MaxRedirects: new(10),
		}},
		Engine:         Engine{Type: "memory", Redis: Redis{Addrs: []string{"127.0.0.1:6379"}, Prefix: "ringcast"}},
		ACL:            "-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8",
		TrustedProxies: []string{"10.0.0.0/8"},
		Auth: &Auth{Tokens: []Token{{
			TokenSHA256: "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92",
			Publish:     []string{"orders.>"},
			Subscribe:   []string{"orders.>", "public.*"},
		}}},
		Limits: defaultLimits(),
	}
}

// defaultLimits is the limits section of a file that sets none.
func defaultLimits() Limits {
	return Limits{
		MaxConnections: 100000, MaxConnectionsPerIP: 1000, MaxTopics: 100000,
		ReadTimeout: DefaultReadTimeout, WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout,
		MaxHeaderBytes: DefaultMaxHeaderBytes,
	}
}

func checkConfig(t *testing.T, got, want *Config) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func TestLoadExample(t *testing.T) {
	c, err := Load("testdata/ringcast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, c, exampleConfig())
}

func TestParseEmpty(t *testing.T) {
	want := &Config{
		Listen:          DefaultListen,
		RingSize:        DefaultRingSize,
		MaxMessageBytes: DefaultMaxMessageBytes,
		PublishTimeout:  DefaultPublishTimeout,
		DrainTimeout:    DefaultDrainTimeout,
		Engine:          Engine{Type: EngineMemory, Redis: Redis{Prefix: "ringcast"}},
		Limits:          defaultLimits(),
	}
	for _, s := range []string{"", "# nothing\n", "---\n", "~\n", "{}\n", "listen:\nlimits: {}\n"} {
		c, err := Parse("ringcast.yaml", []byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		checkConfig(t, c, want)
	}
}

// TestParseFiles parses a configuration with every file key set, and zero
// values that take the defaults.
func TestParseFiles(t *testing.T) {
	dir := testFiles(t)
	c, err := Parse("files.yaml", inDir(`
listen: 127.0.0.1:0
ring_size: 0
document_root: {{dir}}/www
tls: {cert_file: {{dir}}/cert.pem, key_file: {{dir}}/key.pem}
destinations:
  - name: hook
    type: webhook
    topics: [a, "b.*"]
    url: https://localhost/in
    max_redirects: 0
    check_on_start: false
    drop_on: []
    success_on: [200, 202]
    dead_letter: dead.hook
    tls: {ca_file: {{dir}}/cert.pem, cert_file: {{dir}}/cert.pem, key_file: {{dir}}/key.pem}
sources:
  - name: poll
    type: http_poll
    url: http://localhost/status
    topic: status
    tls: {ca_file: {{dir}}/cert.pem}
engine:
  type: redis
  redis:
    addrs: ["redis-1:6379", "[::1]:6380"]
    password_file: {{dir}}/secret.txt
    tls: {ca_file: {{dir}}/cert.pem, cert_file: {{dir}}/cert.pem, key_file: {{dir}}/key.pem}
auth:
  jwt: {hmac_secret_file: {{dir}}/secret.txt, rsa_public_key_file: {{dir}}/rsa.pub}
`, dir))
	if err != nil {
		t.Fatal(err)
	}
	if c.RingSize != DefaultRingSize || c.Listen != "127.0.0.1:0" || c.DocumentRoot != dir+"/www" {
		t.Errorf("top level: %+v", c)
	}
	d := c.Destinations[0]
	if *d.MaxRedirects != 0 || *d.CheckOnStart || d.DropOn == nil || len(d.DropOn) != 0 || d.DeadLetter != "dead.hook" {
		t.Errorf("explicit zero values were not kept: %+v", d)
	}
	if d.TLS.CertFile != dir+"/cert.pem" || c.TLS.KeyFile != dir+"/key.pem" || c.Auth.JWT.HMACSecretFile != dir+"/secret.txt" {
		t.Errorf("file names: %+v %+v %+v", d.TLS, c.TLS, c.Auth.JWT)
	}
	if c.Engine.Type != EngineRedis || len(c.Engine.Redis.Addrs) != 2 || c.Engine.Redis.Prefix != "ringcast" {
		t.Errorf("engine: %+v", c.Engine)
	}
	s := c.Sources[0]
	if s.Method != "GET" || s.Interval != Duration(30*time.Second) || *s.MaxRedirects != 10 {
		t.Errorf("source defaults: %+v", s)
	}
}

// TestParseYAMLFeatures checks anchors, aliases, merge keys, flow and
// block styles, comments and quoting.
func TestParseYAMLFeatures(t *testing.T) {
	c, err := Parse("anchors.yaml", []byte(`
destinations:
  - &hook
    name: first
    type: webhook
    topics: ["orders.>"]
    url: "https://a.example.com/"
    retry: {max_attempts: 5}
    headers: &headers {X-Team: payments}
  - <<: [{name: shadowed, timeout: 1s}, *hook]
    name: second
    url: 'https://b.example.com/'
    retry: {max_attempts: 7}
    headers: *headers
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Destinations[0], c.Destinations[1]
	if b.Name != "second" || b.Type != "webhook" || b.URL != "https://b.example.com/" || b.Retry.MaxAttempts != 7 ||
		b.Timeout != Duration(time.Second) || b.Headers["X-Team"] != "payments" || a.Retry.MaxAttempts != 5 || a.Timeout != Duration(10*time.Second) {
		t.Errorf("merge: %+v\n%+v", a, b)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, fs.ErrNotExist) || e.Path != "" {
		t.Fatalf("got %v", err)
	}
}

func TestBrokerRules(t *testing.T) {
	c, err := Load("testdata/ringcast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.BrokerRules()
	if err != nil {
		t.Fatal(err)
	}
	want := []broker.TopicRule{{Match: "audit.>", RingSize: 1048576, AllowBlock: true, MetricsLabel: true}}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("got %+v, want %+v", rules, want)
	}
	if _, err := broker.New(broker.Config{Rules: rules, IdleTimeout: -1}); err != nil {
		t.Errorf("broker.New: %v", err)
	}

	c.Topics = append(c.Topics, TopicRule{Match: "a.>.b"})
	rules, err = c.BrokerRules()
	var e *Error
	if !errors.As(err, &e) || e.Path != "topics[1].match" || rules != nil {
		t.Errorf("got %v, %v", rules, err)
	}
}

func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range badFiles {
		f.Add([]byte(c.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" || e.Err == nil {
				t.Fatalf("error %v is not an *Error of fuzz.yaml", err)
			}
			return
		}
		if c.RingSize == 0 || c.Listen == "" || c.Engine.Type == "" {
			t.Fatalf("defaults not filled: %+v", c)
		}
		if _, err := c.BrokerRules(); err != nil {
			t.Fatalf("BrokerRules of a valid config: %v", err)
		}
		if _, err := ParseACL(c.ACL); err != nil {
			t.Fatalf("ParseACL of a valid config: %v", err)
		}
	})
}

func TestParseLimits(t *testing.T) {
	c, err := Parse("ringcast.yaml", []byte(`
limits:
  read_timeout: 5s
  write_timeout: 7s
  idle_timeout: 1m
  max_header_bytes: 8KiB
  ready_max_connections: 5000
  ready_max_heap_bytes: 1GiB
  publish_rate_per_ip: 100
`))
	if err != nil {
		t.Fatal(err)
	}
	want := defaultLimits()
	want.ReadTimeout, want.WriteTimeout, want.IdleTimeout = Duration(5*time.Second), Duration(7*time.Second), Duration(time.Minute)
	want.MaxHeaderBytes, want.ReadyMaxConnections, want.ReadyMaxHeapBytes, want.PublishRatePerIP = 8<<10, 5000, 1<<30, 100
	if c.Limits != want {
		t.Fatalf("limits %+v, want %+v", c.Limits, want)
	}
}
