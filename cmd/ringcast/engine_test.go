package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRedisFlagAndEngineSection(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeConfig(t, "engine:\n  type: redis\n  redis:\n    addrs: [\"10.0.0.1:6379\"]\n    prefix: rc\n    history_size: 500\n    password_file: "+pw+"\n")
	memory := writeConfig(t, "ring_size: 1024\n")
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		addrs  []string // nil: the memory engine
		prefix string
		err    string
	}{
		{"none", nil, nil, nil, "", ""},
		{"flag", []string{"--redis", "127.0.0.1:6379"}, nil, []string{"127.0.0.1:6379"}, "ringcast", ""},
		{"cluster", []string{"--redis", "a:1, b:2,c:3"}, nil, []string{"a:1", "b:2", "c:3"}, "ringcast", ""},
		{"env", nil, map[string]string{"RINGCAST_REDIS": "127.0.0.1:7000"}, []string{"127.0.0.1:7000"}, "ringcast", ""},
		{"file", []string{"--config", file}, nil, []string{"10.0.0.1:6379"}, "rc", ""},
		{"flag wins over file addrs", []string{"--config", file, "--redis", "127.0.0.1:1"}, nil, []string{"127.0.0.1:1"}, "rc", ""},
		{"flag with a memory file", []string{"--config", memory, "--redis", "127.0.0.1:1"}, nil, []string{"127.0.0.1:1"}, "ringcast", ""},
		{"no port", []string{"--redis", "127.0.0.1"}, nil, nil, "", "--redis"},
		{"empty item", []string{"--redis", "a:1,"}, nil, nil, "", "--redis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			fs, f := newServeFlags(io.Discard)
			if err := parseFlags(fs, c.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := serverConfig(fs, f)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one naming %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.addrs == nil {
				if cfg.Redis != nil {
					t.Fatalf("redis engine %+v, want memory", cfg.Redis)
				}
				return
			}
			if cfg.Redis == nil || !slices.Equal(cfg.Redis.Addrs, c.addrs) || cfg.Redis.Prefix != c.prefix {
				t.Fatalf("redis %+v, want addrs %v prefix %q", cfg.Redis, c.addrs, c.prefix)
			}
			if c.name == "file" && (cfg.Redis.Password != "s3cret" || cfg.Redis.HistorySize != 500) {
				t.Fatalf("password %q history %d", cfg.Redis.Password, cfg.Redis.HistorySize)
			}
		})
	}
}

func TestRedisUnreachableStopsServe(t *testing.T) {
	err := serve(t.Context(), []string{"--listen", "127.0.0.1:0", "--redis", "127.0.0.1:1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--redis") {
		t.Fatalf("serve with no Redis: %v", err)
	}
}
