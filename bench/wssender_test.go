package bench

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// TestBatchedFramesReadByAServer sends batched frames of every length
// encoding to a WebSocket server (which rejects unmasked frames) over a
// real socket, with pings from the server on the way, and checks that it
// reads every message as sent.
func TestBatchedFramesReadByAServer(t *testing.T) {
	sizes := []int{0, 1, 7, 100, 125, 126, 127, 4096, 0xffff, 0x10000, 200_000}
	got := make(chan []byte, 2*len(sizes))
	readErr := make(chan error, 1)
	up := websocket.Upgrader{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			readErr <- err
			return
		}
		defer c.Close()
		for {
			if err := c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
				readErr <- err
				return
			}
			_, msg, err := c.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			got <- msg
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()

	d := newDialer(1024, 1024)
	conn, err := dialWS(context.Background(), &d, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	var closing atomic.Bool
	s := newWSSender(conn, closing.Load, true)
	go s.read()
	var want [][]byte
	for round := range 2 {
		for _, n := range sizes {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i + n + round)
			}
			want = append(want, p)
			if err := s.send(p, 0); err != nil {
				t.Fatal(err)
			}
			// The sender masks its own buffer, never the caller's payload.
			for i := range p {
				if p[i] != byte(i+n+round) {
					t.Fatalf("send changed the payload of %d bytes", n)
				}
			}
		}
		if err := s.flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range want {
		select {
		case msg := <-got:
			if !bytes.Equal(msg, w) {
				t.Fatalf("message %d: %d bytes read, want %d bytes as sent", i, len(msg), len(w))
			}
		case err := <-readErr:
			t.Fatalf("message %d: the server failed: %v", i, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d never arrived", i)
		}
	}
	closing.Store(true)
	s.stop()
	select {
	case <-s.readDone():
	case <-time.After(5 * time.Second):
		s.abort()
		<-s.readDone()
		t.Fatal("the close was not answered")
	}
	s.abort()
	if err := s.readErr(); err != nil {
		t.Fatal(err)
	}
}
