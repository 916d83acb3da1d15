package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for i, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceil *= time.Millisecond
		if ceil == 1000*time.Millisecond {
			ceil = time.Second
		}
		d := b.next()
		if d < ceil/2 || d > ceil {
			t.Fatalf("attempt %d: %v, want in [%v, %v]", i, d, ceil/2, ceil)
		}
	}
	b.attempt = 1 << 20 // no overflow however many attempts
	if d := b.next(); d < time.Second/2 || d > time.Second {
		t.Fatalf("after many attempts: %v", d)
	}
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"1":                             time.Second,
		"120":                           2 * time.Minute,
		"-1":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

func TestReadAPIError(t *testing.T) {
	answer := func(status int, body string, header ...string) *APIError {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return readAPIError(resp)
	}
	e := answer(503, `{"error":"a block subscriber held the ring full","code":"backpressure"}`, "Retry-After", "2")
	if *e != (APIError{Status: 503, Code: CodeBackpressure, Message: "a block subscriber held the ring full", RetryAfter: 2 * time.Second}) {
		t.Fatalf("%+v", e)
	}
	if got := e.Error(); got != "server answered 503 backpressure: a block subscriber held the ring full (retry after 2s)" {
		t.Fatal(got)
	}
	e = answer(502, "<html>"+strings.Repeat("bad gateway ", 100)+"</html>")
	if e.Code != "" || len(e.Message) > 210 || !strings.HasPrefix(e.Message, "<html>bad gateway") {
		t.Fatalf("%+v", e)
	}
	if e = answer(500, ""); e.Message != "Internal Server Error" || final(e) {
		t.Fatalf("%+v", e)
	}
	for status, want := range map[int]bool{400: true, 401: true, 403: true, 404: true, 200: true, 408: false, 429: false, 503: false} {
		if got := final(&APIError{Status: status}); got != want {
			t.Errorf("final(%d) = %v", status, got)
		}
	}
	if final(errors.New("connection refused")) || final(&APIError{CloseCode: 1008}) {
		t.Error("a network error or a close is final")
	}
}

func TestCloseAPIError(t *testing.T) {
	if err := closeAPIError(&websocket.CloseError{Code: websocket.CloseNormalClosure}); err != nil {
		t.Fatalf("normal closure: %v", err)
	}
	err := closeAPIError(&websocket.CloseError{Code: websocket.CloseMessageTooBig, Text: "message over the size limit"})
	var ae *APIError
	if !errors.As(err, &ae) || *ae != (APIError{Code: CodeTooLarge, Message: "message over the size limit", CloseCode: 1009}) {
		t.Fatalf("%v", err)
	}
	if got := ae.Error(); got != "server closed the WebSocket with 1009 (too_large): message over the size limit" {
		t.Fatal(got)
	}
	if err := closeAPIError(&websocket.CloseError{Code: 4000}); errors.As(err, &ae) || !strings.Contains(err.Error(), "4000") {
		t.Fatalf("unknown code: %v", err)
	}
	if err := closeAPIError(io.ErrUnexpectedEOF); err != io.ErrUnexpectedEOF {
		t.Fatalf("no close frame: %v", err)
	}
}

func TestPosition(t *testing.T) {
	for _, s := range []string{"latest", "oldest", "1", "18446744073709551615"} {
		p, err := ParsePosition(s)
		if err != nil || p.String() != s {
			t.Errorf("%q: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"", "0", "-1", "x", "18446744073709551616", "Latest"} {
		if _, err := ParsePosition(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if Latest != (Position{}) || Seq(7).String() != "7" {
		t.Fatal("Latest is not the zero Position")
	}
	if WebSocket.String() != "websocket" || SSE.String() != "sse" || Transport(9).String() != "Transport(9)" {
		t.Fatal("Transport.String")
	}
}

func TestMessageJSON(t *testing.T) {
	when := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	for _, m := range []Message{
		{Topic: "t", Seq: 1, Epoch: "e", ID: "0190f3c4-8a5e-7b1c-9d2e-3f4a5b6c7d8e", Time: when, Data: []byte("hi\n\"there\"")},
		{Topic: "t", Seq: 2, Epoch: "e", ID: "x", Time: when, Data: []byte{0xff, 0}, Attrs: map[string]string{"a": "b"}},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Message
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !equalMessages(m, back) {
			t.Fatalf("%s came back as %+v", b, back)
		}
	}
	b, _ := json.Marshal(Message{Seq: 1, Time: when, Data: []byte("x")})
	if want := `{"topic":"","seq":1,"epoch":"","id":"","time":"2026-11-21T10:00:00.123456789Z","data":"x"}`; string(b) != want {
		t.Fatalf("%s, want %s", b, want)
	}
	for _, bad := range []string{`{"seq":1}`, `{"data":"x"}`, `[]`, `{"seq":"1","data":"x"}`} {
		if err := json.Unmarshal([]byte(bad), new(Message)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func equalMessages(a, b Message) bool {
	if len(a.Attrs) != len(b.Attrs) {
		return false
	}
	for k, v := range a.Attrs {
		if b.Attrs[k] != v {
			return false
		}
	}
	return a.Topic == b.Topic && a.Seq == b.Seq && a.Epoch == b.Epoch && a.ID == b.ID && a.Time.Equal(b.Time) && bytes.Equal(a.Data, b.Data)
}

// FuzzMessageJSON checks that whatever envelope decodes encodes back to
// one that decodes to the same message.
func FuzzMessageJSON(f *testing.F) {
	f.Add(`{"topic":"t","seq":1,"epoch":"e","id":"i","time":"2026-11-21T10:00:00.5Z","data":"hi","attrs":{"a":"b"}}`)
	f.Add(`{"topic":"t","seq":2,"epoch":"e","id":"i","time":"2026-11-21T10:00:00+01:00","data_b64":"/wA="}`)
	f.Fuzz(func(t *testing.T, s string) {
		var m Message
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%q decoded but does not encode: %v", s, err)
		}
		var back Message
		if err := json.Unmarshal(b, &back); err != nil || !equalMessages(m, back) {
			t.Fatalf("%q: %+v came back as %+v (%v)", s, m, back, err)
		}
	})
}

// newSSE reads an event stream from s through a small buffer, so that
// long lines take several reads.
func newSSE(s string) *sseStream {
	r := strings.NewReader(s)
	st := &sseStream{body: io.NopCloser(r), r: bufio.NewReaderSize(r, 16), cancel: func() {}}
	st.idle = time.AfterFunc(time.Hour, func() {})
	return st
}

func TestSSERead(t *testing.T) {
	long := strings.Repeat("y", 100)
	st := newSSE(": ping\n\nid: 1\ndata: {\"a\":1}\n\nretry: 5\nid: 2\r\ndata:" + long + "\r\n\r\nevent: b64\ndata: one\ndata: two\n\n: ping\n\nid: 3\ndata: cut")
	for _, want := range []string{`{"a":1}`, long, "one\ntwo"} {
		got, err := st.read()
		if err != nil || string(got) != want {
			t.Fatalf("%q %v, want %q", got, err, want)
		}
	}
	if _, err := st.read(); err == nil || !strings.Contains(err.Error(), "ended the event stream") {
		t.Fatalf("at the end: %v", err)
	}
}

// FuzzSSERead checks that the event stream parser never fails on what a
// server may send and finds each event's data.
func FuzzSSERead(f *testing.F) {
	f.Add("id: 1\ndata: x\n\n", "payload")
	f.Add(": ping\n\n", "{}")
	f.Fuzz(func(t *testing.T, noise, data string) {
		if strings.ContainsAny(data, "\r\n") {
			return
		}
		st := newSSE(noise + "\n\ndata: " + data + "\n\n")
		for {
			got, err := st.read()
			if err != nil {
				t.Fatalf("noise %q hid the event %q: %v", noise, data, err)
			}
			if string(got) == data {
				return
			}
		}
	})
}
