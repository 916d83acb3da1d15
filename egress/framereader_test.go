package egress

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/broker"
)

// clientFrame encodes a masked client frame with the first header byte b0.
func clientFrame(b0 byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := appendFrameHeader(nil, b0&0x0f, len(payload))
	f[0] = b0
	f[1] |= 0x80
	f = append(f, mask[:]...)
	start := len(f)
	f = append(f, payload...)
	unmask(mask, 0, f[start:])
	return f
}

// TestWSFragmentedPubSub checks a message sent in fragments, with a ping
// between them, is published once, whole.
func TestWSFragmentedPubSub(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	c := s.dial(t, "frag", "mode=pubsub", nil)
	s.waitSubscribers(t, "frag", 1)
	var b []byte
	b = append(b, clientFrame(opText, []byte("hel"))...)
	b = append(b, clientFrame(0x80|opPing, []byte("p"))...)
	b = append(b, clientFrame(0, []byte("lo "))...)
	b = append(b, clientFrame(0x80, bytes.Repeat([]byte("w"), 300))...) // 2-byte length
	if _, err := c.NetConn().Write(b); err != nil {
		t.Fatal(err)
	}
	want := "hello " + string(bytes.Repeat([]byte("w"), 300))
	if got := readMsg(t, c, websocket.TextMessage); got != want {
		t.Fatalf("got %q", got)
	}
	if h := s.b.Lookup("frag").Head(); h != 1 {
		t.Fatalf("head %d, want one message", h)
	}
}

// TestWSProtocolErrors checks frames that break RFC 6455 close the
// connection with 1002 and publish nothing.
func TestWSProtocolErrors(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	unmasked := appendFrameHeader(nil, opText, 2)
	unmasked = append(unmasked, "hi"...)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"unmasked", unmasked},
		{"reserved bit", clientFrame(0x80|0x40|opText, []byte("hi"))},
		{"unknown opcode", clientFrame(0x80|0x3, []byte("hi"))},
		{"fragmented ping", clientFrame(opPing, nil)},
		{"continuation first", clientFrame(0x80, []byte("hi"))},
		{"text inside a message", append(clientFrame(opText, []byte("a")), clientFrame(0x80|opText, []byte("b"))...)},
		{"bad close code", clientFrame(0x80|opClose, []byte{0x03, 0xe6})}, // 998
		{"one-byte close", clientFrame(0x80|opClose, []byte{0x03})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t, "pe", "mode=pubsub", nil)
			if _, err := c.NetConn().Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			if code := readClose(t, c); code != websocket.CloseProtocolError {
				t.Fatalf("close %d, want 1002", code)
			}
			s.waitSubscribers(t, "pe", 0)
		})
	}
	if h := s.b.Lookup("pe").Head(); h != 0 {
		t.Fatalf("head %d: a broken frame was published", h)
	}
}

// fakeConn is a net.Conn whose reads come from r.
type fakeConn struct {
	net.Conn
	r *bytes.Reader
}

func (c fakeConn) Read(p []byte) (int, error)      { return c.r.Read(p) }
func (c fakeConn) SetReadDeadline(time.Time) error { return nil }

// FuzzFrameReader feeds arbitrary bytes to the frame reader: it must never
// panic, and every payload it returns is as long as its header says.
func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(0x80|opText, []byte("hello")))
	f.Add(clientFrame(0x80|opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}))
	f.Add(append(clientFrame(opBinary, []byte("a")), clientFrame(0x80, bytes.Repeat([]byte{0}, 70000))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := &frameReader{nc: fakeConn{r: bytes.NewReader(b)}}
		for {
			h, err := fr.next()
			if err != nil {
				return
			}
			if h.op >= opClose {
				p, err := fr.control(h)
				if err != nil {
					return
				}
				if int64(len(p)) != h.n || h.n > maxControlPayload {
					t.Fatalf("control payload %d, header %d", len(p), h.n)
				}
				if h.op == opClose {
					_, _ = closeCodeOf(p)
				}
				continue
			}
			if fr.discard(h.n) != nil {
				return
			}
		}
	})
}
