package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/internal/edge/edgetest"
	"github.com/ringcast/ringcast/internal/server"
)

// TestServeReloadsTLSOnSIGHUP runs serve with a tls section, replaces the
// certificate files and sends the process a real SIGHUP: a new connection
// gets the new certificate, and a WebSocket opened before keeps working.
func TestServeReloadsTLSOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	first, second := edgetest.NewCert(t, "first"), edgetest.NewCert(t, "second")
	certFile, keyFile := first.Write(t, dir)
	p := writeConfig(t, fmt.Sprintf(`
listen: "127.0.0.1:0"
tls: {cert_file: %q, key_file: %q}
acl: "-0.0.0.0/0,+127.0.0.1"
limits:
  max_connections_per_ip: 50
  read_timeout: 10s
`, certFile, keyFile))
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, []string{"--config", p, "--drain-timeout", "2s"}, io.Discard, &logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	waitFor(t, &logs, "ringcast serving")
	addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(logs.String())[1]
	clientTLS := edgetest.ClientConfig(first, second)
	certOf := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", addr, clientTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := certOf(); cn != "first" {
		t.Fatalf("certificate %q, want first", cn)
	}
	wss := &websocket.Dialer{TLSClientConfig: clientTLS, HandshakeTimeout: 5 * time.Second}
	ws, _, err := wss.Dial("wss://"+addr+"/v1/topics/hup/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	second.Write(t, dir)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &logs, "TLS certificate reloaded")
	if cn := certOf(); cn != "second" {
		t.Fatalf("after SIGHUP: certificate %q, want second", cn)
	}
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS, DisableKeepAlives: true}}
	resp, err := https.Post("https://"+addr+"/v1/topics/hup", "text/plain", strings.NewReader("after the reload"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "after the reload" {
		t.Fatalf("the WebSocket opened before the reload: %q %v", msg, err)
	}

	// A broken certificate file: the reload fails, is logged, and the
	// certificate in use stays.
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &logs, "TLS certificate not reloaded")
	if cn := certOf(); cn != "second" {
		t.Fatalf("after a failed reload: certificate %q, want second", cn)
	}
}

// TestEdgeSectionsReachTheServer checks that tls, acl, trusted_proxies
// and every limits key reach server.Config.
func TestEdgeSectionsReachTheServer(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := edgetest.NewCert(t, "x").Write(t, dir)
	p := writeConfig(t, fmt.Sprintf(`
tls: {cert_file: %q, key_file: %q}
acl: "-0.0.0.0/0,+10.0.0.0/8"
trusted_proxies: ["10.0.0.2/32"]
limits:
  max_connections: 10
  max_connections_per_ip: 2
  publish_rate_per_ip: 7
  read_timeout: 3s
  write_timeout: 4s
  idle_timeout: 5s
  max_header_bytes: 8KiB
  ready_max_connections: 9
  ready_max_heap_bytes: 1MiB
`, certFile, keyFile))
	cfg := configOf(t, "--config", p)
	want := server.Limits{MaxConnections: 10, MaxConnectionsPerIP: 2, PublishRatePerIP: 7, ReadTimeout: 3 * time.Second,
		WriteTimeout: 4 * time.Second, IdleTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10, ReadyMaxConnections: 9, ReadyMaxHeapBytes: 1 << 20}
	if cfg.Limits != want || cfg.TLS.CertFile != certFile || cfg.TLS.KeyFile != keyFile || cfg.ACL != "-0.0.0.0/0,+10.0.0.0/8" ||
		len(cfg.TrustedProxies) != 1 || cfg.TrustedProxies[0] != "10.0.0.2/32" {
		t.Fatalf("config %+v", cfg)
	}
}
