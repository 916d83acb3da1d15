package config

import (
	"net"
)

// Engine types.
const (
	EngineMemory = "memory" // topics live in this process only
	EngineRedis  = "redis"  // several instances share topics through Redis
)

// Engine says where topics live.
type Engine struct {
	// Type is "memory" or "redis". "": "memory".
	Type string `yaml:"type"`
	// Redis configures the redis engine; it is checked whenever given and
	// used only by type redis. Zero: no servers.
	Redis Redis `yaml:"redis"`
}

// Redis configures the Redis (or Valkey) server the redis engine uses.
type Redis struct {
	// Addrs are host:port addresses; several mean Redis Cluster. Required
	// for type redis.
	Addrs []string `yaml:"addrs"`
	// PasswordFile holds the password. "": no password.
	PasswordFile string `yaml:"password_file"`
	// Prefix starts every key and channel name. "": "ringcast".
	Prefix string `yaml:"prefix"`
	// HistorySize is the messages kept per topic in Redis. 0: the topic's
	// ring size.
	HistorySize int `yaml:"history_size"`
	// TLS configures the connection's TLS. Zero: plain TCP.
	TLS ClientTLS `yaml:"tls"`
}

// check validates the engine under the key path p.
func (e *Engine) check(k *checker, p string) {
	k.oneOf(join(p, "type"), e.Type, EngineMemory, EngineRedis)
	r, rp := &e.Redis, join(p, "redis")
	if e.Type == EngineRedis && len(r.Addrs) == 0 {
		k.fail(join(rp, "addrs"), "missing: type redis needs at least one host:port")
	}
	for i, a := range r.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || !validPort(port) || port == "0" {
			k.fail(index(join(rp, "addrs"), i), "%q is not host:port (like 127.0.0.1:6379)", a)
		}
	}
	if r.PasswordFile != "" {
		k.secret(join(rp, "password_file"), r.PasswordFile)
	}
	if r.HistorySize < 0 {
		k.fail(join(rp, "history_size"), "%d is negative; 0 keeps as many as the ring", r.HistorySize)
	}
	r.TLS.check(k, join(rp, "tls"))
}
