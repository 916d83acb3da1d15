package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// idleTimeout is how long a subscription's connection may stay silent
// before it is taken as dead and replaced: the server pings WebSocket
// subscribers every 20 s and sends SSE heartbeats every 15 s.
const idleTimeout = 60 * time.Second

// closeWait bounds the write of a close frame to the server.
const closeWait = time.Second

// stream is one connection of a Subscription: it yields the JSON envelope
// of each message.
type stream interface {
	// read returns the next envelope. The slice is valid until the next
	// call. Only the goroutine calling Next reads.
	read() ([]byte, error)
	// close ends the connection and interrupts a read; any goroutine may
	// call it, more than once.
	close()
}

// wsStream is a WebSocket subscription.
type wsStream struct {
	ws   *websocket.Conn
	once sync.Once
}

// openWS subscribes over WebSocket.
func (c *Client) openWS(ctx context.Context, topic string, q url.Values) (stream, error) {
	ws, err := c.dialWS(ctx, topic, q)
	if err != nil {
		return nil, err
	}
	s := &wsStream{ws: ws}
	answerPings(ws)
	return s, nil
}

// answerPings makes ws answer the server's pings with pongs and count each
// ping as life, pushing its read deadline out by idleTimeout.
func answerPings(ws *websocket.Conn) {
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(idleTimeout))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(closeWait))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
}

func (s *wsStream) read() ([]byte, error) {
	_ = s.ws.SetReadDeadline(time.Now().Add(idleTimeout))
	_, data, err := s.ws.ReadMessage()
	if err != nil {
		return nil, withCloseHint(err)
	}
	return data, nil
}

func (s *wsStream) close() {
	s.once.Do(func() {
		_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeWait))
		_ = s.ws.Close()
	})
}

// sseStream is a server-sent events subscription with format=json: each
// event's one data line is an envelope.
type sseStream struct {
	body     io.ReadCloser
	r        *bufio.Reader
	cancel   context.CancelFunc // ends the request
	idle     *time.Timer        // cancels a stream silent for idleTimeout while read waits
	data     []byte
	retry    time.Duration // the last "retry" field's value
	hasRetry bool
}

// openSSE subscribes over server-sent events.
func (c *Client) openSSE(ctx context.Context, topic string, q url.Values) (stream, error) {
	streamCtx, cancel := context.WithCancel(context.Background())
	req, err := c.newRequest(streamCtx, http.MethodGet, c.topicURL(topic, "/sse?"+q.Encode()), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	var timedOut atomic.Bool
	timer := time.AfterFunc(c.dialTimeout, func() { timedOut.Store(true); cancel() })
	stop := context.AfterFunc(ctx, cancel)
	resp, err := c.hc.Do(req)
	timer.Stop()
	stop()
	if err == nil && (ctx.Err() != nil || timedOut.Load()) {
		resp.Body.Close()
		err = context.Canceled
	}
	switch {
	case err != nil:
		cancel()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if timedOut.Load() {
			return nil, fmt.Errorf("no answer within the dial timeout of %v (WithDialTimeout)", c.dialTimeout)
		}
		return nil, err
	case resp.StatusCode != http.StatusOK:
		err := readAPIError(resp)
		resp.Body.Close()
		cancel()
		return nil, err
	}
	s := &sseStream{body: resp.Body, r: bufio.NewReaderSize(resp.Body, 16<<10), cancel: cancel}
	s.idle = time.AfterFunc(idleTimeout, cancel)
	s.idle.Stop()
	return s, nil
}

// read returns the data of the next event that has any, skipping comments
// (heartbeats) and the id and event fields: the envelope has the seq. A
// retry field is kept: when the stream then ends, the error carries it as
// the server's reconnect hint.
func (s *sseStream) read() ([]byte, error) {
	s.data = s.data[:0]
	hasData := false
	defer s.idle.Stop()
	for {
		s.idle.Reset(idleTimeout)
		line, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = s.r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the event stream")
				if s.hasRetry {
					return nil, &hintedError{err: err, after: s.retry}
				}
				return nil, err
			}
			return nil, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		switch {
		case len(line) == 0:
			if hasData {
				return s.data, nil
			}
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[len("data:"):], []byte{' '})
			if hasData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, v...)
			hasData = true
		case bytes.HasPrefix(line, []byte("retry:")):
			// A draining server's hint of when to reconnect.
			if d, ok := parseSSERetry(bytes.TrimPrefix(line[len("retry:"):], []byte{' '})); ok {
				s.retry, s.hasRetry = d, true
			}
		}
	}
}

func (s *sseStream) close() {
	s.cancel()
	_ = s.body.Close()
}
