package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// handshakeTimeout bounds one WebSocket or SSE handshake.
const handshakeTimeout = 10 * time.Second

// subscriberReadBuffer is a subscriber's WebSocket read buffer: a
// subscriber that fell behind takes its backlog in few system calls.
const subscriberReadBuffer = 32 << 10

// newDialer returns a WebSocket dialer with no proxy; writeBuffer fits the
// largest frame the connection sends, so that a frame is one write.
func newDialer(readBuffer, writeBuffer int) websocket.Dialer {
	return websocket.Dialer{
		HandshakeTimeout: handshakeTimeout,
		ReadBufferSize:   readBuffer,
		WriteBufferSize:  writeBuffer,
	}
}

// dialWS opens a WebSocket; a refused handshake's error carries the
// broker's answer.
func dialWS(ctx context.Context, d *websocket.Dialer, u string) (*websocket.Conn, error) {
	conn, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("bench: cannot open %s: %s", u, answer(resp))
		}
		return nil, fmt.Errorf("bench: cannot open %s: %w", u, err)
	}
	return conn, nil
}

// answer is a refused request's status and the start of its body.
func answer(resp *http.Response) string {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.Status + ": " + strings.TrimSpace(string(body))
}
