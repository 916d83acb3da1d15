package ingress

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

func TestPublishFrame(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{MaxMessageBytes: 8})
	ctx := context.Background()
	attrs := map[string]string{"remote_addr": "10.0.0.1"}
	data := []byte("frame")
	if err := ts.in.PublishFrame(ctx, "pf", data, attrs, 42); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXX") // the caller reuses its buffer
	if err := ts.in.PublishFrame(ctx, "pf", nil, attrs, 42); err != nil {
		t.Fatalf("empty frame: %v", err)
	}
	if err := ts.in.PublishFrame(ctx, "pf", make([]byte, 9), attrs, 42); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize frame: %v", err)
	}
	if err := ts.in.PublishFrame(ctx, "a b", []byte("x"), nil, 0); !errors.Is(err, broker.ErrBadTopic) {
		t.Fatalf("bad topic: %v", err)
	}
	msgs := ts.retained("pf")
	if len(msgs) != 1 || string(msgs[0].Data) != "frame" || msgs[0].Origin != 42 || msgs[0].Attrs["remote_addr"] != "10.0.0.1" {
		t.Fatalf("retained %d messages, first %+v", len(msgs), msgs[0])
	}
	if testutil.ToFloat64(ts.in.m.publishedWS) != 1 || ts.rejected(httpx.CodeTooLarge) != 1 || ts.rejected(httpx.CodeBadTopic) != 1 {
		t.Fatal("PublishFrame's outcomes are not counted")
	}
}

// TestPublishFrameWaits checks that PublishFrame waits for a full block
// subscriber past the broker's publish timeout, and gives up when its
// context ends or on Shutdown.
func TestPublishFrameWaits(t *testing.T) {
	ts := newTestServer(t, blockConfig, Config{})
	sub, err := ts.b.Subscribe("blk.pf", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx := context.Background()
	for range 4 {
		if err := ts.in.PublishFrame(ctx, "blk.pf", []byte("x"), nil, 1); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		time.Sleep(250 * time.Millisecond) // more than two broker publish timeouts
		_, _ = sub.Read(make([]*broker.Message, 4))
	}()
	if err := ts.in.PublishFrame(ctx, "blk.pf", []byte("late"), nil, 1); err != nil {
		t.Fatalf("waiting publish: %v", err)
	}

	for range 3 {
		if err := ts.in.PublishFrame(ctx, "blk.pf", []byte("x"), nil, 1); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	if err := ts.in.PublishFrame(short, "blk.pf", []byte("y"), nil, 1); !errors.Is(err, broker.ErrBackpressure) {
		t.Fatalf("after the caller's context ended: %v", err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = ts.in.Shutdown(ctx)
	}()
	err = ts.in.PublishFrame(ctx, "blk.pf", []byte("z"), nil, 1)
	if !errors.Is(err, ErrDraining) || !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("after Shutdown: %v", err)
	}
	if h := ts.head("blk.pf"); h != 8 {
		t.Fatalf("head %d, want 8", h)
	}
}
