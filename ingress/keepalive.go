package ingress

import (
	"io"
	"time"

	"github.com/fasthttp/websocket"
)

const (
	// writeWait bounds writing one ping or close frame.
	writeWait = time.Second
	// closeGrace is how long a connection that sent a close frame waits
	// for the peer to close its side.
	closeGrace = time.Second
)

// startPings arms the ping timer.
func (p *wsPublisher) startPings() {
	p.mu.Lock()
	p.pinger = time.AfterFunc(p.in.ping, p.sendPing)
	p.mu.Unlock()
}

// sendPing writes a ping and re-arms the timer. It runs in the timer's
// goroutine; stopPings waits for it.
func (p *wsPublisher) sendPing() {
	p.mu.Lock()
	if p.stopped || p.leaving {
		p.mu.Unlock()
		return
	}
	p.pinging.Add(1)
	p.mu.Unlock()
	defer p.pinging.Done()
	err := p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
	p.mu.Lock()
	if err == nil && !p.stopped && !p.leaving {
		p.pinger.Reset(p.in.ping)
	}
	p.mu.Unlock()
}

// stopPings stops the timer and waits for a ping being written.
func (p *wsPublisher) stopPings() {
	p.mu.Lock()
	p.stopped = true
	p.pinger.Stop()
	p.mu.Unlock()
	p.pinging.Wait()
}

// pong is the pong handler: the peer is alive.
func (p *wsPublisher) pong(string) error {
	p.extendDeadline(time.Now())
	return nil
}

// extendDeadline moves the read deadline to two ping intervals from now,
// at most four times an interval, so that a peer that sends nothing and
// answers no ping is closed within two intervals. The reader calls it
// before each read and on each pong, so time spent not reading (waiting
// for block subscribers) never counts against the peer.
func (p *wsPublisher) extendDeadline(now time.Time) {
	if now.Sub(p.extended) < p.in.ping/4 {
		return
	}
	p.extended = now
	p.mu.Lock()
	if !p.leaving && !p.aborted {
		_ = p.conn.SetReadDeadline(now.Add(2 * p.in.ping))
	}
	p.mu.Unlock()
}

// isLeaving reports whether Shutdown asked the connection to close.
func (p *wsPublisher) isLeaving() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leaving
}

// goAway asks the connection to close with 1001: it wakes the reader with
// an expired read deadline, and the reader sends the close frame.
func (p *wsPublisher) goAway() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.leaving = true
	if !p.done {
		_ = p.conn.SetReadDeadline(time.Now())
	}
}

// abort ends every read and write on the connection at once.
func (p *wsPublisher) abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aborted = true
	if !p.done {
		_ = p.conn.UnderlyingConn().SetDeadline(time.Now())
	}
}

// release marks the connection as no longer usable by goAway and abort:
// once serve returns, fasthttp closes it and recycles its wrapper for
// another connection.
func (p *wsPublisher) release() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// finish sends e's close frame, if any, and then reads and discards what
// the peer still sends until it closes its side or closeGrace passes:
// closing a socket with unread bytes resets it, and a reset can destroy
// the close frame before the peer reads it.
func (p *wsPublisher) finish(e ending) {
	if e.closeCode == 0 {
		return
	}
	_ = p.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(e.closeCode, e.text), time.Now().Add(writeWait))
	nc := p.conn.UnderlyingConn()
	p.mu.Lock()
	if !p.aborted {
		_ = nc.SetReadDeadline(time.Now().Add(closeGrace))
	}
	p.mu.Unlock()
	_, _ = io.Copy(io.Discard, nc)
}
