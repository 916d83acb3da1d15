package redisengine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcast/ringcast/broker"
)

// errStopped means a mirror was stopped by the janitor while someone
// waited on it; the caller makes a new one.
var errStopped = errors.New("redisengine: mirror stopped")

// mirror keeps one local topic in step with its shared topic while the
// instance has local subscribers for it. Its receiver goroutine holds the
// topic's SSUBSCRIBE and queues what arrives; its worker goroutine catches
// the local topic up from the history whenever the subscription is
// (re)confirmed, a gap shows, or the epoch changes, and inserts the queue.
type mirror struct {
	e    *Engine
	name string
	k    keys

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{} // capacity 1: the worker has something to do

	lastAttach atomic.Int64 // Unix nanoseconds of the last Attach
	idleSince  int64        // owned by the janitor: since when it saw no subscriber; 0: it saw some

	insertMu sync.Mutex                   // serialises Insert, Skip and Mirror on the topic
	cur      atomic.Pointer[broker.Topic] // t, for the receiver's lock-free check

	mu      sync.Mutex // guards the fields below
	t       *broker.Topic
	pending []batch
	resync  bool          // the worker must catch up from the history
	changed chan struct{} // closed and replaced when t is set or the mirror stops
	stopped bool
}

// mirrorFor returns topic's mirror, starting one if needed, or an error
// once the engine is closed.
func (e *Engine) mirrorFor(name string) (*mirror, error) {
	if v, ok := e.mirrors.Load(name); ok {
		return v.(*mirror), nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, broker.ErrClosed
	}
	if v, ok := e.mirrors.Load(name); ok {
		return v.(*mirror), nil
	}
	m := &mirror{e: e, name: name, k: e.keysOf(name), wake: make(chan struct{}, 1), changed: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(e.ctx)
	m.lastAttach.Store(time.Now().UnixNano())
	m.wg.Add(2)
	go m.receive()
	go m.work()
	e.mirrors.Store(name, m)
	return m, nil
}

// Attach returns topic's local mirror, caught up with Redis: see
// broker.Engine. When Redis cannot be reached it returns the mirror as it
// is if it was caught up once, else an error wrapping
// broker.ErrUnavailable after Config.Timeout.
func (e *Engine) Attach(topic string) (*broker.Topic, error) {
	for {
		m, err := e.mirrorFor(topic)
		if err != nil {
			return nil, err
		}
		t, err := m.attach(e.cfg.Timeout)
		if err == errStopped {
			continue
		}
		return t, err
	}
}

// attach waits up to timeout for the mirror's current topic.
func (m *mirror) attach(timeout time.Duration) (*broker.Topic, error) {
	m.lastAttach.Store(time.Now().UnixNano())
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		m.mu.Lock()
		t, ch, stopped := m.t, m.changed, m.stopped
		m.mu.Unlock()
		if stopped {
			return nil, errStopped
		}
		if t != nil && !t.Retired() {
			return t, nil
		}
		if t != nil {
			m.requestSync() // replaced or removed as idle: mirror it again
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, fmt.Errorf("%w: topic %q could not be read from Redis within %v", broker.ErrUnavailable, m.name, timeout)
		case <-m.e.ctx.Done():
			return nil, broker.ErrClosed
		}
	}
}

// requestSync asks the worker to catch up from the history.
func (m *mirror) requestSync() {
	m.mu.Lock()
	m.resync = true
	m.mu.Unlock()
	m.kick()
}

// kick wakes the worker without blocking.
func (m *mirror) kick() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// receive holds the topic's SSUBSCRIBE until the mirror stops, subscribing
// again after a lost connection. Each confirmation asks for a catch-up, so
// nothing published between a (re)subscription and the history read is
// missed.
func (m *mirror) receive() {
	defer m.wg.Done()
	ctx := rueidis.WithOnSubscriptionHook(m.ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind == "ssubscribe" || s.Kind == "subscribe" {
			m.requestSync()
		}
	})
	backoff := 50 * time.Millisecond
	for m.ctx.Err() == nil {
		c := m.e.client
		err := c.Receive(ctx, c.B().Ssubscribe().Channel(m.k.ch).Build(), m.onMessage)
		if m.ctx.Err() != nil {
			return
		}
		if err != nil {
			m.e.failed(opSubscribe, err)
		}
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// onMessage queues one PUBLISH payload. It runs on rueidis's reading
// goroutine and must not block or talk to Redis.
func (m *mirror) onMessage(msg rueidis.PubSubMessage) {
	if m.stale(msg.Message) {
		return
	}
	bt, err := decodeBatch(m.name, msg.Message)
	if err != nil {
		m.e.m.errors[opSubscribe].Inc()
		m.requestSync()
		return
	}
	m.mu.Lock()
	m.pending = append(m.pending, bt)
	m.mu.Unlock()
	m.kick()
}

// stale reports whether a PUBLISH payload holds only messages the local
// topic already has (this instance's own publishes, which offer
// inserted), so that they need not be decoded.
func (m *mirror) stale(payload string) bool {
	t := m.cur.Load()
	if t == nil {
		return false
	}
	epoch, first, bodies, err := splitHeader(payload)
	if err != nil || epoch != t.Epoch() || first > t.Head() {
		return false
	}
	n, ok := countBodies(bodies)
	return ok && first+n-1 <= t.Head()
}

// offer inserts messages this instance just published, if they follow the
// local head: local subscribers get them without waiting for the pub/sub
// round trip. Anything else is left to the pub/sub copy.
func (m *mirror) offer(epoch string, ms []*broker.Message) {
	m.mu.Lock()
	t := m.t
	m.mu.Unlock()
	if t == nil || t.Epoch() != epoch || !m.insertMu.TryLock() {
		return
	}
	_, _ = t.Insert(ms) // ErrGap and ErrClosed: the worker handles what arrives
	m.insertMu.Unlock()
}

// work is the worker loop.
func (m *mirror) work() {
	defer m.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.wake:
		}
		for m.ctx.Err() == nil {
			m.mu.Lock()
			need, pend := m.resync, m.pending
			m.resync, m.pending = false, nil
			m.mu.Unlock()
			if need {
				if err := m.sync(); err != nil {
					m.requeue(pend, true)
					if !errors.Is(err, broker.ErrClosed) {
						m.e.failed(opRead, err)
					}
					select {
					case <-m.ctx.Done():
						return
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, time.Second)
					continue
				}
				backoff = 50 * time.Millisecond
			}
			if len(pend) == 0 {
				break
			}
			if rest := m.apply(pend, need); len(rest) > 0 {
				m.requeue(rest, true)
			}
		}
	}
}

// requeue puts back batches not inserted yet, before any newer ones.
func (m *mirror) requeue(pend []batch, resync bool) {
	m.mu.Lock()
	m.pending = append(pend, m.pending...)
	m.resync = m.resync || resync
	m.mu.Unlock()
}

// apply inserts queued batches in order and returns those it could not
// insert because a catch-up must come first. Right after a catch-up
// (fresh), a batch of another epoch than the topic's is stale and dropped.
func (m *mirror) apply(pend []batch, fresh bool) []batch {
	m.mu.Lock()
	t := m.t
	m.mu.Unlock()
	m.insertMu.Lock()
	defer m.insertMu.Unlock()
	for i := 0; i < len(pend); {
		bt := pend[i]
		if t == nil || t.Retired() {
			return pend[i:]
		}
		if bt.epoch != t.Epoch() {
			if fresh {
				i++
				continue
			}
			return pend[i:]
		}
		// Batches that follow each other go in as one insert: subscribers
		// wake once, and write them with one syscall.
		ms, j := bt.ms, i+1
		for ; j < len(pend) && pend[j].epoch == bt.epoch && len(ms) > 0 && len(pend[j].ms) > 0 &&
			pend[j].ms[0].Seq == ms[len(ms)-1].Seq+1; j++ {
			if j == i+1 {
				ms = append([]*broker.Message(nil), ms...)
			}
			ms = append(ms, pend[j].ms...)
		}
		if _, err := t.Insert(ms); err != nil {
			return pend[i:]
		}
		i = j
	}
	return nil
}

// sync catches the local topic up with Redis: it mirrors the topic anew
// (the last ring's worth of history) when there is none or its epoch
// changed, then inserts the history after the local head, skipping what
// Redis no longer holds.
func (m *mirror) sync() error {
	e := m.e
	m.mu.Lock()
	t := m.t
	m.mu.Unlock()
	if t == nil || t.Retired() {
		t = e.b.Lookup(m.name)
		if t != nil && t.Retired() {
			t = nil
		}
	}
	ring := e.b.RingSize(m.name)
	chunk := min(ring, 4096)
	for {
		if t == nil {
			res, err := e.read(m.k, "tail", 0, min(ring, e.historySize(ring)), newEpoch())
			if err != nil {
				return err
			}
			if res.created {
				e.addName(m.name)
			}
			hist, err := decodeEntries(m.name, res.epoch, res.entries, true)
			if err != nil {
				return err
			}
			m.insertMu.Lock()
			t, err = e.b.Mirror(m.name, res.epoch, res.head, hist)
			m.insertMu.Unlock()
			if err != nil {
				return err
			}
			if t.Head() >= res.head {
				break
			}
			continue // an existing mirror of that epoch: catch it up
		}
		res, err := e.read(m.k, "from", t.Head()+1, chunk, newEpoch())
		if err != nil {
			return err
		}
		if res.created {
			e.addName(m.name)
		}
		if res.epoch != t.Epoch() {
			t = nil // Redis lost the topic's data, or it started over
			continue
		}
		ms, err := decodeEntries(m.name, res.epoch, res.entries, false)
		if err != nil {
			return err
		}
		m.insertMu.Lock()
		switch {
		case len(ms) == 0:
			t.Skip(res.head + 1) // nothing retained after the head: lost, if anything
		case ms[0].Seq > t.Head()+1:
			t.Skip(ms[0].Seq) // trimmed from the history before we read it
		}
		if len(ms) > 0 {
			_, err = t.Insert(ms)
		}
		m.insertMu.Unlock()
		if err != nil {
			t = nil // retired meanwhile
			continue
		}
		if len(ms) == 0 || t.Head() >= res.head {
			break
		}
	}
	m.mu.Lock()
	m.t = t
	m.cur.Store(t)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
	return nil
}

// stop ends the mirror's goroutines; with unsubscribe it first tells Redis
// to stop sending the topic's messages to this instance.
func (m *mirror) stop(unsubscribe bool) {
	if unsubscribe {
		ctx, cancel := context.WithTimeout(m.e.ctx, m.e.cfg.Timeout)
		c := m.e.client
		_ = c.Do(ctx, c.B().Sunsubscribe().Channel(m.k.ch).Build()).Error()
		cancel()
	}
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	m.stopped = true
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// subscribers returns how many local subscribers the mirror's topic has.
func (m *mirror) subscribers() int64 {
	m.mu.Lock()
	t := m.t
	m.mu.Unlock()
	if t == nil || t.Retired() {
		return 0
	}
	return t.Stats().Subscribers
}

// janitor stops the mirrors of topics without local subscribers for
// Config.IdleDelay, unsubscribing from their channels.
func (e *Engine) janitor() {
	defer e.wg.Done()
	tick := time.NewTicker(max(e.cfg.IdleDelay/2, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case now := <-tick.C:
			e.removeIdle(now.UnixNano())
		}
	}
}

// removeIdle stops the mirrors idle since before now - IdleDelay.
func (e *Engine) removeIdle(now int64) {
	limit := now - int64(e.cfg.IdleDelay)
	e.mirrors.Range(func(k, v any) bool {
		m := v.(*mirror)
		if m.subscribers() > 0 {
			m.idleSince = 0
			return true
		}
		if m.idleSince == 0 {
			m.idleSince = now
		}
		if m.idleSince > limit || m.lastAttach.Load() > limit {
			return true
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return false
		}
		e.mirrors.Delete(k)
		e.mu.Unlock()
		m.stop(true)
		return true
	})
}
