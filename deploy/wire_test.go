package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// envelope is a message in format=json.
type envelope struct {
	Topic string            `json:"topic"`
	Seq   uint64            `json:"seq"`
	Epoch string            `json:"epoch"`
	ID    string            `json:"id"`
	Data  string            `json:"data"`
	Attrs map[string]string `json:"attrs"`
}

// published is the answer to one publish through the load balancer.
type published struct {
	Seq    uint64 `json:"seq"`
	Epoch  string `json:"epoch"`
	server string // serverHeader: the instance that took it
}

// publish POSTs data to topic through base with c and returns the answer;
// any status but 201 fails the test.
func publish(t *testing.T, c *http.Client, base, topic, data string) published {
	t.Helper()
	p, err := tryPublish(c, base, topic, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tryPublish is publish that returns its error.
func tryPublish(c *http.Client, base, topic, data string) (published, error) {
	var p published
	resp, err := c.Post(base+"/v1/topics/"+topic, "text/plain", strings.NewReader(data))
	if err != nil {
		return p, fmt.Errorf("publish %q: %w", data, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return p, fmt.Errorf("publish %q: %s: %s", data, resp.Status, body)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("publish %q: %w: %s", data, err, body)
	}
	p.server = resp.Header.Get(serverHeader)
	return p, nil
}

// wsDialer dials WebSockets from the local address ip.
func wsDialer(ip string) *websocket.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &websocket.Dialer{NetDialContext: d.DialContext, HandshakeTimeout: 5 * time.Second}
}

// wsConn is a raw WebSocket subscriber (or pubsub connection).
type wsConn struct {
	ws     *websocket.Conn
	server string // the instance HAProxy chose
}

// dialWS opens GET /v1/topics/{topic}/ws?query through base (http://…)
// from ip; the test fails unless it is upgraded.
func dialWS(t *testing.T, ip, base, topic, query string) *wsConn {
	t.Helper()
	ws, resp, err := wsDialer(ip).Dial("ws"+strings.TrimPrefix(base, "http")+"/v1/topics/"+topic+"/ws?"+query, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("WebSocket to %s from %s: %v %s", topic, ip, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsConn{ws: ws, server: resp.Header.Get(serverHeader)}
}

// next reads one envelope, waiting at most d.
func (c *wsConn) next(d time.Duration) (envelope, error) {
	var e envelope
	_ = c.ws.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(b, &e)
}

// sseConn is a raw SSE subscriber.
type sseConn struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	server string
	retry  []int // the retry: fields seen, in ms
}

// openSSE opens GET /v1/topics/{topic}/sse?query through base with c.
func openSSE(t *testing.T, c *http.Client, base, topic, query string) *sseConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/topics/"+topic+"/sse?"+query, nil)
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("SSE to %s: %v", topic, err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SSE to %s: %s: %s", topic, resp.Status, b)
	}
	return &sseConn{resp: resp, r: newReader(resp), cancel: cancel, server: resp.Header.Get(serverHeader)}
}

// newReader reads resp's body.
func newReader(resp *http.Response) *bufio.Reader { return bufio.NewReader(resp.Body) }

// next reads one event's data as an envelope, waiting at most d; io.EOF
// when the server ended the stream.
func (c *sseConn) next(d time.Duration) (envelope, error) {
	var e envelope
	t := time.AfterFunc(d, c.cancel)
	defer t.Stop()
	var data []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return e, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "" && len(data) > 0:
			return e, json.Unmarshal([]byte(strings.Join(data, "\n")), &e)
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		case strings.HasPrefix(line, "retry:"):
			if ms, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "retry:"))); err == nil {
				c.retry = append(c.retry, ms)
			}
		}
	}
}
