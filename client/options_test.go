package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringcast/ringcast/client"
)

// TestToken checks where the token goes: the Authorization header on HTTP
// requests, the token query parameter on WebSocket URLs. The stand-in
// server refuses everything with 401, as a server with auth does when it
// does not know the token.
func TestToken(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // path → where the token was
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path] = r.Header.Get("Authorization") + "|" + r.URL.Query().Get("token")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"no such token","code":"unauthorized"}` + "\n"))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, client.WithToken("s3cret"))
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if ae := apiError(t, err); ae.Status != 401 || ae.Code != client.CodeUnauthorized || ae.Message != "no such token" {
			t.Fatalf("%s: %+v", what, ae)
		}
	}
	_, err := c.Publish(ctx, "t", []byte("x"), nil)
	check("publish", err)
	_, err = c.PublishBatch(ctx, "t", [][]byte{[]byte("x")})
	check("batch", err)
	_, err = c.OpenPublisher(ctx, "t")
	check("publisher", err)
	_, err = c.Subscribe(ctx, "t", client.SubscribeOptions{})
	check("subscribe", err)
	_, err = c.Subscribe(ctx, "t", client.SubscribeOptions{Transport: client.SSE, From: client.Oldest})
	check("subscribe over SSE", err)
	srv.CloseClientConnections()
	mu.Lock()
	defer mu.Unlock()
	for path, want := range map[string]string{
		"POST /v1/topics/t":       "Bearer s3cret|",
		"POST /v1/topics/t/batch": "Bearer s3cret|",
		"GET /v1/topics/t":        "Bearer s3cret|", // Subscribe's lookup of the latest seq
		"GET /v1/topics/t/ws":     "|s3cret",
		"GET /v1/topics/t/sse":    "Bearer s3cret|",
	} {
		if seen[path] != want {
			t.Errorf("%s: %q, want %q", path, seen[path], want)
		}
	}
}

// TestDialTimeout checks that a server that accepts connections but never
// answers cannot hold a client past its dial timeout.
func TestDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	c := newClient(t, "http://"+ln.Addr().String(), client.WithDialTimeout(100*time.Millisecond), client.WithHTTPClient(hc))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"publisher", func() error { _, err := c.OpenPublisher(ctx, "t"); return err }},
		{"websocket", func() error {
			_, err := c.Subscribe(ctx, "t", client.SubscribeOptions{From: client.Oldest})
			return err
		}},
		{"websocket from latest", func() error {
			_, err := c.Subscribe(ctx, "t", client.SubscribeOptions{})
			return err
		}},
		{"sse", func() error {
			_, err := c.Subscribe(ctx, "t", client.SubscribeOptions{From: client.Oldest, Transport: client.SSE})
			return err
		}},
	} {
		start := time.Now()
		err := tc.do()
		if err == nil || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %v", tc.name, err, time.Since(start))
		}
		if !strings.Contains(err.Error(), "dial timeout") {
			t.Errorf("%s: %v does not name the dial timeout", tc.name, err)
		}
	}
	// A cancelled context ends a handshake at once, before the timeout.
	slow := newClient(t, "http://"+ln.Addr().String(), client.WithDialTimeout(time.Hour))
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := slow.OpenPublisher(cctx, "t"); !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled handshake: %v after %v", err, time.Since(start))
	}
}
