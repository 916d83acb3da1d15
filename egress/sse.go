package egress

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
)

// heartbeat is the SSE comment sent every Config.SSEHeartbeat; writers
// only copy it.
var heartbeat = []byte(": ping\n\n")

// SSE serves GET /v1/topics/{topic}/sse as a text/event-stream. The
// Last-Event-ID header, when present, wins over from (resuming at id+1).
// Bad query values or Last-Event-ID are refused with 400, policy=block
// where the topic's rule does not allow it with 403.
//
// The stream is the rest of the connection (Connection: close, no length):
// the actor writes the response header and its events on the hijacked
// socket itself, one write per batch.
func (e *Egress) SSE(ctx *fasthttp.RequestCtx, topic string) {
	if e.draining.Load() {
		writeDraining(ctx)
		return
	}
	p, err := parseSubscribe(ctx.QueryArgs())
	if err == nil {
		err = lastEventID(ctx, &p.opts)
	}
	if err != nil {
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, err.Error())
		return
	}
	topic = strings.Clone(topic)
	if !e.checkPolicy(ctx, topic, p.opts.Policy) {
		return
	}
	enc := sseRaw
	if p.json {
		enc = sseJSON
	}
	h := &ctx.Response.Header
	h.SetStatusCode(fasthttp.StatusOK)
	h.SetContentType("text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.SetContentLength(-2) // the body runs until the connection closes
	// A comment follows the header at once: proxies that hold a response
	// back until its first body bytes (nginx over HTTP/2) would otherwise
	// keep a quiet topic's stream from opening until the first heartbeat.
	header := append(h.AppendBytes(nil), heartbeat...)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(nc net.Conn) { e.serveSSE(nc, topic, p.opts, enc, header) })
}

// serveSSE runs the actor of an SSE stream; it is the writer goroutine.
func (e *Egress) serveSSE(nc net.Conn, topic string, opts broker.SubscribeOptions, enc encoding, header []byte) {
	cn := e.newConn(nc, e.sse, enc)
	c := &cn
	if !e.register(c) {
		_ = c.write(errorResponse(fasthttp.StatusServiceUnavailable, httpx.CodeDraining, "the server is shutting down; reconnect to another instance"))
		_ = c.raw.Close()
		return
	}
	e.hijacked(func() {
		var r reason
		if err := c.subscribe(topic, opts); err != nil {
			ref := refuse(err)
			_ = c.write(errorResponse(ref.status, ref.code, ref.sentence))
			r = ref.reason()
		} else {
			closed := make(chan struct{})
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				watchPeer(c.raw, closed)
			}()
			r = c.runSSE(header, closed)
			c.sub.Close()
			if r == reasonShutdown && e.draining.Load() {
				_ = c.write(appendSSERetry(nil, e.reconnectHint()))
			}
		}
		_ = c.raw.Close() // also ends watchPeer
		e.unregister(c, r)
	})
}

// watchPeer reads the socket of an SSE stream, where the client sends
// nothing more, until it ends, and then closes closed: a client that goes
// away is noticed at once, not at the next write, so its subscription (a
// block one holds publishers) ends with it.
func watchPeer(nc net.Conn, closed chan<- struct{}) {
	defer close(closed)
	var discard [64]byte
	for {
		if _, err := nc.Read(discard[:]); err != nil {
			return
		}
	}
}

// runSSE is the writer loop of an SSE stream: the header first, then every
// ready message, and a heartbeat comment every SSEHeartbeat. It ends when
// the client closes the stream (peerClosed), the subscription ends, or
// Shutdown asks.
func (c *conn) runSSE(pre []byte, peerClosed <-chan struct{}) reason {
	beat := time.NewTicker(c.e.cfg.SSEHeartbeat)
	defer beat.Stop()
	for {
		n, r := c.deliver(pre)
		pre = nil
		if r != reasonNone {
			return r
		}
		if n > 0 {
			select {
			case <-beat.C:
				pre = heartbeat
			case <-c.wake:
				return reasonShutdown
			case <-peerClosed:
				return reasonPeerClosed
			default:
			}
			continue
		}
		select {
		case <-c.sub.Wait():
		case <-beat.C:
			pre = heartbeat
		case <-c.wake: // only Shutdown wakes an SSE writer
			return reasonShutdown
		case <-peerClosed:
			return reasonPeerClosed
		}
	}
}

// errorResponse is a whole HTTP error response with the contract's JSON
// body, for a stream refused after its socket was hijacked.
func errorResponse(status int, code, sentence string) []byte {
	body, err := json.Marshal(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{sentence, code})
	if err != nil {
		panic("BUG: egress: cannot encode an error body: " + err.Error())
	}
	var resp fasthttp.Response
	resp.SetStatusCode(status)
	resp.Header.SetContentType("application/json")
	resp.SetConnectionClose()
	resp.SetBodyRaw(append(body, '\n'))
	var b bytes.Buffer
	if _, err := resp.WriteTo(&b); err != nil {
		panic("BUG: egress: cannot render an error response: " + err.Error())
	}
	return b.Bytes()
}
