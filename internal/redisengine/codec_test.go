package redisengine

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
)

func TestBatchRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC)
	ms := []*broker.Message{
		{Data: []byte("hello"), Attrs: map[string]string{"content_type": "text/plain", "remote_addr": "10.0.0.1"}},
		{Data: []byte{0, 0xff, '\n', ':', 0x80}},             // binary, with the header's separator
		{Data: bytes.Repeat([]byte("y"), 70000), Attrs: nil}, // a length over two varint bytes
	}
	payload := "0123456789ab:41:"
	for _, m := range ms {
		m.Time, m.ID = now, broker.NewID(now)
		payload += string(appendBody(nil, m))
	}
	_, first, bodies, err := splitHeader(payload)
	if n, ok := countBodies(bodies); err != nil || first != 41 || !ok || n != 3 {
		t.Fatalf("header: first %d, %d bodies (%v), %v", first, n, ok, err)
	}
	if _, ok := countBodies(bodies[:len(bodies)-1]); ok {
		t.Fatal("counted a truncated batch")
	}
	bt, err := decodeBatch("t.x", payload)
	if err != nil {
		t.Fatal(err)
	}
	if bt.epoch != "0123456789ab" || len(bt.ms) != len(ms) {
		t.Fatalf("epoch %q, %d messages", bt.epoch, len(bt.ms))
	}
	for i, got := range bt.ms {
		want := ms[i]
		if got.Seq != 41+uint64(i) || got.Topic != "t.x" || got.Epoch != "0123456789ab" || got.ID != want.ID ||
			!got.Time.Equal(now) || !bytes.Equal(got.Data, want.Data) || !maps.Equal(got.Attrs, want.Attrs) {
			t.Fatalf("message %d: %+v", i, got)
		}
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	body := string(appendBody(nil, &broker.Message{Data: []byte("x"), Time: time.Unix(1, 0)}))
	for name, p := range map[string]string{
		"no header":     "abc",
		"no seq":        "e:",
		"seq 0":         "e:0:" + body,
		"bad seq":       "e:x:" + body,
		"truncated":     "e:1:" + body[:len(body)-1],
		"short body":    "e:1:\x03abc",
		"attrs overrun": "e:1:\x12" + strings.Repeat("\x00", 16) + "\x02\x7f",
	} {
		if _, err := decodeBatch("t", p); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := entrySeq("1-5"); err == nil {
		t.Error("entry id 1-5 decoded")
	}
	if s, err := entrySeq("0-77"); err != nil || s != 77 {
		t.Errorf("entry id 0-77: %d %v", s, err)
	}
}

// FuzzDecodeBatch: whatever Redis hands over, decoding never panics.
func FuzzDecodeBatch(f *testing.F) {
	f.Add("e:1:" + string(appendBody(nil, &broker.Message{Data: []byte("x"), Attrs: map[string]string{"a": "b"}})))
	f.Add("e:1:\x05")
	f.Fuzz(func(t *testing.T, p string) {
		_, _ = decodeBatch("t", p)
	})
}
