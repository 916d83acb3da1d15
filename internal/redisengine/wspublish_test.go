package redisengine_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
	"github.com/ringcast/ringcast/internal/wsframe"
)

// A WebSocket publisher's frames that the server reads together go to
// Redis as one batch (one script); these tests check, against a real
// Redis, that what is accepted, with which seqs, and how the connection
// closes is exactly what frame-by-frame publishing gives.

// wsFrame encodes one masked client frame.
func wsFrame(op byte, fin bool, payload string) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	return wsframe.AppendClient(nil, b0, []byte(payload), true, 0x5a01c37e)
}

func wsText(s string) []byte { return wsFrame(websocket.TextMessage, true, s) }
func wsBin(s string) []byte  { return wsFrame(websocket.BinaryMessage, true, s) }
func wsPing(s string) []byte { return wsFrame(websocket.PingMessage, true, s) }
func wsClose(code int) []byte {
	return wsFrame(websocket.CloseMessage, true, string(websocket.FormatCloseMessage(code, "")))
}

// wsPublisher is a mode=pub connection whose reader reports the close
// code the server sent.
type wsPublisher struct {
	c     *websocket.Conn
	ended chan int // the server's close code, -1 for none
}

func dialPub(t *testing.T, in *instance, topic string) *wsPublisher {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(in.ws+"/v1/topics/"+topic+"/ws?mode=pub", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	p := &wsPublisher{c: c, ended: make(chan int, 1)}
	go func() {
		for {
			if _, _, err := c.NextReader(); err != nil {
				code := -1
				if ce, ok := err.(*websocket.CloseError); ok {
					code = ce.Code
				}
				p.ended <- code
				return
			}
		}
	}()
	return p
}

// write sends frames in one write() call.
func (p *wsPublisher) write(t *testing.T, frames ...[]byte) {
	t.Helper()
	if _, err := p.c.UnderlyingConn().Write(bytes.Join(frames, nil)); err != nil {
		t.Fatal(err)
	}
}

// closeCode waits for the server's close.
func (p *wsPublisher) closeCode(t *testing.T) int {
	t.Helper()
	select {
	case code := <-p.ended:
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not close the connection")
		return 0
	}
}

// headSeq returns the topic's head_seq on in, 0 if it does not exist.
func headSeq(t *testing.T, in *instance, topic string) uint64 {
	t.Helper()
	a := do(t, http.MethodGet, in.base+"/v1/topics/"+topic, "")
	if a.status == http.StatusNotFound {
		return 0
	}
	var info struct {
		Head uint64 `json:"head_seq"`
	}
	if err := json.Unmarshal(a.body, &info); err != nil {
		t.Fatalf("topic info %s: %v", a.body, err)
	}
	return info.Head
}

// stored returns the payloads of topic from seq 1, failing unless their
// seqs are 1, 2, … in order.
func stored(t *testing.T, in *instance, topic string) []string {
	t.Helper()
	a := do(t, http.MethodGet, in.base+"/v1/topics/"+topic+"/messages?from=oldest&limit=1000", "")
	var es []envelope
	if err := json.Unmarshal(a.body, &es); err != nil {
		t.Fatalf("messages %d %s: %v", a.status, a.body, err)
	}
	out := []string{}
	for i, e := range es {
		if e.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d", i, e.Seq)
		}
		out = append(out, e.Data)
	}
	return out
}

// metric returns the value of one sample line of in's /metrics, 0 if absent.
func metric(t *testing.T, in *instance, series string) float64 {
	t.Helper()
	a := do(t, http.MethodGet, in.base+"/metrics", "")
	for _, line := range strings.Split(string(a.body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

func TestWebSocketPublishRunsRedis(t *testing.T) {
	r := startRedis(t)
	in := startInstance(t, redisengine.Config{Addrs: []string{r.addr()}}, server.Config{MaxMessageBytes: 16})
	many := make([][]byte, 0, 600)
	manyWant := make([]string, 0, 600)
	for k := range 600 {
		many = append(many, wsText("m"+strconv.Itoa(k)))
		manyWant = append(manyWant, "m"+strconv.Itoa(k))
	}
	for _, tc := range []struct {
		name     string
		writes   [][][]byte
		heads    []uint64 // the head after each write, waited for
		accepted []string
		code     int
		rejected map[string]float64 // ringcast_publish_rejected_total by code
	}{
		{name: "one write", writes: [][][]byte{{wsText("a"), wsBin("b"), wsText(""), wsText("c")}},
			accepted: []string{"a", "b", "c"}, code: websocket.CloseNormalClosure},
		{name: "pings between", writes: [][][]byte{{wsPing("1"), wsText("a"), wsPing(""), wsText("b"), wsPing("2")}},
			accepted: []string{"a", "b"}, code: websocket.CloseNormalClosure},
		{name: "more than a batch", writes: [][][]byte{many}, accepted: manyWant, code: websocket.CloseNormalClosure},
		{name: "invalid UTF-8 after frames", writes: [][][]byte{{wsText("a"), wsText("b"), wsText("c\xff"), wsText("never")}},
			accepted: []string{"a", "b"}, code: websocket.CloseInvalidFramePayloadData,
			rejected: map[string]float64{"bad_request": 1}},
		{name: "oversize after frames", writes: [][][]byte{{wsText("a"), wsPing(""), wsBin(strings.Repeat("x", 17)), wsText("never")}},
			accepted: []string{"a"}, code: websocket.CloseMessageTooBig,
			rejected: map[string]float64{"too_large": 1}},
		{name: "close after frames", writes: [][][]byte{{wsText("a"), wsText("b"), wsClose(websocket.CloseNormalClosure)}},
			accepted: []string{"a", "b"}, code: websocket.CloseNormalClosure},
		{name: "frame cut across writes",
			writes:   [][][]byte{{wsText("a"), wsText("b"), wsText("cd")[:4]}, {wsText("cd")[4:], wsText("e")}},
			heads:    []uint64{2, 4},
			accepted: []string{"a", "b", "cd", "e"}, code: websocket.CloseNormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "wsrun." + strings.ReplaceAll(tc.name, " ", "-")
			before := map[string]float64{}
			for _, code := range []string{"bad_request", "too_large"} {
				before[code] = metric(t, in, `ringcast_publish_rejected_total{code="`+code+`"}`)
			}
			published := metric(t, in, `ringcast_messages_published_total{transport="ws"}`)
			p := dialPub(t, in, topic)
			for k, w := range tc.writes {
				p.write(t, w...)
				if k < len(tc.heads) {
					want := tc.heads[k]
					waitFor(t, "head "+strconv.FormatUint(want, 10), func() bool { return headSeq(t, in, topic) == want })
				}
			}
			if tc.code == websocket.CloseNormalClosure && tc.name != "close after frames" {
				waitFor(t, "every frame", func() bool { return headSeq(t, in, topic) == uint64(len(tc.accepted)) })
				p.write(t, wsClose(websocket.CloseNormalClosure))
			}
			if code := p.closeCode(t); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			got := stored(t, in, topic)
			if strings.Join(got, "|") != strings.Join(tc.accepted, "|") {
				t.Fatalf("accepted %q, want %q", got, tc.accepted)
			}
			if d := metric(t, in, `ringcast_messages_published_total{transport="ws"}`) - published; d != float64(len(tc.accepted)) {
				t.Fatalf("published{ws} grew by %v, want %d", d, len(tc.accepted))
			}
			for code, b := range before {
				want := tc.rejected[code]
				waitFor(t, "rejected{"+code+"}", func() bool {
					return metric(t, in, `ringcast_publish_rejected_total{code="`+code+`"}`)-b == want
				})
			}
		})
	}
}

// With Redis gone, a WebSocket publisher's batch is refused whole: the
// connection closes with 1013 (try again later), as a single frame's
// refused publish closes it, and every frame read is counted as refused
// (unavailable).
func TestWebSocketPublishRedisDown(t *testing.T) {
	r := startRedis(t)
	in := startInstance(t, redisengine.Config{Addrs: []string{r.addr()}, Timeout: 300 * time.Millisecond}, server.Config{})
	const topic = "wsdown"
	p := dialPub(t, in, topic)
	p.write(t, wsText("a"), wsText("b"))
	waitFor(t, "the first frames", func() bool { return headSeq(t, in, topic) == 2 })
	r.kill()
	p.write(t, wsText("c"), wsText("d"), wsText("e"))
	if code := p.closeCode(t); code != websocket.CloseTryAgainLater {
		t.Fatalf("close code %d, want 1013", code)
	}
	// The three frames of one write are read, and refused, together.
	if n := metric(t, in, `ringcast_publish_rejected_total{code="unavailable"}`); n != 3 {
		t.Fatalf("rejected{unavailable} = %v, want 3", n)
	}
	if n := metric(t, in, `ringcast_messages_published_total{transport="ws"}`); n != 2 {
		t.Fatalf("published{ws} = %v, want 2", n)
	}
	// A new connection is refused the same way while Redis is down.
	again := dialPub(t, in, topic)
	again.write(t, wsText("f"))
	if code := again.closeCode(t); code != websocket.CloseTryAgainLater {
		t.Fatalf("close code %d, want 1013", code)
	}
}
