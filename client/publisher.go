package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// closeTimeout bounds how long Publisher.Close waits for the server to
// read what was sent and answer the close.
const closeTimeout = 5 * time.Second

// Publisher publishes a stream of messages to one topic over one WebSocket
// (mode=pub): one frame per message, with no answer per message, so it is
// the fastest way to publish many. The server pushes back by not reading,
// and then Send blocks. Send and Close are safe for concurrent use.
type Publisher struct {
	topic string
	ws    *websocket.Conn
	sem   chan struct{} // holds one token while a Send writes

	readDone chan struct{} // closed when the reader goroutine returns
	readErr  error         // why it returned; read after readDone

	mu     sync.Mutex
	broken error // set when a cancelled Send closed the connection
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// OpenPublisher opens a streaming publisher to topic (GET
// /v1/topics/{topic}/ws?mode=pub). ctx bounds only the opening. A refused
// handshake is an *APIError (bad_topic, unauthorized, forbidden, …).
// Close it when done: it owns a goroutine that answers the server's pings.
func (c *Client) OpenPublisher(ctx context.Context, topic string) (*Publisher, error) {
	ws, err := c.dialWS(ctx, topic, url.Values{"mode": {"pub"}})
	if err != nil {
		return nil, fmt.Errorf("client: open publisher to %q: %w", topic, err)
	}
	p := &Publisher{topic: topic, ws: ws, sem: make(chan struct{}, 1), readDone: make(chan struct{})}
	answerPings(ws)
	go p.read()
	return p, nil
}

// read is the reader goroutine: it handles the server's pings and close
// frame, and returns when the connection ends.
func (p *Publisher) read() {
	defer close(p.readDone)
	for {
		if _, _, err := p.ws.NextReader(); err != nil {
			p.readErr = err
			return
		}
	}
}

// Send publishes data as one message. It returns once the frame is
// written to the connection; the server accepts it when it reads it, and
// Close confirms that it read everything. While the server pushes back,
// Send blocks until ctx ends: then the publisher is closed, since a frame
// may be half written, and Send says that the message may not have been
// accepted. An error the server closed the connection with (an *APIError:
// too_large, draining, …) is returned by the Send after it, and by Close.
// Empty data is refused: the server would ignore it.
func (p *Publisher) Send(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("client: publisher to %q: empty message, which the server would ignore; Ringcast has no empty messages", p.topic)
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	if err := p.failed(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = p.ws.NetConn().Close() })
	}
	err := p.ws.WriteMessage(websocket.BinaryMessage, data)
	if !stop() {
		err = fmt.Errorf("client: publisher to %q: Send cancelled (%w) before the server took the whole frame; the message may not have been accepted, and the publisher is closed", p.topic, ctx.Err())
		p.mu.Lock()
		p.broken = err
		p.mu.Unlock()
		return err
	}
	if err != nil {
		// The server may have closed with a reason just before: wait a
		// moment for the reader to see its close frame.
		t := time.NewTimer(closeWait)
		select {
		case <-p.readDone:
		case <-t.C:
		}
		t.Stop()
		if ferr := p.failed(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("client: publisher to %q: %w", p.topic, err)
	}
	return nil
}

// failed returns why the publisher can no longer send, or nil.
func (p *Publisher) failed() error {
	p.mu.Lock()
	broken, closed := p.broken, p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case broken != nil:
		return broken
	}
	select {
	case <-p.readDone:
		return p.serverClosed()
	default:
		return nil
	}
}

// serverClosed describes how the reader ended. Call it after readDone.
func (p *Publisher) serverClosed() error {
	err := closeAPIError(p.readErr)
	if err == nil {
		err = errors.New("the server closed the connection")
	}
	return fmt.Errorf("client: publisher to %q: %w", p.topic, err)
}

// Close sends a close frame and waits, up to 5 s, for the server to answer
// it, which it does after reading every frame before it. It returns nil
// when the server did, so every message sent was accepted; otherwise the
// error says why not all may have been. It always releases the connection.
func (p *Publisher) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.close() })
	return p.closeErr
}

func (p *Publisher) close() error {
	err := p.failed()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if err == nil {
		err = p.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeTimeout))
		if err != nil {
			err = fmt.Errorf("client: publisher to %q: cannot send the close frame (%w); messages sent may not have been accepted", p.topic, err)
		}
	}
	if err == nil {
		t := time.NewTimer(closeTimeout)
		select {
		case <-p.readDone:
			if cerr := closeAPIError(p.readErr); cerr != nil {
				err = fmt.Errorf("client: publisher to %q: %w", p.topic, cerr)
			}
		case <-t.C:
			err = fmt.Errorf("client: publisher to %q: the server did not answer the close within %v; messages sent may not have been accepted", p.topic, closeTimeout)
		}
		t.Stop()
	}
	_ = p.ws.Close()
	<-p.readDone
	return err
}
