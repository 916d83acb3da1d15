package bench

import (
	"math/rand/v2"
	"net"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/internal/wsframe"
)

// wsBatchBytes is how many bytes of frames an unpaced wsSender gathers
// before it writes them: one write() per frame costs the sender's core
// about 5 µs on loopback, so one per 100-byte frame caps a connection near
// 200,000 frames/s, whatever the broker could take.
const wsBatchBytes = 32 << 10

// wsSender publishes over a mode=pub WebSocket, one binary frame per
// message. Paced, it writes each frame as it is sent; unpaced (batch), it
// appends masked frames to a buffer and writes them with one write() per
// wsBatchBytes and on flush. Its reader discards what the broker sends,
// answering its pings on the way.
type wsSender struct {
	conn    *websocket.Conn
	raw     net.Conn // conn's socket, written directly by a batching sender
	batch   bool
	buf     []byte        // frames not written yet (batch)
	rng     *rand.PCG     // masking keys (batch)
	closing func() bool   // whether the run is ending the connection
	err     error         // why the connection failed, seen by the reader
	done    chan struct{} // closed when read returns
}

// newWSSender returns a sender over conn; batch gathers frames into few
// writes, for publishing as fast as possible.
func newWSSender(conn *websocket.Conn, closing func() bool, batch bool) *wsSender {
	s := &wsSender{conn: conn, closing: closing, done: make(chan struct{}), batch: batch}
	if batch {
		s.raw = conn.NetConn()
		s.buf = make([]byte, 0, wsBatchBytes+64<<10)
		s.rng = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	return s
}

func (s *wsSender) send(payload []byte, _ int64) error {
	if !s.batch {
		return s.conn.WriteMessage(websocket.BinaryMessage, payload)
	}
	s.buf = wsframe.AppendClient(s.buf, 0x80|websocket.BinaryMessage, payload, true, uint32(s.rng.Uint64()))
	if len(s.buf) >= wsBatchBytes {
		return s.flush()
	}
	return nil
}

// flush writes the gathered frames. Whole frames go out in one Write on
// the socket, which the runtime does not interleave with the library's
// control frames (pongs, the close), each one Write of its own.
func (s *wsSender) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.raw.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *wsSender) read() {
	defer close(s.done)
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			if !s.closing() {
				s.err = err
			}
			return
		}
	}
}

func (s *wsSender) readDone() <-chan struct{} { return s.done }

func (s *wsSender) readErr() error { return s.err }

func (s *wsSender) stop() {
	_ = s.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func (s *wsSender) abort() { _ = s.conn.Close() }
