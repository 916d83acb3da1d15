package egress

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"
	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// TestRefusedRequests checks every bad input is refused before any upgrade
// or stream, with the exact status and code, a sentence, and no topic
// created.
func TestRefusedRequests(t *testing.T) {
	s := newTestServer(t, broker.Config{Rules: []broker.TopicRule{{Match: "blk.>", AllowBlock: true}}}, nil)
	for _, tc := range []struct {
		what, query string
		header      http.Header
		status      int
		code        string
	}{
		{"ws", "from=abc", nil, 400, httpx.CodeBadRequest},
		{"ws", "from=0", nil, 400, httpx.CodeBadRequest},
		{"ws", "from=-3", nil, 400, httpx.CodeBadRequest},
		{"ws", "format=xml", nil, 400, httpx.CodeBadRequest},
		{"ws", "policy=lossy", nil, 400, httpx.CodeBadRequest},
		{"ws", "mode=pubsub&echo=maybe", nil, 400, httpx.CodeBadRequest},
		{"ws", "policy=block", nil, 403, httpx.CodeForbidden},
		{"sse", "from=abc", nil, 400, httpx.CodeBadRequest},
		{"sse", "from=0", nil, 400, httpx.CodeBadRequest},
		{"sse", "format=xml", nil, 400, httpx.CodeBadRequest},
		{"sse", "policy=lossy", nil, 400, httpx.CodeBadRequest},
		{"sse", "policy=block", nil, 403, httpx.CodeForbidden},
		{"sse", "", http.Header{"Last-Event-Id": {"x7"}}, 400, httpx.CodeBadRequest},
		{"sse", "", http.Header{"Last-Event-Id": {"-1"}}, 400, httpx.CodeBadRequest},
		{"messages", "from=abc", nil, 400, httpx.CodeBadRequest},
		{"messages", "from=-1", nil, 400, httpx.CodeBadRequest},
		{"messages", "limit=0", nil, 400, httpx.CodeBadRequest},
		{"messages", "limit=-5", nil, 400, httpx.CodeBadRequest},
		{"messages", "limit=ten", nil, 400, httpx.CodeBadRequest},
	} {
		t.Run(tc.what+"?"+tc.query, func(t *testing.T) {
			const topic = "refused"
			var status int
			var body []byte
			if tc.what == "ws" {
				c, resp, err := websocket.DefaultDialer.Dial(s.url("ws", topic, "ws", tc.query), tc.header)
				if err == nil {
					_ = c.Close()
					t.Fatal("handshake accepted")
				}
				if resp == nil {
					t.Fatalf("no HTTP answer: %v", err)
				}
				status = resp.StatusCode
				body, _ = io.ReadAll(resp.Body)
			} else {
				status, body = s.get(t, s.url("http", topic, tc.what, tc.query), tc.header)
			}
			var eb struct{ Error, Code string }
			if err := json.Unmarshal(body, &eb); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tc.status || eb.Code != tc.code || !strings.Contains(eb.Error, " ") {
				t.Fatalf("got %d %+v, want %d %s with a sentence", status, eb, tc.status, tc.code)
			}
			if s.b.Lookup(topic) != nil {
				t.Fatal("a refused request created the topic")
			}
		})
	}
}

func TestBlockAllowedByRule(t *testing.T) {
	s := newTestServer(t, broker.Config{Rules: []broker.TopicRule{{Match: "blk.>", AllowBlock: true}}}, nil)
	c := s.dial(t, "blk.a", "policy=block", nil)
	s.waitSubscribers(t, "blk.a", 1)
	s.publish(t, "blk.a", "x")
	if got := readMsg(t, c, websocket.TextMessage); got != "x" {
		t.Fatalf("got %q", got)
	}
	st := s.openSSE(t, "blk.b", "policy=block&from=oldest", nil)
	s.publish(t, "blk.b", "y")
	if ev := st.nextEvent(t); ev[1] != "data: y" {
		t.Fatalf("event %q", ev)
	}
}

// TestEmptyValuesAreDefaults checks that an empty query value counts as
// absent.
func TestEmptyValuesAreDefaults(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	s.publish(t, "t", "old")
	c := s.dial(t, "t", "from=&format=&policy=&echo=&epoch=", nil)
	s.waitSubscribers(t, "t", 1)
	s.publish(t, "t", "new")
	if got := readMsg(t, c, websocket.TextMessage); got != "new" {
		t.Fatalf("from= should mean latest, got %q", got)
	}
	status, body := s.get(t, s.url("http", "t", "messages", "limit=&from="), nil)
	if status != 200 || !strings.Contains(string(body), `"old"`) {
		t.Fatalf("messages: %d %s", status, body)
	}
}

// TestNonWebSocketGet checks a plain GET on /ws is refused with the JSON
// error body.
func TestNonWebSocketGet(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	status, body := s.get(t, s.url("http", "t", "ws", ""), nil)
	var eb struct{ Error, Code string }
	if err := json.Unmarshal(body, &eb); err != nil || status != 400 || eb.Code != httpx.CodeBadRequest {
		t.Fatalf("got %d %s (%v)", status, body, err)
	}
	if s.b.Lookup("t") != nil {
		t.Fatal("refused handshake created the topic")
	}
}
