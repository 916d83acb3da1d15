package ingress

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/ringcast/ringcast/internal/wsframe"
)

// rawFrame encodes one client frame, masked as RFC 6455 requires.
func rawFrame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	return wsframe.AppendClient(nil, b0, payload, true, 0x37fa213d)
}

// Frames for the tables: whole text and binary messages, fragments,
// control frames and a frame without a mask.
func txt(s string) []byte            { return rawFrame(opText, true, []byte(s)) }
func bin(s string) []byte            { return rawFrame(opBinary, true, []byte(s)) }
func ping(s string) []byte           { return rawFrame(opPing, true, []byte(s)) }
func pong(s string) []byte           { return rawFrame(opPong, true, []byte(s)) }
func first(op byte, s string) []byte { return rawFrame(op, false, []byte(s)) }
func cont(s string, fin bool) []byte { return rawFrame(opContinuation, fin, []byte(s)) }
func closeFrame(code int) []byte {
	return rawFrame(0x8, true, websocket.FormatCloseMessage(code, ""))
}

// unmasked is a text frame without a mask, which a server must refuse.
func unmasked(s string) []byte { return wsframe.AppendClient(nil, 0x80|opText, []byte(s), false, 0) }

// writeRaw writes frames to the connection in one write() call, so that
// the server reads them together.
func writeRaw(t testing.TB, c *wsClient, frames ...[]byte) {
	t.Helper()
	if _, err := c.UnderlyingConn().Write(bytes.Join(frames, nil)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// wsRun is one connection's frames for the tables: each write is one
// write() call; then the client closes normally unless the server closed.
type wsRun struct {
	name   string
	writes [][][]byte
	// heads[k] is the topic's head once writes[k] is sent; the test waits
	// for it before the next write, so that a frame is shown accepted
	// before the rest of its run arrives.
	heads    []uint64
	accepted []string // the payloads accepted, in seq order from 1
	code     int      // the close code the server sends
	rejected map[string]float64
}

// wsRuns are the frame sequences TestWebSocketBufferedRuns and the redis
// engine's test send; the limit on a message is 16 bytes.
func wsRuns() []wsRun {
	big := strings.Repeat("z", 17)
	return []wsRun{
		{name: "text and binary in one write",
			writes:   [][][]byte{{txt("a"), bin("b"), txt("c"), bin("\xff\x00")}},
			accepted: []string{"a", "b", "c", "\xff\x00"}, code: websocket.CloseNormalClosure},
		{name: "empty frames skipped",
			writes:   [][][]byte{{txt(""), txt("a"), bin(""), txt(""), txt("b"), bin("")}},
			accepted: []string{"a", "b"}, code: websocket.CloseNormalClosure},
		{name: "pings and pongs between",
			writes:   [][][]byte{{ping("1"), txt("a"), ping("2"), pong(""), txt("b"), ping(""), bin("c"), ping("3")}},
			accepted: []string{"a", "b", "c"}, code: websocket.CloseNormalClosure},
		{name: "fragments with a ping",
			writes: [][][]byte{{txt("a"), first(opText, "he"), ping("x"), cont("ll", false), cont("o", true),
				first(opBinary, ""), cont("", true), bin("z")}},
			accepted: []string{"a", "hello", "z"}, code: websocket.CloseNormalClosure},
		{name: "invalid UTF-8 after frames",
			writes:   [][][]byte{{txt("a"), bin("\xff"), txt("b\xff"), txt("never")}},
			accepted: []string{"a", "\xff"}, code: websocket.CloseInvalidFramePayloadData,
			rejected: map[string]float64{httpx.CodeBadRequest: 1}},
		{name: "invalid UTF-8 first",
			writes: [][][]byte{{txt("\xc3"), txt("never")}},
			code:   websocket.CloseInvalidFramePayloadData, rejected: map[string]float64{httpx.CodeBadRequest: 1}},
		{name: "invalid UTF-8 across fragments",
			writes:   [][][]byte{{txt("a"), first(opText, "\xc3"), cont("(", true), txt("never")}},
			accepted: []string{"a"}, code: websocket.CloseInvalidFramePayloadData,
			rejected: map[string]float64{httpx.CodeBadRequest: 1}},
		{name: "a split UTF-8 rune is valid",
			writes:   [][][]byte{{first(opText, "\xc3"), cont("\xa9", true), txt("b")}},
			accepted: []string{"\u00e9", "b"}, code: websocket.CloseNormalClosure},
		{name: "oversize after frames",
			writes:   [][][]byte{{txt("a"), ping(""), bin(strings.Repeat("y", 16)), txt(big), txt("never")}},
			accepted: []string{"a", strings.Repeat("y", 16)}, code: websocket.CloseMessageTooBig,
			rejected: map[string]float64{httpx.CodeTooLarge: 1}},
		{name: "oversize across fragments",
			writes:   [][][]byte{{txt("a"), first(opBinary, "0123456789"), cont("0123456", true), txt("never")}},
			accepted: []string{"a"}, code: websocket.CloseMessageTooBig,
			rejected: map[string]float64{httpx.CodeTooLarge: 1}},
		{name: "oversize with a 16-bit length",
			writes:   [][][]byte{{txt("a"), bin(strings.Repeat("L", 200))}},
			accepted: []string{"a"}, code: websocket.CloseMessageTooBig,
			rejected: map[string]float64{httpx.CodeTooLarge: 1}},
		{name: "close after frames",
			writes:   [][][]byte{{txt("a"), txt("b"), closeFrame(websocket.CloseNormalClosure), txt("never")}},
			accepted: []string{"a", "b"}, code: websocket.CloseNormalClosure},
		{name: "protocol error after frames",
			writes:   [][][]byte{{txt("a"), unmasked("b")}},
			accepted: []string{"a"}, code: websocket.CloseProtocolError},
		{name: "continuation without a message",
			writes:   [][][]byte{{txt("a"), cont("b", true)}},
			accepted: []string{"a"}, code: websocket.CloseProtocolError},
		{name: "several writes",
			writes:   [][][]byte{{txt("a"), txt("b")}, {ping("p"), txt("c")}, {bin("d"), pong("q"), txt("e")}},
			heads:    []uint64{2, 3, 5},
			accepted: []string{"a", "b", "c", "d", "e"}, code: websocket.CloseNormalClosure},
		// A frame cut at the end of a write is waited for only once the
		// whole frames before it are accepted.
		{name: "frame cut across writes",
			writes: [][][]byte{
				{txt("a"), txt("b"), txt("cd")[:3]}, {txt("cd")[3:], txt("e"), first(opText, "f")},
				{cont("g", true)}},
			heads:    []uint64{2, 4, 5},
			accepted: []string{"a", "b", "cd", "e", "fg"}, code: websocket.CloseNormalClosure},
		{name: "header cut across writes",
			writes:   [][][]byte{{txt("a"), bin("0123456789")[:1]}, {bin("0123456789")[1:]}},
			heads:    []uint64{1, 2},
			accepted: []string{"a", "0123456789"}, code: websocket.CloseNormalClosure},
	}
}

// wsRunMax is the message limit wsRuns assume.
const wsRunMax = 16

// play sends run's writes on c, waiting after each for the head head()
// shows, and returns the close code the server sent (the client closes
// normally after the last write if the server did not).
func play(t *testing.T, c *wsClient, run wsRun, head func() uint64) int {
	t.Helper()
	for k, w := range run.writes {
		writeRaw(t, c, w...)
		if k < len(run.heads) {
			want := run.heads[k]
			eventually(t, "head "+strconv.FormatUint(want, 10)+" after write "+strconv.Itoa(k), func() bool {
				return head() == want
			})
		}
	}
	if run.code == websocket.CloseNormalClosure && !bytes.Contains(bytes.Join(run.writes[len(run.writes)-1], nil), closeFrame(websocket.CloseNormalClosure)) {
		// Wait for every frame to be read before the client closes; the
		// server answers a close without reading further.
		want := uint64(len(run.accepted))
		eventually(t, "every frame", func() bool { return head() == want })
		writeRaw(t, c, closeFrame(websocket.CloseNormalClosure))
	}
	return c.closeCode(t)
}

// TestWebSocketBufferedRuns sends runs of frames in single writes and
// checks exactly which are accepted, with which seqs, and how the
// connection closes: the frames before a bad one in the same run are
// accepted, the bad one and those after it are not.
func TestWebSocketBufferedRuns(t *testing.T) {
	for _, run := range wsRuns() {
		t.Run(run.name, func(t *testing.T) {
			ts := newTestServer(t, broker.Config{}, Config{MaxMessageBytes: wsRunMax})
			c := ts.dial(t, "runs", true, nil)
			code := play(t, c, run, func() uint64 { return ts.head("runs") })
			if code != run.code {
				t.Fatalf("close code %d, want %d", code, run.code)
			}
			// The close code was sent after the publishes it follows.
			var got []string
			for n, m := range ts.retained("runs") {
				if m.Seq != uint64(n+1) {
					t.Fatalf("message %d has seq %d", n, m.Seq)
				}
				got = append(got, string(m.Data))
			}
			if strings.Join(got, "|") != strings.Join(run.accepted, "|") || len(got) != len(run.accepted) {
				t.Fatalf("accepted %q, want %q", got, run.accepted)
			}
			if p := testutil.ToFloat64(ts.in.m.publishedWS); p != float64(len(run.accepted)) {
				t.Fatalf("published{ws} = %v, want %d", p, len(run.accepted))
			}
			for _, code := range []string{httpx.CodeBadRequest, httpx.CodeTooLarge, httpx.CodeDraining} {
				want := run.rejected[code]
				eventually(t, "rejected{"+code+"}", func() bool { return ts.rejected(code) == want })
			}
		})
	}
}

// TestWebSocketBatchBounds sends more frames in one write than one batch
// holds, on a topic whose ring is smaller still, and a run of messages
// that together exceed what the topic may retain: all are accepted in
// order, the latter one by one.
func TestWebSocketBatchBounds(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		ts := newTestServer(t, broker.Config{}, Config{})
		c := ts.dial(t, "many", true, nil)
		const n = 3*maxBatch + 7
		var frames [][]byte
		for k := range n {
			frames = append(frames, txt(strconv.Itoa(k)))
		}
		writeRaw(t, c, frames...)
		eventually(t, "every frame", func() bool { return ts.head("many") == n })
		for k, m := range ts.retained("many") {
			if m.Seq != uint64(k+1) || string(m.Data) != strconv.Itoa(k) {
				t.Fatalf("message %d: seq %d data %q", k, m.Seq, m.Data)
			}
		}
	})
	t.Run("ring", func(t *testing.T) {
		ts := newTestServer(t, broker.Config{RingSize: 4}, Config{})
		c := ts.dial(t, "small", true, nil)
		var frames [][]byte
		for k := range 11 {
			frames = append(frames, bin(strconv.Itoa(k)))
		}
		writeRaw(t, c, frames...)
		eventually(t, "every frame", func() bool { return ts.head("small") == 11 })
		if ts.rejected(httpx.CodeTooLarge) != 0 {
			t.Fatal("a batch was refused")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		ts := newTestServer(t, broker.Config{MaxBytes: 10}, Config{})
		c := ts.dial(t, "tiny", true, nil)
		writeRaw(t, c, txt("aaaaaa"), txt("bbbbbb"), txt("cccccc"))
		eventually(t, "every frame", func() bool { return ts.head("tiny") == 3 })
		msgs := ts.retained("tiny")
		if len(msgs) != 1 || string(msgs[0].Data) != "cccccc" || msgs[0].Seq != 3 {
			t.Fatalf("retained %v", msgs)
		}
		if ts.rejected(httpx.CodeTooLarge) != 0 || testutil.ToFloat64(ts.in.m.publishedWS) != 3 {
			t.Fatal("the run was not accepted one by one")
		}
	})
}

// TestWebSocketBatchPaced checks that pacing sees every frame of a
// buffered run, and that when it fails (Shutdown) the frames paced before
// are accepted and the connection closes with 1001.
func TestWebSocketBatchPaced(t *testing.T) {
	var calls atomic.Int64
	var addrs atomic.Value
	pace := func(ctx context.Context, addr string) error {
		addrs.Store(addr)
		if calls.Add(1) == 300 {
			return context.Canceled
		}
		return nil
	}
	ts := newTestServer(t, broker.Config{}, Config{Pace: pace})
	c := ts.dial(t, "paced", true, nil)
	var frames [][]byte
	for k := range 400 {
		frames = append(frames, txt(strconv.Itoa(k)), txt(""))
	}
	writeRaw(t, c, frames...)
	if code := c.closeCode(t); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if h := ts.head("paced"); h != 299 {
		t.Fatalf("head %d, want 299", h)
	}
	if calls.Load() != 300 || addrs.Load() != "127.0.0.1" {
		t.Fatalf("pace called %d times for %v", calls.Load(), addrs.Load())
	}
	if ts.rejected(httpx.CodeDraining) != 1 {
		t.Fatalf("rejected{draining} = %v", ts.rejected(httpx.CodeDraining))
	}
}

// TestWebSocketBatchDuration checks that one frame in about 64 observes
// the publish duration when frames come in batches.
func TestWebSocketBatchDuration(t *testing.T) {
	const n = 20000
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "dur", true, nil)
	var frames [][]byte
	for k := range n {
		frames = append(frames, bin(strconv.Itoa(k)))
	}
	writeRaw(t, c, frames...)
	eventually(t, "every frame", func() bool { return ts.head("dur") == n })
	count := histogramCount(t, ts, TransportWS)
	// n/64 is about 312, with a standard deviation of about 18.
	if count < 200 || count > 450 {
		t.Fatalf("%d of %d frames observed their duration, want about %d", count, n, n/64)
	}
}

// histogramCount returns ringcast_publish_duration_seconds{transport}'s
// sample count.
func histogramCount(t *testing.T, ts *testServer, transport string) uint64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ringcast_publish_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "transport" && l.GetValue() == transport {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

// TestWholeMessage checks the scan that decides whether the next message
// can be read without waiting, against frames cut at every byte.
func TestWholeMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames [][]byte
		want   bool
	}{
		{"text", [][]byte{txt("abc")}, true},
		{"empty", [][]byte{bin("")}, true},
		{"16-bit length", [][]byte{bin(strings.Repeat("x", 300))}, true},
		{"64-bit length", [][]byte{bin(strings.Repeat("x", 70000))}, true},
		{"pings first", [][]byte{ping("a"), pong(""), txt("b")}, true},
		{"fragments", [][]byte{first(opText, "a"), ping(""), cont("b", false), cont("c", true)}, true},
		{"limit", [][]byte{first(opBinary, strings.Repeat("x", 40000)), cont(strings.Repeat("x", 60000), true)}, true},
		{"over the limit", [][]byte{first(opBinary, strings.Repeat("x", 40000)), cont(strings.Repeat("x", 70000), true)}, false},
		{"close", [][]byte{closeFrame(websocket.CloseNormalClosure), txt("a")}, false},
		{"unmasked", [][]byte{unmasked("a")}, false},
		{"reserved bit", [][]byte{append([]byte{0xc1}, txt("a")[1:]...)}, false},
		{"reserved opcode", [][]byte{rawFrame(0x3, true, nil)}, false},
		{"fragmented ping", [][]byte{rawFrame(opPing, false, nil), txt("a")}, false},
		{"long ping", [][]byte{ping(strings.Repeat("p", 126)), txt("a")}, false},
		{"continuation first", [][]byte{cont("a", true)}, false},
		{"message in a message", [][]byte{first(opText, "a"), txt("b")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Join(tc.frames, nil)
			if got := wholeMessage(b, 100000); got != tc.want {
				t.Fatalf("wholeMessage = %v, want %v", got, tc.want)
			}
			if !tc.want {
				return
			}
			for n := range len(b) {
				if wholeMessage(b[:n], 100000) {
					t.Fatalf("whole with %d of %d bytes", n, len(b))
				}
			}
			if !wholeMessage(append(b, txt("next")[:3]...), 100000) {
				t.Fatal("not whole when a partial frame follows")
			}
		})
	}
}

// TestBufferedReader guards the one thing the batching takes from inside
// the websocket library: its read buffer. Without it each frame would be
// published alone, correct but slow.
func TestBufferedReader(t *testing.T) {
	if _, ok := brOffset(); !ok {
		t.Fatal("websocket.Conn has no br *bufio.Reader: the WebSocket publisher cannot batch")
	}
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "br", true, nil)
	writeRaw(t, c, txt("a"), txt("b"))
	eventually(t, "both frames", func() bool { return ts.head("br") == 2 })
	got := ts.retained("br")
	if len(got) != 2 || string(got[1].Data) != "b" {
		t.Fatalf("retained %v", got)
	}
	// A batch is stamped with one time; two publishes would differ.
	if !got[0].Time.Equal(got[1].Time) {
		t.Fatalf("the frames were published apart, at %v and %v", got[0].Time, got[1].Time)
	}
}

// FuzzWholeMessage checks that the scan never panics, and that a message
// it finds whole stays whole whatever follows it.
func FuzzWholeMessage(f *testing.F) {
	f.Add(txt("a"), []byte{})
	f.Add(bytes.Join([][]byte{ping("p"), first(opText, "a"), cont("b", true)}, nil), txt("c"))
	f.Add(bin(strings.Repeat("x", 300))[:100], []byte{0x82})
	f.Add(rawFrame(opBinary, true, make([]byte, 70000))[:20], []byte{})
	f.Fuzz(func(t *testing.T, b, more []byte) {
		if wholeMessage(b, 1000) && !wholeMessage(append(b[:len(b):len(b)], more...), 1000) {
			t.Fatal("whole, then not whole with more bytes")
		}
	})
}

// TestWebSocketBatchBackpressure sends a run of frames in one write to a
// topic whose block subscriber does not read: the ring fills to the brim
// (a batch that does not fit whole goes one message at a time), the rest
// waits unaccepted and unread, and once the subscriber reads, every frame
// arrives in order.
func TestWebSocketBatchBackpressure(t *testing.T) {
	const frames = 50
	ts := newTestServer(t, blockConfig, Config{})
	sub, err := ts.b.Subscribe("blk.run", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := ts.dial(t, "blk.run", true, nil)
	writeRaw(t, c, txt("first"))
	eventually(t, "the first frame", func() bool { return ts.head("blk.run") == 1 })
	var run [][]byte
	for k := range frames - 1 {
		run = append(run, bin(strconv.Itoa(k)))
	}
	writeRaw(t, c, run...)
	eventually(t, "the ring to fill", func() bool { return ts.head("blk.run") == 4 })
	time.Sleep(300 * time.Millisecond) // three broker publish timeouts
	if h := ts.head("blk.run"); h != 4 {
		t.Fatalf("head %d while the block subscriber is full", h)
	}
	got := readInOrder(t, sub, frames)
	for k, d := range got[1:] {
		if d != strconv.Itoa(k) {
			t.Fatalf("message %d is %q", k+1, d)
		}
	}
	// The publisher counts a frame after the subscriber may have read it.
	eventually(t, "every frame counted", func() bool { return testutil.ToFloat64(ts.in.m.publishedWS) == frames })
	if ts.rejected(httpx.CodeBackpressure) != 0 {
		t.Fatal("a WebSocket publisher's wait counted as a refusal")
	}
}
