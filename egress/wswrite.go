package egress

import (
	"strconv"
	"time"
)

// run is the writer loop: it delivers every ready message, sends pings,
// pongs and close frames, and returns why the connection ended, after
// closing it and waiting for the reader.
func (w *wsConn) run() reason {
	ping := time.NewTicker(w.e.cfg.PingInterval)
	defer ping.Stop()
	var ctl [64]byte // control frames to send with the next write
	pre := ctl[:0]
	for {
		n, r := w.deliver(pre)
		pre = ctl[:0]
		if r != reasonNone {
			return w.finish(r, pre)
		}
		if n > 0 {
			select { // between batches: anything else to do, without parking
			case <-ping.C:
				pre = appendControl(pre, opPing, "")
			case <-w.wake:
				pre, r = w.takeInbox(pre)
			default:
			}
		} else {
			select {
			case <-w.sub.Wait():
			case <-ping.C:
				pre = appendControl(pre, opPing, "")
			case <-w.wake:
				pre, r = w.takeInbox(pre)
			}
		}
		if r != reasonNone {
			return w.finish(r, pre)
		}
	}
}

// finish ends the connection: it stops the subscription and the reader's
// publishing, sends the close frame r calls for (echoing the peer's), waits
// for the peer's close frame when it closed first, closes the socket and
// waits for the reader.
func (w *wsConn) finish(r reason, pre []byte) reason {
	w.in.closing.Store(true)
	if w.cancel != nil {
		w.cancel()
	}
	w.sub.Close()
	code, text := r.closeCode(), w.closeText(r)
	if r == reasonPeerClosed {
		code = w.in.peerCode()
	}
	if code != 0 {
		_ = w.raw.SetWriteDeadline(time.Now().Add(closeGrace))
		_, err := w.raw.Write(appendClose(pre, code, text))
		if err == nil && r != reasonPeerClosed {
			w.awaitReader()
		}
	}
	_ = w.raw.Close()
	<-w.readerDone
	return r
}

// awaitReader waits, a little, for the peer to answer our close frame.
func (w *wsConn) awaitReader() {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-w.readerDone:
	case <-t.C:
	case <-w.e.kill:
	}
}

// closeText is the human reason sent in the close frame.
func (w *wsConn) closeText(r reason) string {
	switch r {
	case reasonLapped:
		return "fell behind by a whole ring (policy=disconnect); reconnect with from=<last seq + 1>"
	case reasonShutdown:
		if w.e.draining.Load() {
			return drainCloseText(w.e.reconnectHint())
		}
		return "server shutting down"
	case reasonBadUTF8:
		return "text frame is not valid UTF-8; it was not accepted"
	case reasonTooBig:
		return "message over " + strconv.Itoa(w.maxSize) + " bytes (--max-message-bytes); it was not accepted"
	case reasonPublishFailed:
		return w.in.failure()
	}
	return ""
}
