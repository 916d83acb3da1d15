package egress

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/ringcast/ringcast/broker"
)

func TestFrameHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xffff, 0x10000, 1 << 20} {
		f := appendFrameHeader(nil, opBinary, n)
		if len(f) != frameHeaderLen(n) || f[0] != 0x82 {
			t.Fatalf("n=%d: header % x", n, f)
		}
		var got int
		switch {
		case f[1] < 126:
			got = int(f[1])
		case f[1] == 126:
			got = int(binary.BigEndian.Uint16(f[2:]))
		default:
			got = int(binary.BigEndian.Uint64(f[2:]))
		}
		if got != n {
			t.Fatalf("n=%d: header says %d", n, got)
		}
		payload := bytes.Repeat([]byte{'p'}, n)
		if p := framePayload(append(f, payload...)); !bytes.Equal(p, payload) {
			t.Fatalf("n=%d: payload of %d bytes", n, len(p))
		}
	}
}

func TestCloseFrame(t *testing.T) {
	f := appendClose(nil, closePolicy, strings.Repeat("é", 100))
	if len(f) > 2+maxControlPayload || f[0] != 0x88 || int(f[1]) != len(f)-2 {
		t.Fatalf("close frame % x", f[:4])
	}
	if binary.BigEndian.Uint16(f[2:]) != closePolicy || !utf8.Valid(f[4:]) {
		t.Fatal("bad code or text cut inside a rune")
	}
	if f := appendClose(nil, closeNoStatus, "x"); !bytes.Equal(f, []byte{0x88, 0}) {
		t.Fatalf("no-status close % x", f)
	}
}

func testMessage(data string, attrs map[string]string) *broker.Message {
	return &broker.Message{
		Topic: "a.b", Epoch: "0123456789ab", Seq: 42,
		ID:   uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057"),
		Time: time.Date(2025, 3, 4, 5, 6, 7, 890000000, time.UTC),
		Data: []byte(data), Attrs: attrs,
	}
}

func TestEnvelopeMatchesEncodingJSON(t *testing.T) {
	m := testMessage("hi \"there\"\n\u2028<&>\x01", map[string]string{"z": "1", "a": "b\xff"})
	got := appendEnvelope(nil, m)
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	want := map[string]any{
		"topic": "a.b", "seq": 42.0, "epoch": "0123456789ab",
		"id": "01890a5d-ac96-774b-bcce-b302099a8057", "time": "2025-03-04T05:06:07.89Z",
		"data":  string(m.Data),
		"attrs": map[string]any{"a": "b\uFFFD", "z": "1"},
	}
	gotJSON, _ := json.Marshal(back)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("envelope\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if !bytes.HasPrefix(got, []byte(`{"topic":"a.b","seq":42,"epoch":"0123456789ab","id":"01890a5d-ac96-774b-bcce-b302099a8057","time":"2025-03-04T05:06:07.89Z","data":`)) ||
		!bytes.HasSuffix(got, []byte(`,"attrs":{"a":"b`+"\uFFFD"+`","z":"1"}}`)) {
		t.Fatalf("field order or attrs order: %s", got)
	}
}

func TestEncodeSSERaw(t *testing.T) {
	for data, want := range map[string]string{
		"x":        "id: 42\ndata: x\n\n",
		"":         "id: 42\ndata: \n\n",
		"a\n\nb":   "id: 42\ndata: a\ndata: \ndata: b\n\n",
		"a\r\nb":   "id: 42\nevent: b64\ndata: YQ0KYg==\n\n",
		"\xc3\x28": "id: 42\nevent: b64\ndata: wyg=\n\n",
	} {
		if got := string(encodeSSERaw(testMessage(data, nil))); got != want {
			t.Errorf("%q: %q, want %q", data, got, want)
		}
	}
}

func TestEncodedOnceAndShared(t *testing.T) {
	m := testMessage("x", nil)
	a, b := wsJSON.bytes(m), wsJSON.bytes(m)
	if &a[0] != &b[0] {
		t.Fatal("encoded twice")
	}
	if env := envelope(m); &env[0] != &a[len(a)-len(env)] {
		t.Fatal("envelope not shared with the frame")
	}
	ev := sseJSON.bytes(m)
	if !bytes.Equal(ev, append(append([]byte("id: 42\ndata: "), envelope(m)...), "\n\n"...)) {
		t.Fatalf("SSE JSON event %q", ev)
	}
}

// FuzzJSONString checks appendJSONString against encoding/json: what it
// writes decodes to the input.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x1f\x7f", "\u2028\u2029", "é😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Fatalf("%q encoded as %s, decodes to %q (%v)", s, b, back, err)
		}
		if !bytes.Equal(b, appendJSONString(nil, []byte(s))) {
			t.Fatal("string and []byte encodings differ")
		}
	})
}
