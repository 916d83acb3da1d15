package bench

import (
	"bytes"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, size := range []int{MinPayloadSize, 100, 4096} {
		b := newPayload(size)
		want := stamp{run: 0xdeadbeef, pub: 7, counter: 1<<40 + 3, sent: 1_795_000_000_123_456_789}
		want.put(b)
		got, ok := readStamp(b)
		if !ok || got != want {
			t.Fatalf("size %d: read %+v, %v; want %+v", size, got, ok, want)
		}
		if len(b) != size {
			t.Fatalf("size %d: payload of %d bytes", size, len(b))
		}
		if size > MinPayloadSize && !bytes.HasPrefix(b[MinPayloadSize:], []byte(filler[MinPayloadSize%len(filler):])) {
			t.Fatalf("size %d: filler %q", size, b[MinPayloadSize:])
		}
	}
	if _, ok := readStamp(make([]byte, MinPayloadSize-1)); ok {
		t.Fatal("a payload shorter than the stamp decoded")
	}
}
