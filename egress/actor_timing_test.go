package egress

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// benchConn returns a subscriber conn whose socket is one end of a
// loopback TCP connection; a goroutine drains the other end until the
// benchmark ends.
func benchConn(tb testing.TB, enc encoding) *conn {
	tb.Helper()
	e, err := New(Config{Broker: &broker.Broker{}})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	var drained sync.WaitGroup
	drained.Add(1)
	go func() {
		defer drained.Done()
		_, _ = io.Copy(io.Discard, peer)
	}()
	tb.Cleanup(func() {
		_ = raw.Close()
		drained.Wait()
		_ = peer.Close()
	})
	c := e.newConn(raw, e.ws, enc)
	return &c
}

// batchOf returns n published-looking messages of size bytes, each
// already encoded with enc as a subscriber would find them.
func batchOf(n, size int, enc encoding) []*broker.Message {
	msgs := make([]*broker.Message, n)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	for i := range msgs {
		msgs[i] = &broker.Message{Topic: "bench", Epoch: "0123456789ab", Seq: uint64(i + 1), Time: time.Now(), Data: payload}
		enc.bytes(msgs[i])
	}
	return msgs
}

func batchBytes(msgs []*broker.Message, enc encoding) (n int64) {
	for _, m := range msgs {
		n += int64(len(enc.bytes(m)))
	}
	return n
}

// BenchmarkWriteBatch is the writer path: a batch of 256 cached frames
// copied into one pooled buffer and written with one write.
func BenchmarkWriteBatch(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			c := benchConn(b, wsRaw)
			msgs := batchOf(batchMessages, size, wsRaw)
			b.SetBytes(batchBytes(msgs, wsRaw))
			b.ReportAllocs()
			for b.Loop() {
				if !c.writeBatch(nil, msgs) {
					b.Fatal("write failed")
				}
			}
		})
	}
}

// BenchmarkWritePerFrame is the baseline: the same frames with one write
// each, as fasthttp/websocket's WriteMessage does.
func BenchmarkWritePerFrame(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			c := benchConn(b, wsRaw)
			msgs := batchOf(batchMessages, size, wsRaw)
			b.SetBytes(batchBytes(msgs, wsRaw))
			b.ReportAllocs()
			for b.Loop() {
				for _, m := range msgs {
					if err := c.write(wsRaw.bytes(m)); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkEncodeJSON is the once-per-message cost of the JSON envelope
// frame.
func BenchmarkEncodeJSON(b *testing.B) {
	m := batchOf(1, 128, wsRaw)[0]
	m.Attrs = map[string]string{"remote_addr": "127.0.0.1", "trace": "abc"}
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeWSJSON(m)
	}
}

// TestWriteBatchAllocs guards the writer path: writing a batch of cached
// frames allocates nothing.
func TestWriteBatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c := benchConn(t, wsRaw)
	msgs := batchOf(batchMessages, 64, wsRaw)
	if n := testing.AllocsPerRun(100, func() { c.writeBatch([]byte{0x89, 0}, msgs) }); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}
