package egress

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"
)

// errProtocol is a client frame that breaks RFC 6455; the writer closes
// with 1002.
var errProtocol = errors.New("egress: websocket protocol error")

// frameReader reads a client's frames straight from the socket, with no
// buffer of its own: an idle subscriber's reader is parked in one small
// Read, holding only its header array, and neither fasthttp's 4 KiB
// request reader (which the hijacked connection would otherwise keep) nor
// the websocket library's reader stays referenced (see DESIGN.md, idle
// connections). Frames from a client are rare (pings, close, pubsub
// publishes), so a read syscall per header costs nothing that matters.
type frameReader struct {
	nc      net.Conn
	pending []byte   // bytes fasthttp read past the handshake, served first
	hdr     [14]byte // the largest client frame header: 2 + 8 + 4 (mask)
}

// newFrameReader reads frames from raw after whatever fasthttp's hijacked
// connection hj had already buffered. A client that follows RFC 6455
// waits for the 101 and so left nothing; for one that did not, the bytes
// are taken here with a read that does not wait.
func newFrameReader(hj, raw net.Conn) *frameReader {
	fr := &frameReader{nc: raw}
	if _, ok := hj.(interface{ UnsafeConn() net.Conn }); !ok {
		return fr // not fasthttp's hijacked connection: nothing buffered above raw
	}
	if raw.SetReadDeadline(time.Now()) != nil {
		return fr
	}
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:cap(*bp)]
	n, _ := hj.Read(buf) // buffered bytes, or at once a deadline error
	if n > 0 {
		fr.pending = append([]byte(nil), buf[:n]...)
	}
	bufPool.Put(bp)
	return fr
}

// Read serves the pending bytes, then the socket.
func (fr *frameReader) Read(p []byte) (int, error) {
	if len(fr.pending) > 0 {
		n := copy(p, fr.pending)
		fr.pending = fr.pending[n:]
		if len(fr.pending) == 0 {
			fr.pending = nil
		}
		return n, nil
	}
	return fr.nc.Read(p)
}

// frameHeader is one client frame's header.
type frameHeader struct {
	fin  bool
	op   byte
	n    int64 // payload length
	mask [4]byte
}

// next reads a frame header. Client frames must be masked, use no
// reserved bit and no unknown opcode; control frames must be final and at
// most 125 bytes.
func (fr *frameReader) next() (frameHeader, error) {
	h := fr.hdr[:2]
	if _, err := io.ReadFull(fr, h); err != nil {
		return frameHeader{}, err
	}
	f := frameHeader{fin: h[0]&0x80 != 0, op: h[0] & 0x0f, n: int64(h[1] & 0x7f)}
	switch {
	case h[0]&0x70 != 0, h[1]&0x80 == 0: // reserved bits; an unmasked client frame
		return f, errProtocol
	case f.op >= opClose && (!f.fin || f.n > maxControlPayload):
		return f, errProtocol
	case f.op > opBinary && f.op != opClose && f.op != opPing && f.op != opPong:
		return f, errProtocol
	}
	ext := 0
	switch f.n {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	h = fr.hdr[:ext+4]
	if _, err := io.ReadFull(fr, h); err != nil {
		return f, err
	}
	switch ext {
	case 2:
		f.n = int64(binary.BigEndian.Uint16(h))
	case 8:
		u := binary.BigEndian.Uint64(h)
		if u>>63 != 0 {
			return f, errProtocol
		}
		f.n = int64(u)
	}
	copy(f.mask[:], h[ext:])
	return f, nil
}

// unmask unmasks p, the payload bytes from offset pos of a frame with mask.
func unmask(mask [4]byte, pos int64, p []byte) {
	for i := range p {
		p[i] ^= mask[(pos+int64(i))&3]
	}
}

// discard skips n payload bytes.
func (fr *frameReader) discard(n int64) error {
	_, err := io.CopyN(io.Discard, fr, n)
	return err
}

// control reads the payload of a control frame f, unmasked.
func (fr *frameReader) control(f frameHeader) ([]byte, error) {
	p := make([]byte, f.n)
	if _, err := io.ReadFull(fr, p); err != nil {
		return nil, err
	}
	unmask(f.mask, 0, p)
	return p, nil
}

// closeCode parses a close frame's payload: 1005 when empty, an error
// when the code may not be sent or the text is not UTF-8.
func closeCodeOf(p []byte) (int, error) {
	if len(p) == 0 {
		return closeNoStatus, nil
	}
	if len(p) < 2 || !utf8.Valid(p[2:]) {
		return 0, errProtocol
	}
	code := int(binary.BigEndian.Uint16(p))
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return code, nil
	}
	return 0, errProtocol
}
