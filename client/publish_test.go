package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/client"
	"github.com/ringcast/ringcast/internal/server"
)

func TestNewRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		base string
		opts []client.Option
		want string
	}{
		{"ftp://x", nil, "base URL"},
		{"http://", nil, "base URL"},
		{"127.0.0.1:8080", nil, "base URL"},
		{"http://x/?a=b", nil, "base URL"},
		{"http://x", []client.Option{client.WithDialTimeout(0)}, "WithDialTimeout"},
		{"http://x", []client.Option{client.WithBackoff(0, time.Second)}, "WithBackoff"},
		{"http://x", []client.Option{client.WithBackoff(time.Second, time.Millisecond)}, "WithBackoff"},
	} {
		if _, err := client.New(tc.base, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q): %v, want an error about %s", tc.base, err, tc.want)
		}
	}
}

func TestPublish(t *testing.T) {
	_, base := startServer(t, server.Config{})
	c := newClient(t, base)
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	res, err := c.Publish(ctx, "orders", []byte("one"), map[string]string{"Region": "eu", "content_type": "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Topic != "orders" || res.Seq != 1 || res.Epoch == "" || len(res.ID) != 36 || res.Time.Before(before) || res.Time.Location() != time.UTC {
		t.Fatalf("%+v", res)
	}
	binary := []byte{0xff, 0x00, '\n', 0xfe}
	res2, err := c.Publish(ctx, "orders", binary, nil)
	if err != nil || res2.Seq != 2 || res2.Epoch != res.Epoch {
		t.Fatalf("%+v %v", res2, err)
	}
	sub := subscribe(t, c, "orders", client.SubscribeOptions{From: client.Oldest})
	m := nextMessage(t, sub)
	want := map[string]string{"region": "eu", "content_type": "text/plain", "remote_addr": "127.0.0.1"}
	if m.Seq != 1 || string(m.Data) != "one" || m.ID != res.ID || !m.Time.Equal(res.Time) || fmt.Sprint(m.Attrs) != fmt.Sprint(want) {
		t.Fatalf("%+v", m)
	}
	if m := nextMessage(t, sub); m.Seq != 2 || !bytes.Equal(m.Data, binary) || m.Attrs["content_type"] != "application/octet-stream" {
		t.Fatalf("%+v", m)
	}
	if _, err := c.Publish(ctx, "orders", []byte("x"), map[string]string{"bad name": "v"}); err == nil || !strings.Contains(err.Error(), "attribute name") {
		t.Fatalf("bad attribute name: %v", err)
	}
}

func TestPublishBatch(t *testing.T) {
	_, base := startServer(t, server.Config{})
	c := newClient(t, base)
	ctx := context.Background()
	publish(t, c, "logs", "first")
	res, err := c.PublishBatch(ctx, "logs", [][]byte{[]byte("a"), []byte("b\r"), {0xff}})
	if err != nil {
		t.Fatal(err)
	}
	if res != (client.BatchResult{Topic: "logs", FirstSeq: 2, LastSeq: 4, Count: 3}) {
		t.Fatalf("%+v", res)
	}
	sub := subscribe(t, c, "logs", client.SubscribeOptions{From: client.Seq(2)})
	for i, want := range []string{"a", "b\r", "\xff"} {
		if m := nextMessage(t, sub); m.Seq != uint64(i+2) || string(m.Data) != want {
			t.Fatalf("%+v", m)
		}
	}
	for _, bad := range [][][]byte{{[]byte("a"), nil}, {[]byte("a\nb")}} {
		if _, err := c.PublishBatch(ctx, "logs", bad); err == nil || apiErrorOrNil(err) != nil {
			t.Errorf("batch %q: %v, want an error of the client's own", bad, err)
		}
	}
}

func apiErrorOrNil(err error) *client.APIError {
	var ae *client.APIError
	errors.As(err, &ae)
	return ae
}

func TestPublisher(t *testing.T) {
	_, base := startServer(t, server.Config{})
	c := newClient(t, base)
	ctx := context.Background()
	pub, err := c.OpenPublisher(ctx, "stream")
	if err != nil {
		t.Fatal(err)
	}
	payloads := []string{"one", "\xff\xfe", strings.Repeat("x", 100<<10)}
	for _, p := range payloads {
		if err := pub.Send(ctx, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Send(ctx, nil); err == nil {
		t.Fatal("an empty message was sent")
	}
	if err := pub.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := pub.Send(ctx, []byte("late")); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if err := pub.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	sub := subscribe(t, c, "stream", client.SubscribeOptions{From: client.Oldest})
	for i, p := range payloads {
		if m := nextMessage(t, sub); m.Seq != uint64(i+1) || string(m.Data) != p {
			t.Fatalf("message %d: seq %d, %d bytes", i, m.Seq, len(m.Data))
		}
	}
}

// TestPublisherTooLarge checks that the server's close frame comes back as
// an *APIError.
func TestPublisherTooLarge(t *testing.T) {
	_, base := startServer(t, server.Config{MaxMessageBytes: 16})
	c := newClient(t, base)
	ctx := context.Background()
	pub, err := c.OpenPublisher(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Send(ctx, []byte("fits")); err != nil {
		t.Fatal(err)
	}
	err = pub.Send(ctx, make([]byte, 17))
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		err = pub.Send(ctx, []byte("after"))
	}
	if ae := apiError(t, err); ae.Code != client.CodeTooLarge || ae.CloseCode != 1009 || ae.Status != 0 {
		t.Fatalf("%+v", ae)
	}
	if ae := apiError(t, pub.Close()); ae.Code != client.CodeTooLarge {
		t.Fatalf("Close: %+v", ae)
	}
}

// TestAPIErrors checks the refusals a client can meet, with their status
// and code.
func TestAPIErrors(t *testing.T) {
	_, base := startServer(t, server.Config{MaxMessageBytes: 16, MaxBatchBytes: 32})
	c := newClient(t, base)
	ctx := context.Background()
	openPub := func() error {
		p, err := c.OpenPublisher(ctx, "a b")
		if err == nil {
			p.Close()
		}
		return err
	}
	sub := func(topic string, opts client.SubscribeOptions) func() error {
		return func() error {
			s, err := c.Subscribe(ctx, topic, opts)
			if err == nil {
				s.Close()
			}
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		do     func() error
		status int
		code   string
	}{
		{"publish bad topic", func() error { _, err := c.Publish(ctx, "a b", []byte("x"), nil); return err }, 400, client.CodeBadTopic},
		{"publish empty", func() error { _, err := c.Publish(ctx, "t", nil, nil); return err }, 400, client.CodeBadRequest},
		{"publish too large", func() error { _, err := c.Publish(ctx, "t", make([]byte, 17), nil); return err }, 413, client.CodeTooLarge},
		{"batch empty", func() error { _, err := c.PublishBatch(ctx, "t", nil); return err }, 400, client.CodeBadRequest},
		{"batch too large", func() error {
			_, err := c.PublishBatch(ctx, "t", [][]byte{make([]byte, 16), make([]byte, 16)})
			return err
		}, 413, client.CodeTooLarge},
		{"batch bad topic", func() error { _, err := c.PublishBatch(ctx, "a/b", [][]byte{[]byte("x")}); return err }, 400, client.CodeBadTopic},
		{"publisher bad topic", openPub, 400, client.CodeBadTopic},
		{"subscribe bad topic", sub("a b", client.SubscribeOptions{}), 400, client.CodeBadTopic},
		{"subscribe bad topic over SSE", sub("a*b", client.SubscribeOptions{From: client.Oldest, Transport: client.SSE}), 400, client.CodeBadTopic},
		{"subscribe bad policy", sub("t", client.SubscribeOptions{Policy: "never"}), 400, client.CodeBadRequest},
		{"subscribe block not allowed", sub("t", client.SubscribeOptions{Policy: client.Block}), 403, client.CodeForbidden},
		{"subscribe block not allowed over SSE", sub("t", client.SubscribeOptions{Policy: client.Block, Transport: client.SSE}), 403, client.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := apiError(t, tc.do())
			if ae.Status != tc.status || ae.Code != tc.code || ae.Message == "" {
				t.Fatalf("got %+v, want %d %s", ae, tc.status, tc.code)
			}
		})
	}
}

// TestBackpressure fills a topic's ring under a block subscriber that
// does not read: an HTTP publish is refused with 503 backpressure and
// Retry-After, and a streaming Send blocks until its context ends.
func TestBackpressure(t *testing.T) {
	if testing.Short() {
		t.Skip("moves tens of megabytes")
	}
	_, base := startServer(t, server.Config{
		RingSize:        8,
		PublishTimeout:  50 * time.Millisecond,
		MaxMessageBytes: 1 << 20,
		Rules:           []broker.TopicRule{{Match: "held", AllowBlock: true}},
	})
	c := newClient(t, base)
	ctx := context.Background()
	blocker := subscribe(t, c, "held", client.SubscribeOptions{From: client.Oldest, Policy: client.Block})
	payload := bytes.Repeat([]byte("x"), 1<<20)
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = c.Publish(ctx, "held", payload, nil)
	}
	ae := apiError(t, err)
	if ae.Status != http.StatusServiceUnavailable || ae.Code != client.CodeBackpressure || ae.RetryAfter != time.Second {
		t.Fatalf("%+v", ae)
	}

	pub, err := c.OpenPublisher(ctx, "held")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i := 0; i < 200 && err == nil; i++ {
		sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err = pub.Send(sctx, payload)
		cancel()
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "may not have been accepted") {
		t.Fatalf("blocked Send: %v", err)
	}
	if err2 := pub.Send(ctx, []byte("x")); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("Send after a cancelled Send: %v", err2)
	}
	blocker.Close()
}
