package ingress

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/ringcast/ringcast/broker"
)

var benchPayload = []byte(`{"sensor":"t-17","celsius":21.5,"ts":1700000000}`)

// newBenchIngress returns an Ingress on a default broker, both closed when
// b ends.
func newBenchIngress(b *testing.B) *Ingress {
	br, err := broker.New(broker.Config{})
	if err != nil {
		b.Fatal(err)
	}
	in, err := New(Config{Broker: br})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = in.Shutdown(context.Background())
		br.Close()
	})
	return in
}

// BenchmarkBrokerPublish is the baseline: copying a payload into a message
// and publishing it, with no HTTP around it.
func BenchmarkBrokerPublish(b *testing.B) {
	in := newBenchIngress(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if err := in.b.Publish(ctx, "bench", &broker.Message{Data: bytes.Clone(benchPayload)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishHandler calls the POST handler with a prepared request:
// the baseline plus attributes, the answer and the metrics.
func BenchmarkPublishHandler(b *testing.B) {
	in := newBenchIngress(b)
	ctx := newRequestCtx(benchPayload)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		ctx.Response.Reset()
		in.Publish(ctx, "bench")
	}
	if ctx.Response.StatusCode() != 201 {
		b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// BenchmarkBatchHandler publishes batches of 100 lines; ns/op is per batch.
func BenchmarkBatchHandler(b *testing.B) {
	in := newBenchIngress(b)
	var body []byte
	for range 100 {
		body = append(append(body, benchPayload...), '\n')
	}
	ctx := newRequestCtx(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ctx.Response.Reset()
		in.Batch(ctx, "bench")
	}
	if ctx.Response.StatusCode() != 201 {
		b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// BenchmarkPublishFrame is one frame handed over by egress's pubsub.
func BenchmarkPublishFrame(b *testing.B) {
	in := newBenchIngress(b)
	ctx := context.Background()
	attrs := map[string]string{"remote_addr": "127.0.0.1"}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if err := in.PublishFrame(ctx, "bench", benchPayload, attrs, 7); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebSocketPublish sends frames over one real loopback connection
// and stops when the last is accepted; allocations include the client's.
func BenchmarkWebSocketPublish(b *testing.B) {
	ts := newTestServer(b, broker.Config{}, Config{})
	c := ts.dial(b, "bench", true, nil)
	frame, err := websocket.NewPreparedMessage(websocket.TextMessage, benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	b.ResetTimer()
	for range b.N {
		if err := c.WritePreparedMessage(frame); err != nil {
			b.Fatal(err)
		}
	}
	eventually(b, strconv.Itoa(b.N)+" frames", func() bool { return ts.head("bench") >= uint64(b.N) })
}
