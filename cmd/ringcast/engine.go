package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/ringcast/ringcast/egress"
	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

// applyRedis sets cfg.Redis from --redis (RINGCAST_REDIS), a
// comma-separated list of host:port, and the file's engine section. The
// flag wins over engine.redis.addrs and turns the redis engine on by
// itself; the file's other redis settings still apply.
func applyRedis(cfg *server.Config, file *config.Config, flagAddrs string) error {
	fe := file.Engine
	addrs := fe.Redis.Addrs
	if flagAddrs != "" {
		addrs = nil
		for _, a := range strings.Split(flagAddrs, ",") {
			a = strings.TrimSpace(a)
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
				return fmt.Errorf("--redis: %q is not host:port (like 127.0.0.1:6379); separate several with commas", a)
			}
			addrs = append(addrs, a)
		}
	} else if fe.Type != config.EngineRedis {
		return nil
	}
	rc := &redisengine.Config{Addrs: addrs, Prefix: fe.Redis.Prefix, HistorySize: fe.Redis.HistorySize}
	if p := fe.Redis.PasswordFile; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("engine.redis.password_file: %w", err)
		}
		rc.Password = strings.TrimRight(string(b), "\r\n")
	}
	t := fe.Redis.TLS
	tlsCfg, err := egress.ClientTLSFiles{
		CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		InsecureSkipVerify: t.InsecureSkipVerify, AllowSelfSigned: t.AllowSelfSigned,
	}.Config(hostOf(addrs[0]))
	if err != nil {
		return fmt.Errorf("engine.redis.%w", err)
	}
	rc.TLS = tlsCfg
	cfg.Redis = rc
	return nil
}

// hostOf returns the host of a host:port.
func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}
