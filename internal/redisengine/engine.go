package redisengine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcast/ringcast/broker"
)

// Engine is the redis engine: a broker.Engine that shares topics between
// instances through Redis. Create it with New, hand it to broker.New as
// Config.Engine, then Start it with that broker; Close it after the
// broker's users stopped.
type Engine struct {
	cfg    Config
	client rueidis.Client
	m      *metrics
	b      *broker.Broker
	names  string // the key of the set of topic names

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the health check and the janitor
	up     atomic.Bool

	groups  sync.Map   // topic name → *group (group.go)
	mirrors sync.Map   // topic name → *mirror
	mu      sync.Mutex // serialises mirror creation and removal
	closed  bool       // under mu
}

// New validates cfg, fills its defaults and connects to Redis. It fails
// when no Redis answers at cfg.Addrs.
func New(cfg Config) (*Engine, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:      cfg.Addrs,
		Password:         cfg.Password,
		TLSConfig:        cfg.TLS,
		Dialer:           dialer(cfg.Timeout),
		ConnWriteTimeout: cfg.Timeout,
		DisableCache:     true,
		ShuffleInit:      true,
		// One pipelined connection per Redis node, shared by publishes and
		// the health check's ping: with several (rueidis's default for
		// one Redis), the ping could find its own connection restored
		// after a Redis restart and report the engine up while a
		// publish met a connection still broken.
		PipelineMultiplex: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("redisengine: cannot connect to Redis at %v (--redis, engine.redis.addrs): %w", cfg.Addrs, err)
	}
	e := &Engine{cfg: cfg, client: client, m: newMetrics(cfg.Registerer), names: cfg.Prefix + ":topics"}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.up.Store(true)
	e.m.up.Set(1)
	return e, nil
}

// Start binds the engine to the broker whose Config.Engine it is and
// starts its health check and idle-topic janitor.
func (e *Engine) Start(b *broker.Broker) {
	e.b = b
	e.wg.Add(2)
	go e.health()
	go e.janitor()
}

// Close unsubscribes from every topic, stops the engine's goroutines and
// disconnects from Redis. Publishes and attaches fail afterwards.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.mirrors.Range(func(k, v any) bool {
		v.(*mirror).stop(false)
		e.mirrors.Delete(k)
		return true
	})
	e.wg.Wait()
	e.client.Close()
}

// Up reports whether Redis answered the last health check or command.
func (e *Engine) Up() bool { return e.up.Load() }

func (e *Engine) setUp(up bool) {
	if e.up.Swap(up) == up {
		return
	}
	if up {
		e.m.up.Set(1)
	} else {
		e.m.up.Set(0)
	}
}

// dialer bounds connecting to Redis by timeout.
func dialer(timeout time.Duration) net.Dialer {
	return net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
}

// Publish runs the publish script for ms: see broker.Engine. Publishes to
// one topic that arrive while its script is in flight are queued and go
// together in the next script (group.go). A Redis that does not answer
// within Config.Timeout gives an error wrapping broker.ErrUnavailable; the
// batch may then have been accepted by Redis all the same (the answer was
// lost), but never in part.
func (e *Engine) Publish(topic string, ms []*broker.Message) error {
	if len(ms) == 0 {
		return nil
	}
	if err := broker.ValidateTopic(topic); err != nil {
		return err
	}
	if err := e.b.CheckBatch(topic, ms); err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, m := range ms {
		m.Time, m.ID = now, broker.NewID(now)
	}
	return e.commit(topic, ms)
}

// run publishes ms, stamped with their ids and times, as one batch and
// stamps their Topic, Epoch and Seq.
func (e *Engine) run(topic string, ms []*broker.Message) error {
	ring := e.b.RingSize(topic)
	args := make([]string, 2, 2+len(ms))
	args[0], args[1] = newEpoch(), strconv.Itoa(e.historySize(ring))
	var buf []byte
	for _, m := range ms {
		buf = appendBody(buf[:0], m)
		args = append(args, string(buf))
	}
	k := e.keysOf(topic)
	res, err := e.exec(opPublish, publishScript, []string{k.seq, k.epoch, k.hist, k.ch}, args)
	if err != nil {
		return err
	}
	if len(res) != 3 {
		return fmt.Errorf("redisengine: unexpected publish answer %v", res)
	}
	first, err1 := res[0].AsInt64()
	epoch, err2 := res[1].ToString()
	created, err3 := res[2].AsInt64()
	if err := errors.Join(err1, err2, err3); err != nil || first < 1 {
		return fmt.Errorf("redisengine: unexpected publish answer: %v", err)
	}
	for i, m := range ms {
		m.Topic, m.Epoch, m.Seq = topic, epoch, uint64(first)+uint64(i)
	}
	if created == 1 {
		e.addName(topic)
	}
	if v, ok := e.mirrors.Load(topic); ok {
		v.(*mirror).offer(epoch, ms)
	}
	return nil
}

// historySize is the history length of a topic with a ring of ring slots.
func (e *Engine) historySize(ring int) int {
	if e.cfg.HistorySize > 0 {
		return e.cfg.HistorySize
	}
	return ring
}

// exec runs script, counting its latency and errors under op.
func (e *Engine) exec(op int, script *rueidis.Lua, keys, args []string) ([]rueidis.RedisMessage, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	start := time.Now()
	res, err := script.Exec(ctx, e.client, keys, args).ToArray()
	e.m.latency[op].Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, e.failed(op, err)
	}
	e.setUp(true)
	return res, nil
}

// failed counts a failed op and wraps err: broker.ErrUnavailable for
// anything but a script's own error.
func (e *Engine) failed(op int, err error) error {
	e.m.errors[op].Inc()
	if e.ctx.Err() != nil {
		return fmt.Errorf("redisengine: %w", broker.ErrClosed)
	}
	var re *rueidis.RedisError
	if !errors.As(err, &re) {
		e.setUp(false)
	}
	return fmt.Errorf("%w: %v", broker.ErrUnavailable, err)
}

// addName adds topic to the set of topic names, for listings.
func (e *Engine) addName(topic string) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	if err := e.client.Do(ctx, e.client.B().Sadd().Key(e.names).Member(topic).Build()).Error(); err != nil {
		e.m.errors[opStats].Inc()
	}
}

// health pings Redis every second and keeps Up and ringcast_engine_up.
func (e *Engine) health() {
	defer e.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
		start := time.Now()
		err := e.client.Do(ctx, e.client.B().Ping().Build()).Error()
		cancel()
		e.m.latency[opPing].Observe(time.Since(start).Seconds())
		if err != nil {
			if e.ctx.Err() != nil {
				return
			}
			e.m.errors[opPing].Inc()
		}
		e.setUp(err == nil)
	}
}

// newEpoch names a new incarnation of a topic: 12 random hex digits, like
// the memory engine's.
func newEpoch() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
