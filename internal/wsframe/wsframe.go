// Package wsframe encodes WebSocket frames as a client sends them (RFC
// 6455, section 5.2): the load generator packs them into its writes, and
// tests that speak raw frames to the server build them with it.
package wsframe

import "encoding/binary"

// AppendClient appends to b one frame whose first byte is b0 (FIN, the
// reserved bits and the opcode) carrying payload. Masked, the payload is
// masked with key, written big-endian as the masking key, as RFC 6455
// requires of a client; unmasked (which a server must refuse) it goes as
// is and key is not used.
func AppendClient(b []byte, b0 byte, payload []byte, masked bool, key uint32) []byte {
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, b0, mbit|byte(n))
	case n <= 0xffff:
		b = append(b, b0, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b = binary.BigEndian.AppendUint32(b, key)
	start := len(b)
	b = append(b, payload...)
	Mask(b[start:], key)
	return b
}

// Mask XORs p in place with the 4-byte key, big-endian, repeated from
// p's first byte, eight bytes at a time.
func Mask(p []byte, key uint32) {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	k8 := uint64(binary.LittleEndian.Uint32(k[:]))
	k8 |= k8 << 32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= k[i&3]
	}
}
