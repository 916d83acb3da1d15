package wsframe

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestMaskMatchesRFC6455(t *testing.T) {
	for _, key := range []uint32{0, 0x01020304, 0xdeadbeef, 0xffffffff} {
		var k [4]byte
		binary.BigEndian.PutUint32(k[:], key)
		for n := range 40 {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i*7 + 3)
			}
			want := bytes.Clone(p)
			for i := range want {
				want[i] ^= k[i%4]
			}
			Mask(p, key)
			if !bytes.Equal(p, want) {
				t.Fatalf("key %#x, %d bytes: %x, want %x", key, n, p, want)
			}
		}
	}
}

// TestAppendClientHeaders checks each payload-length encoding, masked
// and not, byte by byte.
func TestAppendClientHeaders(t *testing.T) {
	cases := []struct {
		n      int
		masked bool
		header []byte
	}{
		{0, true, []byte{0x82, 0x80, 1, 2, 3, 4}},
		{125, true, []byte{0x82, 0x80 | 125, 1, 2, 3, 4}},
		{126, true, []byte{0x82, 0x80 | 126, 0, 126, 1, 2, 3, 4}},
		{0xffff, true, []byte{0x82, 0x80 | 126, 0xff, 0xff, 1, 2, 3, 4}},
		{0x10000, true, []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}},
		{5, false, []byte{0x82, 5}},
		{300, false, []byte{0x82, 126, 1, 44}},
	}
	for _, c := range cases {
		payload := bytes.Repeat([]byte{0xaa}, c.n)
		f := AppendClient([]byte("x"), 0x82, payload, c.masked, 0x01020304)
		if f[0] != 'x' || !bytes.Equal(f[1:1+len(c.header)], c.header) {
			t.Fatalf("n %d masked %v: header %x, want %x", c.n, c.masked, f[1:min(len(f), 1+len(c.header))], c.header)
		}
		body := f[1+len(c.header):]
		if c.masked {
			Mask(body, 0x01020304)
		}
		if !bytes.Equal(body, payload) {
			t.Fatalf("n %d masked %v: payload does not round-trip", c.n, c.masked)
		}
	}
}
