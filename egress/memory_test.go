package egress

import (
	"bytes"
	"net"
	"runtime"
	"testing"

	"github.com/ringcast/ringcast/broker"
)

// idleSubscribers is how many idle WebSocket subscribers the memory test
// holds.
const idleSubscribers = 2000

// TestIdleMemoryPerSubscriber measures the heap and goroutine stacks a
// server keeps per idle WebSocket subscriber with the actor in fasthttp's
// hijack goroutine (the default): N raw clients over loopback (no client
// library, so the client side is a bare socket), minus the cost of N bare
// loopback TCP connection pairs. As the libraries come it is about 18.6 KB
// (DESIGN.md). Freed goroutine stacks are reused, so for exact numbers run
// it alone:
//
//	go test -run 'TestIdleMemoryPerSubscriber$' -v ./egress/
func TestIdleMemoryPerSubscriber(t *testing.T) {
	measureIdle(t, false, 19<<10)
}

// TestIdleMemoryPerSubscriberOwnGoroutine is the same with
// KeepHijackedConns, where fasthttp frees each upgrade request at once
// and, since the reader reads frames itself, the hijacked connection with
// its request reader too: about 5.4 KiB (13.3 KiB with the library's
// reader):
//
//	go test -run 'TestIdleMemoryPerSubscriberOwnGoroutine$' -v ./egress/
func TestIdleMemoryPerSubscriberOwnGoroutine(t *testing.T) {
	measureIdle(t, true, 8<<10)
}

// measureIdle fails if a server holding idleSubscribers idle WebSocket
// subscribers keeps more than limit bytes each (the race detector's
// numbers are only logged).
func measureIdle(t *testing.T, keepHijacked bool, limit int64) {
	if testing.Short() {
		t.Skip("holds 2000 connections")
	}
	bare := bareTCPPairCost(t, idleSubscribers)
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.KeepHijackedConns = keepHijacked })
	warm := dialIdle(t, s.addr, 1) // the topic, pools and server goroutines exist before measuring
	s.waitSubscribers(t, "idle", 1)
	before := liveBytes()
	conns := dialIdle(t, s.addr, idleSubscribers)
	defer closeAll(append(conns, warm...))
	s.waitSubscribers(t, "idle", idleSubscribers+1)
	after := liveBytes()
	total := (after - before) / idleSubscribers
	per := total - bare
	t.Logf("per idle WebSocket subscriber (KeepHijackedConns=%v): %d B heap+stack in all (server and raw client), %d B for a bare loopback TCP pair, %d B (%.1f KiB) for fasthttp, websocket and egress",
		keepHijacked, total, bare, per, float64(per)/1024)
	if !raceEnabled && per > limit {
		t.Errorf("%d B per idle subscriber, want at most %d", per, limit)
	}
}

// liveBytes is the live heap plus goroutine stacks, after collecting twice
// (the second empties sync.Pool's victim caches).
func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}

// dialIdle opens n WebSocket subscribers to topic "idle" with a hand-written
// handshake, and keeps only their sockets.
func dialIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	req := []byte("GET /v1/topics/idle/ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	conns := make([]net.Conn, 0, n)
	var buf [512]byte
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			closeAll(conns)
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := c.Write(req); err != nil {
			closeAll(conns)
			t.Fatal(err)
		}
		got := 0
		for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
			k, err := c.Read(buf[got:])
			if err != nil {
				closeAll(conns)
				t.Fatal(err)
			}
			got += k
		}
		if !bytes.HasPrefix(buf[:got], []byte("HTTP/1.1 101 ")) {
			closeAll(conns)
			t.Fatalf("handshake answered %q", buf[:got])
		}
	}
	return conns
}

// bareTCPPairCost is the heap and stack of one loopback TCP connection
// pair, both ends held, nothing else.
func bareTCPPairCost(t *testing.T, n int) int64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	before := liveBytes()
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c, <-accepted)
	}
	after := liveBytes()
	closeAll(conns)
	_ = ln.Close()
	for range accepted {
	}
	return (after - before) / int64(n)
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}
