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
// refusal, after pacing it. One frame in 64 observes its duration.
func (i *Ingress) publishFrame(ctx context.Context, topic string, m *broker.Message) error {
	if i.pace != nil && i.pace(ctx, m.Attrs[httpx.AttrRemoteAddr]) != nil {
		i.m.rejectedCounter(httpx.CodeDraining).Inc()
		return ErrDraining
	}
	samples := 0
	if sampleWS() {
		samples = 1
	}
	one := [1]*broker.Message{m}
	return i.publishFrames(ctx, topic, one[:], samples)
}

// publishFrames accepts ms, messages of frames read in order from one
// WebSocket and already paced, as one batch with contiguous seqs, and
// counts them, or their refusal. samples of them (the frames sampleWS
// chose) observe the batch's duration as their own.
//
// When block subscribers leave the ring too little room for the whole
// batch, or the ring cannot retain it whole (broker.ErrBatchTooLarge,
// which frame by frame it could), the messages are offered one at a time,
// each waiting as publishWait does, as frames read one by one would have
// been: the ring fills to the brim and each is accepted as soon as it
// fits. An error then leaves the messages before the failed one accepted;
// otherwise on an error none of ms was.
func (i *Ingress) publishFrames(ctx context.Context, topic string, ms []*broker.Message, samples int) error {
	var start time.Time
	if samples > 0 {
		start = time.Now()
	}
	accepted := 0
	err := i.b.PublishBatch(noWait, topic, ms)
	switch {
	case err == nil:
		accepted = len(ms)
	case errors.Is(err, broker.ErrBackpressure) || (len(ms) > 1 && errors.Is(err, broker.ErrBatchTooLarge)):
		for ; accepted < len(ms); accepted++ {
			if err = i.publishWait(ctx, topic, ms[accepted:accepted+1]); err != nil {
				break
			}
		}
	}
	if samples > 0 {
		d := time.Since(start).Seconds()
		for range samples {
			i.m.durationWS.Observe(d)
		}
	}
	if accepted > 0 {
		i.m.publishedWS.Add(float64(accepted))
	}
	if err != nil {
		i.m.rejectedCounter(refuse(err).code).Add(float64(len(ms) - accepted))
	}
	return err
}

// publishWait accepts ms into topic as one batch, waiting as long as block
// subscribers hold the ring full: until they read, ctx ends, or Shutdown
// (ErrDraining). The broker gives up each wait after its own publish timeout and
// publishWait tries again, so a WebSocket publisher waits without a
// deadline and meanwhile is not read from: TCP pushes back on it.
func (i *Ingress) publishWait(ctx context.Context, topic string, ms []*broker.Message) error {
	err := i.b.PublishBatch(noWait, topic, ms)
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
		err = i.b.PublishBatch(ctx, topic, ms)
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
