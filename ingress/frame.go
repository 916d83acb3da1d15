package ingress

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// PublishFrame publishes one frame received on a WebSocket; egress's
// mode=pubsub connections use it. It copies data, so the caller may reuse
// it; attrs is shared by the message and must not change afterwards. An
// empty frame is ignored (nil error): Ringcast has no empty messages. The
// message counts as transport ws.
//
// Like a mode=pub connection, it waits as long as block subscribers hold
// the ring full, until they read, ctx ends (broker.ErrBackpressure) or
// Shutdown (ErrDraining, which wraps broker.ErrClosed). A frame over
// MaxMessageBytes gives ErrTooLarge, but the caller should set its read
// limit so the frame is never read whole. Other errors are the broker's
// (broker.ErrTooManyTopics, broker.ErrBadTopic, broker.ErrClosed). On every
// error nothing was accepted. The caller checks that a text frame is valid
// UTF-8 and picks the close code.
func (i *Ingress) PublishFrame(ctx context.Context, topic string, data []byte, attrs map[string]string, origin uint64) error {
	if len(data) == 0 {
		return nil
	}
	if len(data) > i.maxMessage {
		i.m.rejectedCounter(httpx.CodeTooLarge).Inc()
		return ErrTooLarge
	}
	return i.publishFrame(ctx, topic, &broker.Message{Data: bytes.Clone(data), Attrs: attrs, Origin: origin})
}

// publishFrame accepts a WebSocket frame's message m and counts it, or its
// refusal. One frame in 64 observes its duration.
func (i *Ingress) publishFrame(ctx context.Context, topic string, m *broker.Message) error {
	if i.pace != nil && i.pace(ctx, m.Attrs[httpx.AttrRemoteAddr]) != nil {
		return ErrDraining
	}
	var start time.Time
	sample := sampleWS()
	if sample {
		start = time.Now()
	}
	err := i.publishWait(ctx, topic, m)
	if sample {
		i.m.durationWS.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		i.m.rejectedCounter(refuse(err).code).Inc()
		return err
	}
	i.m.publishedWS.Inc()
	return nil
}

// publishWait accepts m into topic, waiting as long as block subscribers
// hold the ring full: until they read, ctx ends, or Shutdown (ErrDraining).
// The broker gives up each wait after its own publish timeout and
// publishWait tries again, so a WebSocket publisher waits without a
// deadline and meanwhile is not read from: TCP pushes back on it.
func (i *Ingress) publishWait(ctx context.Context, topic string, m *broker.Message) error {
	err := i.b.Publish(noWait, topic, m)
	if !errors.Is(err, broker.ErrBackpressure) {
		return err
	}
	if ctx != i.ctx {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(i.ctx, cancel)()
	}
	for {
		err = i.b.Publish(ctx, topic, m)
		switch {
		case !errors.Is(err, broker.ErrBackpressure):
			return err
		case i.isDraining():
			return ErrDraining
		case ctx.Err() != nil:
			return err
		}
	}
}
