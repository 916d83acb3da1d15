package bench

import (
	"time"

	"github.com/fasthttp/websocket"
)

// wsSender publishes over a mode=pub WebSocket, one binary frame per
// message. Its reader discards what the broker sends, answering its pings
// on the way.
type wsSender struct {
	conn    *websocket.Conn
	closing func() bool   // whether the run is ending the connection
	err     error         // why the connection failed, seen by the reader
	done    chan struct{} // closed when read returns
}

func newWSSender(conn *websocket.Conn, closing func() bool) *wsSender {
	return &wsSender{conn: conn, closing: closing, done: make(chan struct{})}
}

func (s *wsSender) send(payload []byte, _ int64) error {
	return s.conn.WriteMessage(websocket.BinaryMessage, payload)
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
