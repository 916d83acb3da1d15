package egress

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
)

// Environment variables of the webhook benchmark (bench/RESULTS.md).
const (
	// benchSinkAddr makes TestWebhookSink serve the benchmark's receiver on
	// this 127.0.0.1 address, for RINGCAST_BENCH_SINK_SECONDS (default 60).
	benchSinkAddr    = "RINGCAST_BENCH_SINK_ADDR"
	benchSinkSeconds = "RINGCAST_BENCH_SINK_SECONDS"
	// benchWebhookURL points BenchmarkWebhook at that receiver instead of
	// one in its own process.
	benchWebhookURL = "RINGCAST_BENCH_WEBHOOK_URL"
)

// sink answers every request 200 with an empty body: the receiver of the
// webhook benchmark, and wrk's target beside it.
func sink(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusOK) }

// serveSink serves sink on ln until stop is closed.
func serveSink(ln net.Listener, stop <-chan struct{}) {
	srv := &fasthttp.Server{Handler: sink, Name: "sink"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	<-stop
	_ = srv.Shutdown()
	<-done
}

// TestWebhookSink is not a test: with RINGCAST_BENCH_SINK_ADDR set it
// serves the benchmark's receiver in a process of its own (pinned to its
// own core), for a bounded time. Without it, it is skipped.
func TestWebhookSink(t *testing.T) {
	addr := os.Getenv(benchSinkAddr)
	if addr == "" {
		t.Skip(benchSinkAddr + " is not set")
	}
	seconds, err := strconv.Atoi(os.Getenv(benchSinkSeconds))
	if err != nil || seconds <= 0 {
		seconds = 60
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	time.AfterFunc(time.Duration(seconds)*time.Second, func() { close(stop) })
	serveSink(ln, stop)
}

// BenchmarkWebhook delivers b.N messages of 100 bytes, published from the
// oldest, through a webhook destination (policy block on a 64K ring, so the
// publisher waits for the destination) to a receiver that answers 200, with
// max_in_flight 1 and 64. It reports deliveries per second.
func BenchmarkWebhook(b *testing.B) {
	url := os.Getenv(benchWebhookURL)
	if url == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { serveSink(ln, stop); close(done) }()
		defer func() { close(stop); <-done }()
		url = "http://" + ln.Addr().String() + "/in"
	}
	for _, inflight := range []int{1, 64} {
		b.Run("max_in_flight="+strconv.Itoa(inflight), func(b *testing.B) {
			br, err := broker.New(broker.Config{PublishTimeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			e, err := New(Config{Broker: br, Registerer: prometheus.NewRegistry()})
			if err != nil {
				b.Fatal(err)
			}
			cfg := DestinationConfig{Name: "bench", Type: TypeWebhook, Topics: []string{"bench"}, URL: url, MaxInFlight: inflight}
			ds, err := e.NewDestinations([]DestinationConfig{cfg}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			ds.Start()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = ds.Shutdown(ctx)
			}()
			payload := make([]byte, 100)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			go func() {
				for i := 0; i < b.N; i++ {
					if err := br.Publish(context.Background(), "bench", &broker.Message{Data: payload}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
			for ds.Status()[0].Delivered < uint64(b.N) {
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("%d of %d delivered after 5 minutes", ds.Status()[0].Delivered, b.N)
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
