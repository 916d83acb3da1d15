package bench

import (
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// paceSlice is how often a paced publisher sends what its rate makes due.
const paceSlice = time.Millisecond

// publisher sends stamped messages over one mode=pub WebSocket. Its
// sending goroutine owns every field but the atomics; a second goroutine
// reads the connection, which answers the broker's pings.
type publisher struct {
	conn    *websocket.Conn
	payload []byte
	stamp   stamp
	win     *window

	measured uint64        // messages sent inside the window
	readErr  error         // why the connection failed, seen by the reader
	readDone chan struct{} // closed when the reader returns

	sent    atomic.Uint64 // messages sent so far, that is the last counter
	closing atomic.Bool   // the run is ending the connection
}

func newPublisher(conn *websocket.Conn, run, id uint32, size int, win *window) *publisher {
	return &publisher{
		conn:     conn,
		payload:  newPayload(size),
		stamp:    stamp{run: run, pub: id},
		win:      win,
		readDone: make(chan struct{}),
	}
}

// read discards what the broker sends (its pings are answered on the way)
// until the connection ends.
func (p *publisher) read() {
	defer close(p.readDone)
	for {
		if _, _, err := p.conn.NextReader(); err != nil {
			if !p.closing.Load() {
				p.readErr = err
			}
			return
		}
	}
}

// publish sends up to limit messages, at rate messages/s counted from
// start (0: as fast as the socket takes them), until end or until stop is
// closed. Reaching limit cuts the window short.
func (p *publisher) publish(start, end time.Time, rate float64, limit uint64, stop <-chan struct{}) error {
	tick := time.NewTicker(paceSlice)
	defer tick.Stop()
	for {
		now := time.Now()
		if !now.Before(end) {
			return nil
		}
		due := limit
		if rate > 0 {
			due = min(uint64(now.Sub(start).Seconds()*rate), limit)
		}
		if err := p.sendUntil(due, end, stop); err != nil {
			return err
		}
		if p.stamp.counter >= limit {
			p.win.cut(time.Now().UnixNano())
			return nil
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

// sendUntil sends messages until due have been sent; unpaced (a large
// due), it also stops at end or when stop is closed.
func (p *publisher) sendUntil(due uint64, end time.Time, stop <-chan struct{}) error {
	for p.stamp.counter < due {
		if p.stamp.counter%256 == 0 {
			p.sent.Store(p.stamp.counter)
			select {
			case <-stop:
				return nil
			default:
			}
			if !time.Now().Before(end) {
				return nil
			}
		}
		if err := p.send(); err != nil {
			return err
		}
	}
	p.sent.Store(p.stamp.counter)
	return nil
}

// send writes the next message.
func (p *publisher) send() error {
	p.stamp.counter++
	p.stamp.sent = time.Now().UnixNano()
	p.stamp.put(p.payload)
	if err := p.conn.WriteMessage(websocket.BinaryMessage, p.payload); err != nil {
		p.stamp.counter--
		return err
	}
	if p.win.contains(p.stamp.sent) {
		p.measured++
	}
	return nil
}

// stop asks the broker to close the connection.
func (p *publisher) stop() {
	_ = p.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}
