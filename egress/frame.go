package egress

import (
	"encoding/binary"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

// maxControlPayload is the largest payload of a control frame.
const maxControlPayload = 125

// appendFrameHeader appends the header of an unmasked, final frame with
// opcode op and an n-byte payload. Server frames are unmasked, so the same
// bytes are valid for every subscriber.
func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	}
	b = append(b, 127)
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// frameHeaderLen is the length of appendFrameHeader's header for n bytes.
func frameHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xffff:
		return 4
	}
	return 10
}

// framePayload returns the payload of a frame built by appendFrameHeader.
func framePayload(frame []byte) []byte {
	switch frame[1] {
	case 126:
		return frame[4:]
	case 127:
		return frame[10:]
	}
	return frame[2:]
}

// appendControl appends a control frame; payload must be at most 125 bytes.
func appendControl(b []byte, op byte, payload string) []byte {
	b = appendFrameHeader(b, op, len(payload))
	return append(b, payload...)
}

// appendClose appends a close frame with code and as much of text as fits
// (cut at a rune boundary); code closeNoStatus sends an empty close frame.
func appendClose(b []byte, code int, text string) []byte {
	if code == closeNoStatus {
		return appendFrameHeader(b, opClose, 0)
	}
	if len(text) > maxControlPayload-2 {
		text = text[:maxControlPayload-2]
		for len(text) > 0 && !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	b = appendFrameHeader(b, opClose, 2+len(text))
	b = append(b, byte(code>>8), byte(code))
	return append(b, text...)
}
