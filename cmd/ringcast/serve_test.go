package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/server"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ringcast.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileAndFlags(t *testing.T) {
	p := writeConfig(t, `
listen: "127.0.0.1:9100"
ring_size: 1024
max_message_bytes: 64KiB
publish_timeout: 250ms
drain_timeout: 3s
topics:
  - match: "audit.>"
    ring_size: 4096
    allow_block: true
limits:
  max_topics: 50
destinations:
  - {name: hook, type: webhook, topics: ["audit.>"], url: "http://127.0.0.1:1/"}
sources:
  - {name: feed, type: websocket, topic: audit.feed, url: "ws://127.0.0.1:1/"}
`)
	cfg := configOf(t, "--config", p, "--ring-size", "2048")
	if cfg.Listen != "127.0.0.1:9100" || cfg.RingSize != 2048 || cfg.MaxMessageBytes != 64<<10 ||
		cfg.PublishTimeout != 250*time.Millisecond || cfg.DrainTimeout != 3*time.Second || cfg.MaxTopics != 50 {
		t.Fatalf("config %+v", cfg)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].Match != "audit.>" || !cfg.Rules[0].AllowBlock || cfg.Rules[0].RingSize != 4096 {
		t.Fatalf("rules %+v", cfg.Rules)
	}
	if len(cfg.Destinations) != 1 || cfg.Destinations[0].Name != "hook" || len(cfg.Sources) != 1 || cfg.Sources[0].Topic != "audit.feed" {
		t.Fatalf("destinations %+v, sources %+v", cfg.Destinations, cfg.Sources)
	}
}

// configOf parses args as serve's flags and returns the server
// configuration they make, failing the test on an error.
func configOf(t *testing.T, args ...string) server.Config {
	t.Helper()
	fs, f := newServeFlags(io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := serverConfig(fs, f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDefaultsWithoutAFile: serve without --config applies the same
// defaults as an empty file, the connection limits included.
func TestDefaultsWithoutAFile(t *testing.T) {
	empty := writeConfig(t, "")
	for _, args := range [][]string{nil, {"--config", empty}} {
		cfg := configOf(t, args...)
		if l := cfg.Limits; l.MaxConnections != 100000 || l.MaxConnectionsPerIP != 1000 || cfg.MaxTopics != 100000 || cfg.Redis != nil {
			t.Errorf("%v: limits %+v, max topics %d, redis %v", args, l, cfg.MaxTopics, cfg.Redis)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"ring_size: 1000\n":                "ring_size",
		"acl: \"127.0.0.1\"\n":             "acl",
		"limits:\n  max_connections: -1\n": "limits",
		"bogus: 1\n":                       "bogus",
	}
	for text, key := range cases {
		p := writeConfig(t, text)
		err := serve(t.Context(), []string{"--config", p, "--listen", "127.0.0.1:0"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v", text, err)
		}
		if err := check([]string{"--config", p}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("check %q: %v", text, err)
		}
	}
}

func TestAuthSection(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "hmac")
	if err := os.WriteFile(secret, []byte("a secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("tok"))
	p := writeConfig(t, "auth:\n  tokens:\n    - token_sha256: "+hex.EncodeToString(sum[:])+
		"\n      publish: [\"a.>\"]\n  jwt: {hmac_secret_file: "+strconv.Quote(secret)+"}\n")
	cfg := configOf(t, "--config", p)
	if g, err := cfg.Auth.Authenticate("tok"); err != nil || !g.CanPublish("a.b") || g.CanSubscribe("a.b") {
		t.Fatalf("grant %+v, %v", g, err)
	}
	if err := check([]string{"--config", p}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	// A key file that is not a PEM public key stops serve and check.
	bad := writeConfig(t, "auth:\n  jwt: {rsa_public_key_file: "+strconv.Quote(secret)+"}\n")
	if err := check([]string{"--config", bad}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "rsa_public_key_file") || !strings.Contains(err.Error(), bad) {
		t.Fatalf("check with a bad RSA key: %v", err)
	}
}

func TestCheck(t *testing.T) {
	p := writeConfig(t, "ring_size: 128\n")
	var out bytes.Buffer
	if err := run([]string{"check", "--config", p}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ok") {
		t.Fatalf("%q %v", out.String(), err)
	}
	if err := check(nil, io.Discard, io.Discard); err == nil {
		t.Fatal("check without --config passed")
	}
}
