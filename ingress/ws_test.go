package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// wsOpen returns the ringcast_connections{kind="ws"} gauge.
func (ts *testServer) wsOpen() float64 { return testutil.ToFloat64(ts.conns.Open[httpx.KindWS]) }

func write(t testing.TB, c *wsClient, typ int, data []byte) {
	t.Helper()
	if err := c.WriteMessage(typ, data); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func TestWebSocketInOrderNoLoss(t *testing.T) {
	const frames = 10000
	ts := newTestServer(t, broker.Config{}, Config{})
	header := http.Header{"X-Ringcast-Attr-Device": {"d7"}, "Content-Type": {"text/plain"}}
	c := ts.dial(t, "iot.temp", true, header)
	for n := range frames {
		typ := websocket.TextMessage
		if n%2 == 1 {
			typ = websocket.BinaryMessage
		}
		write(t, c, typ, []byte("m"+strconv.Itoa(n)))
	}
	eventually(t, "every frame", func() bool { return ts.head("iot.temp") == frames })
	msgs := ts.retained("iot.temp")
	if len(msgs) != frames {
		t.Fatalf("%d messages retained, want %d", len(msgs), frames)
	}
	want := map[string]string{"device": "d7", "remote_addr": "127.0.0.1"}
	for n, m := range msgs {
		if m.Seq != uint64(n+1) || string(m.Data) != "m"+strconv.Itoa(n) {
			t.Fatalf("message %d: seq %d data %q", n, m.Seq, m.Data)
		}
		if !reflect.DeepEqual(m.Attrs, want) || m.Origin != 0 {
			t.Fatalf("attrs %v origin %d, want %v and 0", m.Attrs, m.Origin, want)
		}
	}
	if got := testutil.ToFloat64(ts.in.m.publishedWS); got != frames {
		t.Fatalf("published{ws} = %v", got)
	}
	if ts.wsOpen() != 1 || testutil.ToFloat64(ts.conns.Opened) != 0 { // the server, not ingress, counts TCP opens
		t.Fatal("the connection is not counted open")
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(t); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
	eventually(t, "the close to be counted", func() bool { return ts.wsOpen() == 0 })
	if testutil.ToFloat64(ts.conns.Closed) != 1 || testutil.ToFloat64(ts.conns.Errors) != 0 {
		t.Fatal("a normal close should count close and no error")
	}
}

func TestWebSocketEmptyFrameIgnored(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "e", true, nil)
	write(t, c, websocket.TextMessage, nil)
	write(t, c, websocket.BinaryMessage, []byte{})
	write(t, c, websocket.TextMessage, []byte("x"))
	eventually(t, "the frame", func() bool { return ts.head("e") == 1 })
	if msgs := ts.retained("e"); string(msgs[0].Data) != "x" {
		t.Fatalf("message %q", msgs[0].Data)
	}
}

func TestWebSocketInvalidUTF8(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "u", true, nil)
	write(t, c, websocket.TextMessage, []byte("ok"))
	write(t, c, websocket.BinaryMessage, []byte{0xff, 0xfe}) // binary may be anything
	write(t, c, websocket.TextMessage, []byte{'a', 0xff})
	if code := c.closeCode(t); code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("close code %d, want 1007", code)
	}
	if h := ts.head("u"); h != 2 {
		t.Fatalf("head %d, want 2: the bad frame was accepted", h)
	}
	if ts.rejected(httpx.CodeBadRequest) != 1 {
		t.Fatal("the bad frame is not counted")
	}
	eventually(t, "the error to be counted", func() bool { return testutil.ToFloat64(ts.conns.Errors) == 1 })
}

func TestWebSocketTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		size  int
	}{
		{"small", 1024, 1025},
		// The server closes after the header of a 4 MiB frame, then reads
		// and discards the rest, so the close frame reaches the client.
		{"large", 64 << 10, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, broker.Config{}, Config{MaxMessageBytes: tc.limit})
			c := ts.dial(t, "big", true, nil)
			write(t, c, websocket.BinaryMessage, bytes.Repeat([]byte{'a'}, tc.limit))
			// The write may fail: the client's reader can get the server's
			// close frame, and answer it, before the write ends.
			_ = c.WriteMessage(websocket.BinaryMessage, bytes.Repeat([]byte{'b'}, tc.size))
			if code := c.closeCode(t); code != websocket.CloseMessageTooBig {
				t.Fatalf("close code %d, want 1009", code)
			}
			if h := ts.head("big"); h != 1 {
				t.Fatalf("head %d, want 1: the oversize frame was accepted", h)
			}
			// The library sends 1009 before the handler counts the frame.
			eventually(t, "the oversize frame to be counted", func() bool {
				return ts.rejected(httpx.CodeTooLarge) == 1
			})
		})
	}
}

// TestWebSocketBackpressure checks that a publisher meeting a full block
// subscriber is simply not read from, stays connected past the broker's
// publish timeout and two ping intervals, and loses nothing.
func TestWebSocketBackpressure(t *testing.T) {
	const frames = 50
	ts := newTestServer(t, blockConfig, Config{PingInterval: 100 * time.Millisecond})
	sub, err := ts.b.Subscribe("blk.ws", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := ts.dial(t, "blk.ws", true, nil)
	for n := range frames {
		write(t, c, websocket.TextMessage, []byte(strconv.Itoa(n)))
	}
	eventually(t, "the ring to fill", func() bool { return ts.head("blk.ws") == 4 })
	time.Sleep(400 * time.Millisecond) // four broker publish timeouts, four ping intervals
	if h := ts.head("blk.ws"); h != 4 {
		t.Fatalf("head %d while the block subscriber is full", h)
	}
	if ts.wsOpen() != 1 {
		t.Fatal("the waiting publisher was disconnected")
	}
	got := readInOrder(t, sub, frames)
	for n, d := range got {
		if d != strconv.Itoa(n) {
			t.Fatalf("message %d is %q", n, d)
		}
	}
	if ts.rejected(httpx.CodeBackpressure) != 0 {
		t.Fatal("a WebSocket publisher's wait counted as a refusal")
	}
	write(t, c, websocket.TextMessage, []byte("after"))
	eventually(t, "the frame after the wait", func() bool { return ts.head("blk.ws") == frames+1 })
}

func TestWebSocketShutdown(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "s", true, nil)
	write(t, c, websocket.TextMessage, []byte("x"))
	eventually(t, "the frame", func() bool { return ts.head("s") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.in.Shutdown(ctx) }()
	if code := c.closeCode(t); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if ts.wsOpen() != 0 || testutil.ToFloat64(ts.conns.Errors) != 0 {
		t.Fatal("after Shutdown the connection should be closed without an error")
	}
	// A new publisher is refused with the contract's error.
	_, resp, err := websocket.DefaultDialer.Dial(ts.ws+"/v1/topics/s/ws?mode=pub", nil)
	if err == nil {
		t.Fatal("dial after Shutdown succeeded")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || decodeError(t, body).Code != httpx.CodeDraining {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
}

// TestWebSocketShutdownWaitingPublisher checks that Shutdown ends a
// publisher waiting for a full block subscriber.
func TestWebSocketShutdownWaitingPublisher(t *testing.T) {
	ts := newTestServer(t, blockConfig, Config{})
	sub, err := ts.b.Subscribe("blk.sd", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := ts.dial(t, "blk.sd", true, nil)
	// Six frames in one write: the first four fill the ring, the last two
	// are read together and wait as one batch.
	writeRaw(t, c, txt("x"), txt("x"), txt("x"), txt("x"), txt("x"), txt("x"))
	eventually(t, "the ring to fill", func() bool { return ts.head("blk.sd") == 4 })
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- ts.in.Shutdown(context.Background()) }()
	if code := c.closeCode(t); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ts.rejected(httpx.CodeDraining) != 2 {
		t.Fatalf("rejected{draining} = %v, want 2 (the frames read but not accepted)", ts.rejected(httpx.CodeDraining))
	}
}

// TestWebSocketShutdownDeadline checks that Shutdown returns when its
// context ends, even though the client never answers the close.
func TestWebSocketShutdownDeadline(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	ts.dial(t, "nr", false, nil) // never reads: never answers the close frame
	eventually(t, "the connection", func() bool { return ts.wsOpen() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.in.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	if ts.wsOpen() != 0 {
		t.Fatal("the connection is still open")
	}
}

// TestWebSocketClientVanishes cuts the TCP connection in the middle of a
// frame: every whole frame before it is accepted, and the connection is
// counted as ended by an error.
func TestWebSocketClientVanishes(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	c := ts.dial(t, "v", false, nil)
	for n := range 100 {
		write(t, c, websocket.BinaryMessage, []byte(strconv.Itoa(n)))
	}
	// A masked binary frame header announcing 100 bytes, then 3 of them.
	if _, err := c.UnderlyingConn().Write([]byte{0x82, 0x80 | 100, 1, 2, 3, 4, 'a', 'b', 'c'}); err != nil {
		t.Fatal(err)
	}
	_ = c.UnderlyingConn().Close()
	eventually(t, "the server to notice", func() bool {
		return ts.wsOpen() == 0 && testutil.ToFloat64(ts.conns.Errors) == 1
	})
	if h := ts.head("v"); h != 100 {
		t.Fatalf("head %d, want 100", h)
	}
}

func TestWebSocketPingKeepalive(t *testing.T) {
	const interval = 100 * time.Millisecond
	ts := newTestServer(t, broker.Config{}, Config{PingInterval: interval})
	c := ts.dial(t, "k", false, nil)
	var pings atomic.Int32
	reply := c.PingHandler()
	c.SetPingHandler(func(s string) error {
		pings.Add(1)
		return reply(s)
	})
	go func() {
		for {
			if _, _, err := c.NextReader(); err != nil {
				c.ended <- err
				return
			}
		}
	}()
	time.Sleep(8 * interval)
	if n := pings.Load(); n < 4 {
		t.Fatalf("%d pings in 8 intervals", n)
	}
	if ts.wsOpen() != 1 {
		t.Fatal("a peer answering pings was disconnected")
	}
	write(t, c, websocket.TextMessage, []byte("alive"))
	eventually(t, "the frame", func() bool { return ts.head("k") == 1 })
}

func TestWebSocketDeadPeer(t *testing.T) {
	const interval = 100 * time.Millisecond
	ts := newTestServer(t, broker.Config{}, Config{PingInterval: interval})
	c := ts.dial(t, "dead", false, nil) // never reads, so never answers a ping
	eventually(t, "the connection", func() bool { return ts.wsOpen() == 1 })
	start := time.Now()
	eventually(t, "the dead peer to be closed", func() bool { return ts.wsOpen() == 0 })
	// Two intervals, and slack for a loaded machine running -race.
	if d := time.Since(start); d < interval || d > 2*interval+400*time.Millisecond {
		t.Fatalf("closed after %v, want after one and within two intervals", d)
	}
	if testutil.ToFloat64(ts.conns.Errors) != 1 {
		t.Fatal("a dead peer should count as an error")
	}
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("the connection is still open")
	}
}

// TestWebSocketFramesKeepAlive: frames push the read deadline back like
// pongs do. The peer never answers a ping but sends a frame every half
// interval for four intervals, twice as long as a silent peer lasts, and
// stays connected; once it stops, it is closed.
func TestWebSocketFramesKeepAlive(t *testing.T) {
	const interval = 200 * time.Millisecond
	ts := newTestServer(t, broker.Config{}, Config{PingInterval: interval})
	c := ts.dial(t, "frames", false, nil) // never reads, so never answers a ping
	const frames = 8
	for n := range frames {
		write(t, c, websocket.BinaryMessage, []byte{byte(n)})
		eventually(t, "the frame", func() bool { return ts.head("frames") == uint64(n+1) })
		if ts.wsOpen() != 1 {
			t.Fatalf("closed after %d frames half an interval apart", n+1)
		}
		time.Sleep(interval / 2)
	}
	eventually(t, "the silent peer to be closed", func() bool { return ts.wsOpen() == 0 })
}

func TestWebSocketHandshakeRefused(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	resp, err := ts.client.Get(ts.url + "/v1/topics/h/ws?mode=pub")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e errorBody
	if resp.StatusCode != 400 || json.Unmarshal(body, &e) != nil || e.Code != httpx.CodeBadRequest ||
		!strings.Contains(e.Error, "websocket") {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if ts.rejected(httpx.CodeBadRequest) != 1 {
		t.Fatal("the refused handshake is not counted")
	}
}

func TestWebSocketTopicLimit(t *testing.T) {
	ts := newTestServer(t, broker.Config{MaxTopics: 1}, Config{})
	if status, _, body := ts.post(t, "/v1/topics/first/", "x"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
	c := ts.dial(t, "second", true, nil)
	write(t, c, websocket.TextMessage, []byte("x"))
	if code := c.closeCode(t); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	if ts.b.Lookup("second") != nil || ts.rejected(httpx.CodeForbidden) != 1 {
		t.Fatal("the refused frame was accepted or not counted")
	}
}
