package server

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/wsframe"
)

// malformedMaxMessage is the server's --max-message-bytes in these tests.
const malformedMaxMessage = 1024

// TestMalformedHTTP sends malformed HTTP over raw TCP and checks that each
// gets a clean refusal, its exact status and code, and that the server
// keeps serving another client (a publish and a subscribe) after each.
func TestMalformedHTTP(t *testing.T) {
	s := start(t, Config{MaxMessageBytes: malformedMaxMessage})
	addr := s.Addr().String()
	const post = "POST /v1/topics/bad HTTP/1.1\r\nHost: x\r\n"
	const upgrade = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, c := range []struct {
		name   string
		req    string
		status int
		code   string // "": the answer need not be the JSON error
	}{
		{"bad Content-Length", post + "Content-Length: abc\r\n\r\nhello", 400, "bad_request"},
		{"negative Content-Length", post + "Content-Length: -5\r\n\r\nhello", 400, "bad_request"},
		{"duplicated, different Content-Length", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, "bad_request"},
		{"duplicated, equal Content-Length", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "bad_request"},
		{"Content-Length list", post + "Content-Length: 5, 5\r\n\r\nhello", 400, "bad_request"},
		{"Content-Length over the limit", post + "Content-Length: 99999999999\r\n\r\nhello", 413, "too_large"},
		{"Content-Length with Transfer-Encoding", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request"},
		{"Transfer-Encoding with Content-Length", post + "Transfer-Encoding: chunked\r\ncontent-length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request"},
		{"bad chunk size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, "bad_request"},
		{"chunk longer than its size", post + "Transfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", 400, "bad_request"},
		{"unknown Transfer-Encoding", post + "Transfer-Encoding: gzip\r\n\r\nhello", 400, "bad_request"},
		{"oversize header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n", 431, "bad_request"},
		{"many headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 2000) + "\r\n", 431, "bad_request"},
		{"bad request line", "GARBAGE\r\n\r\n", 400, "bad_request"},
		{"no version", "GET /healthz\r\n\r\n", 400, "bad_request"},               // HTTP/0.9
		{"unknown version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 200, ""}, // fasthttp serves it as HTTP/1.0: harmless
		{"header without colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400, "bad_request"},
		{"space before colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400, "bad_request"},
		{"NUL in header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, "bad_request"},
		{"upgrade without Sec-WebSocket-Key", "GET /v1/topics/bad/ws HTTP/1.1\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n", 400, "bad_request"},
		{"upgrade with version 8", "GET /v1/topics/bad/ws HTTP/1.1\r\n" + upgrade + key + "Sec-WebSocket-Version: 8\r\n\r\n", 400, "bad_request"},
		{"upgrade without Upgrade", "GET /v1/topics/bad/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400, "bad_request"},
		{"upgrade on POST", "POST /v1/topics/bad/ws HTTP/1.1\r\n" + upgrade + key + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", 405, "method_not_allowed"},
		{"upgrade on a bad topic", "GET /v1/topics/b%20d/ws HTTP/1.1\r\n" + upgrade + key + "Sec-WebSocket-Version: 13\r\n\r\n", 400, "bad_topic"},
		{"pub upgrade without key", "GET /v1/topics/bad/ws?mode=pub HTTP/1.1\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n", 400, "bad_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := rawExchange(t, addr, c.req)
			if a.status != c.status {
				t.Errorf("status %d, want %d (body %q)", a.status, c.status, a.body)
			}
			if c.code != "" {
				var e struct{ Error, Code string }
				if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Code != c.code || e.Error == "" {
					t.Errorf("body %q, want the JSON error with code %q", a.body, c.code)
				}
			}
			stillServes(t, s.Server)
		})
	}
	if got := topicHead(t, s.Server, "bad"); got != 0 {
		t.Errorf("bad head_seq %d: a refused request was accepted", got)
	}
}

// TestAmbiguousFramingCloses checks that a request with both
// Transfer-Encoding and Content-Length is refused and its connection
// closed, so that what follows it on the connection is never read as a
// request (a smuggled one, behind a proxy that framed by Content-Length).
func TestAmbiguousFramingCloses(t *testing.T) {
	s := start(t, Config{})
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST /v1/topics/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
		"POST /v1/topics/smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !resp.Close {
		t.Fatalf("status %d, close %v: want 400 and Connection: close (%v)", resp.StatusCode, resp.Close, resp.Header)
	}
	if _, err := http.ReadResponse(r, nil); err == nil {
		t.Fatal("the request after the ambiguous one was answered")
	}
	for _, topic := range []string{"smuggle", "smuggled"} {
		if got := topicHead(t, s.Server, topic); got != 0 {
			t.Errorf("%s head_seq %d", topic, got)
		}
	}
}

// TestMalformedWebSocket sends frames that break the contract or RFC 6455
// on a mode=pub connection and checks the close code of each, and that
// the server keeps serving another client after each.
func TestMalformedWebSocket(t *testing.T) {
	s := start(t, Config{MaxMessageBytes: malformedMaxMessage})
	addr := s.Addr().String()
	for _, c := range []struct {
		name  string
		frame []byte
		close int
	}{
		{"invalid UTF-8 in a text frame", clientFrame(0x81, true, []byte{'a', 0xff, 0xfe}), 1007},
		{"overlong UTF-8 in a text frame", clientFrame(0x81, true, []byte{0xc0, 0xaf}), 1007},
		{"invalid UTF-8 across fragments", append(clientFrame(0x01, true, []byte{'a', 0xe2, 0x82}), clientFrame(0x80, true, []byte{'x'})...), 1007},
		{"oversize frame", clientFrame(0x82, true, make([]byte, malformedMaxMessage+1)), 1009},
		{"oversize message in fragments", append(clientFrame(0x02, true, make([]byte, 600)), clientFrame(0x80, true, make([]byte, 600))...), 1009},
		{"fragmented ping", clientFrame(0x09, true, []byte("hi")), 1002},
		{"ping over 125 bytes", clientFrame(0x89, true, make([]byte, 126)), 1002},
		{"unmasked frame", clientFrame(0x82, false, []byte("hello")), 1002},
		{"reserved bits", clientFrame(0xc2, true, []byte("hello")), 1002},
		{"unknown opcode", clientFrame(0x83, true, []byte("hello")), 1002},
		{"continuation without a start", clientFrame(0x80, true, []byte("hello")), 1002},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, r := rawUpgrade(t, addr, "/v1/topics/badws/ws?mode=pub")
			if _, err := conn.Write(c.frame); err != nil {
				t.Fatal(err)
			}
			if code := readCloseFrame(t, r); code != c.close {
				t.Errorf("close code %d, want %d", code, c.close)
			}
			conn.Close()
			stillServes(t, s.Server)
		})
	}
	if got := topicHead(t, s.Server, "badws"); got != 0 {
		t.Errorf("badws head_seq %d: a refused frame was accepted", got)
	}
}

// rawExchange sends req over a fresh connection and reads one response;
// status 0 when the server closed without one.
func rawExchange(t *testing.T, addr, req string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no HTTP answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, resp.Header, string(b)}
}

// rawUpgrade opens a WebSocket by hand and returns the connection and a
// reader positioned after the 101.
func rawUpgrade(t *testing.T, addr, target string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return c, r
}

// clientFrame is one frame with first byte b0 (FIN, RSV, opcode), masked
// or not.
func clientFrame(b0 byte, masked bool, payload []byte) []byte {
	return wsframe.AppendClient(nil, b0, payload, masked, 0x12345678)
}

// readCloseFrame reads server frames until a close frame and returns its
// code; 1005 for an empty one, 0 when the connection ends without one.
func readCloseFrame(t *testing.T, r *bufio.Reader) int {
	t.Helper()
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return 0
		}
		n := int(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return 0
			}
			n = int(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return 0
			}
			n = int(binary.BigEndian.Uint64(b[:]))
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0
		}
		if h[0]&0x0f == 0x8 {
			if n < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(payload))
		}
	}
}

// stillServes checks that another client can publish and subscribe.
func stillServes(t *testing.T, s *Server) {
	t.Helper()
	topic := "alive-" + strconv.FormatInt(aliveTopics.Add(1), 10)
	base := "http://" + s.Addr().String()
	ws := dial(t, "ws://"+s.Addr().String()+"/v1/topics/"+topic+"/ws")
	s.waitSubscriber(t, topic)
	a := do(t, "POST", base+"/v1/topics/"+topic, "still here")
	if a.status != 201 {
		t.Fatalf("publish after the bad request: %d %s", a.status, a.body)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil || string(data) != "still here" {
		t.Fatalf("subscribe after the bad request: %q %v", data, err)
	}
	ws.Close()
}

// waitSubscriber waits until topic has at least one subscriber.
func (s *Server) waitSubscriber(t *testing.T, topic string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if tp := s.broker.Lookup(topic); tp != nil && tp.Stats().Subscribers > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no subscriber on %s after 10 s", topic)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// topicHead is a topic's head_seq, 0 when it does not exist.
func topicHead(t *testing.T, s *Server, topic string) uint64 {
	t.Helper()
	tp := s.broker.Lookup(topic)
	if tp == nil {
		return 0
	}
	return tp.Head()
}

// aliveTopics numbers stillServes' topics, one per check.
var aliveTopics atomic.Int64
