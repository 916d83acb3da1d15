package egress

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/ringcast/ringcast/broker"
)

func TestWSFormats(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	raw := s.dial(t, "fmt", "", nil)
	js := s.dial(t, "fmt", "format=json", nil)
	s.waitSubscribers(t, "fmt", 2)
	s.publish(t, "fmt", "héllo\nworld", "\xff\xfebin")
	if err := s.b.Publish(context.Background(), "fmt", &broker.Message{Data: []byte(`a"b`), Attrs: map[string]string{"k": "v", "a": "1"}}); err != nil {
		t.Fatal(err)
	}

	if got := readMsg(t, raw, websocket.TextMessage); got != "héllo\nworld" {
		t.Fatalf("raw text %q", got)
	}
	if got := readMsg(t, raw, websocket.BinaryMessage); got != "\xff\xfebin" {
		t.Fatalf("raw binary %q", got)
	}
	if got := readMsg(t, raw, websocket.TextMessage); got != `a"b` {
		t.Fatalf("raw text %q", got)
	}

	epoch := s.b.Lookup("fmt").Epoch()
	env := decodeEnvelope(t, readMsg(t, js, websocket.TextMessage))
	if env.Topic != "fmt" || env.Seq != 1 || env.Epoch != epoch || env.Data == nil || *env.Data != "héllo\nworld" || env.DataB64 != nil || env.Attrs != nil {
		t.Fatalf("envelope %+v", env)
	}
	if id, err := uuid.Parse(env.ID); err != nil || id.Version() != 7 {
		t.Fatalf("id %q: %v", env.ID, err)
	}
	if tm, err := time.Parse(time.RFC3339Nano, env.Time); err != nil || !strings.HasSuffix(env.Time, "Z") || time.Since(tm) > time.Minute {
		t.Fatalf("time %q: %v", env.Time, err)
	}
	env = decodeEnvelope(t, readMsg(t, js, websocket.TextMessage))
	if env.Seq != 2 || env.Data != nil || env.DataB64 == nil || *env.DataB64 != base64.StdEncoding.EncodeToString([]byte("\xff\xfebin")) {
		t.Fatalf("binary envelope %+v", env)
	}
	env = decodeEnvelope(t, readMsg(t, js, websocket.TextMessage))
	if env.Seq != 3 || *env.Data != `a"b` || env.Attrs["k"] != "v" || env.Attrs["a"] != "1" {
		t.Fatalf("attrs envelope %+v", env)
	}
}

func TestWSReplay(t *testing.T) {
	s := newTestServer(t, broker.Config{RingSize: 8}, nil)
	for i, tc := range []struct {
		query string
		first string
	}{
		{"from=oldest", "m3"},
		{"from=5", "m5"},
		{"from=1", "m3"},   // older than retained: starts at the oldest, the gap shows
		{"from=11", "m11"}, // beyond the head: waits for it
		{"", "m11"},        // latest
		{"from=latest", "m11"},
		{"from=6&epoch=EPOCH", "m6"},
		{"from=6&epoch=other", "m3"}, // another epoch: from the oldest
	} {
		t.Run(tc.query, func(t *testing.T) {
			topic := "r" + strconv.Itoa(i)
			s.publishN(t, topic, 10) // m3..m10 retained
			query := strings.Replace(tc.query, "EPOCH", s.b.Lookup(topic).Epoch(), 1)
			c := s.dial(t, topic, query, nil)
			s.waitSubscribers(t, topic, 1)
			if tc.first == "m11" {
				// Only the cases that wait for it: on this 8-slot ring m11
				// evicts m3, which a writer that has not read yet would
				// miss, lapped to m4.
				s.publish(t, topic, "m11")
			}
			if got := readMsg(t, c, websocket.TextMessage); got != tc.first {
				t.Fatalf("first %q, want %q", got, tc.first)
			}
		})
	}
}

// slowReaderSetup subscribes a client that does not read, then publishes
// far more than the socket buffers and the ring hold.
func slowReaderSetup(t *testing.T, query string) (*testServer, *websocket.Conn, int) {
	s := newTestServer(t, broker.Config{RingSize: 16}, nil)
	c := s.dial(t, "slow", query, nil)
	s.waitSubscribers(t, "slow", 1)
	payload := strings.Repeat("x", 64<<10)
	const n = 500 // 32 MB, more than loopback's socket buffers
	for i := 1; i <= n; i++ {
		s.publish(t, "slow", strconv.Itoa(i)+":"+payload)
	}
	return s, c, n
}

func TestWSDropOldestShowsGap(t *testing.T) {
	s, c, n := slowReaderSetup(t, "")
	var last int
	gaps := 0
	for last < n {
		got := readMsg(t, c, websocket.TextMessage)
		seq, _ := strconv.Atoi(got[:strings.IndexByte(got, ':')])
		if seq <= last {
			t.Fatalf("seq %d after %d", seq, last)
		}
		if seq > last+1 {
			gaps++
		}
		last = seq
	}
	if gaps == 0 {
		t.Fatal("a slow reader on a 16-slot ring saw no gap")
	}
	if d := s.b.Lookup("slow").Stats().Dropped; d == 0 {
		t.Fatal("no drop counted")
	}
}

func TestWSDisconnectPolicyCloses1008(t *testing.T) {
	s, c, _ := slowReaderSetup(t, "policy=disconnect")
	if code := readClose(t, c); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	waitFor(t, "the subscriber to go", func() bool { return s.subscribers(TransportWS) == 0 })
}

func TestWSPubSub(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	h := map[string][]string{"X-Ringcast-Attr-Trace": {"t-1"}}
	echo := s.dial(t, "ps", "mode=pubsub&format=json", h)
	quiet := s.dial(t, "ps", "mode=pubsub&echo=false", nil)
	s.waitSubscribers(t, "ps", 2)

	if err := echo.WriteMessage(websocket.TextMessage, []byte("from-echo")); err != nil {
		t.Fatal(err)
	}
	env := decodeEnvelope(t, readMsg(t, echo, websocket.TextMessage))
	if *env.Data != "from-echo" || env.Attrs["trace"] != "t-1" || env.Attrs["remote_addr"] != "127.0.0.1" {
		t.Fatalf("echoed envelope %+v", env)
	}
	if got := readMsg(t, quiet, websocket.TextMessage); got != "from-echo" {
		t.Fatalf("quiet got %q", got)
	}
	if err := quiet.WriteMessage(websocket.BinaryMessage, []byte("from-quiet")); err != nil {
		t.Fatal(err)
	}
	if err := quiet.WriteMessage(websocket.TextMessage, nil); err != nil { // ignored
		t.Fatal(err)
	}
	env = decodeEnvelope(t, readMsg(t, echo, websocket.TextMessage))
	if *env.Data != "from-quiet" || env.Seq != 2 {
		t.Fatalf("envelope %+v", env)
	}
	s.publish(t, "ps", "third")
	if got := readMsg(t, quiet, websocket.TextMessage); got != "third" {
		t.Fatalf("echo=false delivered %q, want its own message skipped", got)
	}
	if h := s.b.Lookup("ps").Head(); h != 3 {
		t.Fatalf("head %d: the empty frame was accepted", h)
	}
}

func TestWSPubSubViolations(t *testing.T) {
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.MaxMessageBytes = 1024 })
	for _, tc := range []struct {
		name string
		op   int
		data []byte
		code int
	}{
		{"invalid UTF-8 text", websocket.TextMessage, []byte("ok\xff"), websocket.CloseInvalidFramePayloadData},
		{"oversize", websocket.BinaryMessage, make([]byte, 1025), websocket.CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t, "v", "mode=pubsub", nil)
			if err := c.WriteMessage(websocket.BinaryMessage, make([]byte, 1024)); err != nil { // at the limit: accepted
				t.Fatal(err)
			}
			if err := c.WriteMessage(tc.op, tc.data); err != nil {
				t.Fatal(err)
			}
			if code := readClose(t, c); code != tc.code {
				t.Fatalf("close %d, want %d", code, tc.code)
			}
			s.waitSubscribers(t, "v", 0)
			if got := s.b.Lookup("v").Stats(); got.HeadSeq != 1 && got.HeadSeq != 2 {
				t.Fatalf("head %d", got.HeadSeq)
			}
		})
	}
	if h := s.b.Lookup("v").Head(); h != 2 {
		t.Fatalf("head %d: want only the two frames at the limit accepted", h)
	}
}

// TestWSPubSubBackpressure checks a pubsub publisher held by a block
// subscriber waits (TCP pushes back) instead of being closed, and goes on
// once the subscriber reads.
func TestWSPubSubBackpressure(t *testing.T) {
	s := newTestServer(t, broker.Config{RingSize: 4, PublishTimeout: 50 * time.Millisecond,
		Rules: []broker.TopicRule{{Match: "bp", AllowBlock: true}}}, nil)
	sub, err := s.b.Subscribe("bp", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := s.dial(t, "bp", "mode=pubsub&echo=false", nil)
	for i := range 8 {
		if err := c.WriteMessage(websocket.TextMessage, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the ring to fill", func() bool { return s.b.Lookup("bp").Head() == 4 })
	time.Sleep(150 * time.Millisecond) // several publish timeouts
	buf := make([]*broker.Message, 16)
	got := 0
	for got < 8 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := sub.Next(ctx, buf)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range buf[:n] {
			if string(m.Data) != strconv.Itoa(got) {
				t.Fatalf("message %d is %q", got, m.Data)
			}
			got++
		}
	}
}

// TestWSPingKeepalive checks a peer that answers pings stays, and one that
// stops reading (so never answers) is closed within two intervals.
func TestWSPingKeepalive(t *testing.T) {
	const interval = 100 * time.Millisecond
	s := newTestServer(t, broker.Config{}, func(c *Config) { c.PingInterval = interval })
	alive := s.dial(t, "ka", "", nil)
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()
	s.dial(t, "ka", "", nil) // never reads, so never answers a ping
	s.waitSubscribers(t, "ka", 2)
	start := time.Now()
	s.waitSubscribers(t, "ka", 1)
	if d := time.Since(start); d > 2*interval+500*time.Millisecond { // scheduling slack for loaded CI machines
		t.Fatalf("dead peer closed after %v, want within 2 intervals (%v)", d, 2*interval)
	}
	time.Sleep(5 * interval) // the live peer stays
	s.waitSubscribers(t, "ka", 1)
	waitFor(t, "one ws subscriber", func() bool { return s.subscribers(TransportWS) == 1 })
	if got := testutil.ToFloat64(s.conns.Errors); got != 1 {
		t.Fatalf("error events %v, want 1", got)
	}
}

// TestWSClientVanishesMidWrite checks a client that resets its connection
// while the server is writing ends its actor cleanly and counts an error.
func TestWSClientVanishesMidWrite(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	c := s.dial(t, "gone", "", nil)
	s.waitSubscribers(t, "gone", 1)
	payload := strings.Repeat("y", 64<<10)
	stop := make(chan struct{})
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.b.Publish(context.Background(), "gone", &broker.Message{Data: []byte(payload)})
			if i == 200 {
				tcp := c.NetConn().(*net.TCPConn)
				_ = tcp.SetLinger(0) // close with a reset
				_ = tcp.Close()
			}
		}
	}()
	waitFor(t, "the actor to end", func() bool { return s.subscribers(TransportWS) == 0 })
	close(stop)
	<-published
	if got := testutil.ToFloat64(s.conns.Errors); got != 1 {
		t.Fatalf("error events %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.conns.Open["ws"]); got != 0 {
		t.Fatalf("ws connections gauge %v", got)
	}
}

// countingConn counts writes, to prove many frames share one.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func TestWSManyFramesPerWrite(t *testing.T) {
	var writes atomic.Int64
	s := newTestServer(t, broker.Config{}, nil)
	s.e.wrap = func(c net.Conn) net.Conn { return countingConn{c, &writes} }
	c := s.dial(t, "many", "", nil)
	s.waitSubscribers(t, "many", 1)
	const n = 10000
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, p, err := c.ReadMessage()
			if err == nil && string(p) != "m"+strconv.Itoa(i) {
				err = fmt.Errorf("message %d is %q", i, p)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	batch := make([]*broker.Message, 0, 500)
	for i := 1; i <= n; i++ {
		batch = append(batch, &broker.Message{Data: []byte("m" + strconv.Itoa(i))})
		if len(batch) == cap(batch) {
			if err := s.b.PublishBatch(context.Background(), "many", batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w := writes.Load(); w > n/10 {
		t.Fatalf("%d writes for %d messages", w, n)
	}
	t.Logf("%d messages in %d writes", n, writes.Load())
	waitFor(t, "all delivered", func() bool { return testutil.ToFloat64(s.e.DeliveredCounter(TransportWS)) == n })
	if got := testutil.CollectAndCount(s.reg, "ringcast_delivery_latency_seconds"); got == 0 {
		t.Fatal("no latency sampled")
	}
	var m dto.Metric
	if err := s.e.DeliveryLatency(TransportWS).(prometheus.Histogram).Write(&m); err != nil {
		t.Fatal(err)
	}
	if c := m.GetHistogram().GetSampleCount(); c == 0 || c > uint64(writes.Load()) {
		t.Fatalf("%d latency samples for %d writes: want sampled batches", c, writes.Load())
	}
}

// TestWSControlFrames checks the writer answers a client's ping, echoes
// its close frame, and that data frames in mode=sub are ignored.
func TestWSControlFrames(t *testing.T) {
	s := newTestServer(t, broker.Config{}, nil)
	c := s.dial(t, "cf", "", nil)
	s.waitSubscribers(t, "cf", 1)
	pong := make(chan string, 1)
	c.SetPongHandler(func(p string) error {
		pong <- p
		return nil
	})
	msgs := make(chan string, 1)
	closed := make(chan error, 1)
	go func() { // pongs are handled while reading
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				closed <- err
				return
			}
			msgs <- string(p)
		}
	}()
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("ignored in mode=sub")); err != nil {
		t.Fatal(err)
	}
	s.publish(t, "cf", "after")
	for _, ch := range []chan string{pong, msgs} {
		select {
		case got := <-ch:
			if got != "are you there" && got != "after" {
				t.Fatalf("got %q", got)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no pong or message")
		}
	}
	if h := s.b.Lookup("cf").Head(); h != 1 {
		t.Fatalf("head %d: a mode=sub frame was published", h)
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("close echo %v, want 1000", err)
	}
	waitFor(t, "the subscriber to go", func() bool { return s.subscribers(TransportWS) == 0 })
	if got := testutil.ToFloat64(s.conns.Errors); got != 0 {
		t.Fatalf("a clean close counted %v errors", got)
	}
	if got := testutil.ToFloat64(s.conns.Closed); got != 1 {
		t.Fatalf("close events %v", got)
	}
}
