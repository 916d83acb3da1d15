package broker

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Engine shares topics between instances: it assigns the seqs, keeps the
// history every instance can read, and feeds each instance's local topics
// (mirrors) at the seqs it gave. Config.Engine nil is the memory engine:
// this process assigns seqs itself (Topic.claim). The redis engine
// (internal/redisengine) is the other implementation.
//
// Every method may do network I/O and is called from request goroutines,
// never under a broker lock. An engine that cannot reach its store fails
// with an error wrapping ErrUnavailable.
type Engine interface {
	// Publish accepts ms into topic as one batch with contiguous seqs, all
	// or nothing, and stamps each message's Topic, Epoch, Seq, ID and Time.
	Publish(topic string, ms []*Message) error
	// Attach returns topic's local mirror, creating it (with Broker.Mirror)
	// and catching it up if needed, so that a subscription made on it next
	// misses nothing published after Attach returns.
	Attach(topic string) (*Topic, error)
	// Stats returns the shared topic's epoch, head and oldest seqs, and
	// false if the topic does not exist.
	Stats(topic string) (Stats, bool, error)
	// Names returns the names of every shared topic.
	Names() ([]string, error)
	// Retained returns up to limit retained messages of topic from from
	// (a different epoch than the topic's: from the oldest), oldest first.
	Retained(topic string, from Position, epoch string, limit int) ([]*Message, error)
}

// Errors of the engine side of the broker.
var (
	// ErrUnavailable means the engine's store (Redis) cannot be reached;
	// nothing was accepted. Retry later.
	ErrUnavailable = errors.New("broker: the engine's store (Redis) is unavailable")
	// ErrGap means Topic.Insert was given messages that start past the
	// topic's head + 1: the caller must first insert the missing ones or
	// Skip them.
	ErrGap = errors.New("broker: inserted messages do not follow the head")
)

// NewID returns a time-ordered UUID version 7 for a message accepted at
// now, as the broker stamps it; an Engine's Publish uses it.
func NewID(now time.Time) uuid.UUID { return newID(now) }

// Shared reports whether an engine other than memory shares the topics.
func (b *Broker) Shared() bool { return b.cfg.Engine != nil }

// RingSize returns the ring size the topic called name has or would have.
func (b *Broker) RingSize(name string) int { return b.topicConfig(name).ringSize }

// CheckBatch applies the memory engine's batch limits to a batch for the
// topic called name: ErrBatchTooLarge when it holds more messages than
// the topic's ring, or (with more than one message) more payload bytes
// than the topic may retain, so that it could never be retained whole.
func (b *Broker) CheckBatch(name string, ms []*Message) error {
	c := b.topicConfig(name)
	if len(ms) > c.ringSize {
		return ErrBatchTooLarge
	}
	var size int64
	for _, m := range ms {
		size += int64(len(m.Data))
	}
	if len(ms) > 1 && size > c.maxBytes {
		return ErrBatchTooLarge
	}
	return nil
}

// Attached returns the topic a subscriber would read now: the engine's
// attached mirror (nil if the engine is unavailable and has none), or
// with the memory engine the existing topic, or nil. It never blocks on
// the memory engine.
func (b *Broker) Attached(name string) *Topic {
	if b.cfg.Engine == nil {
		return b.Lookup(name)
	}
	if err := ValidateTopic(name); err != nil {
		return nil
	}
	t, err := b.cfg.Engine.Attach(name)
	if err != nil {
		return nil
	}
	return t
}

// TopicStats returns one topic's stats and false if it does not exist.
// With an engine the epoch and seqs are the shared topic's, while
// subscribers, published and dropped count this instance's local mirror.
func (b *Broker) TopicStats(name string) (Stats, bool, error) {
	if b.cfg.Engine == nil {
		if t := b.Lookup(name); t != nil {
			return t.Stats(), true, nil
		}
		return Stats{}, false, nil
	}
	st, ok, err := b.cfg.Engine.Stats(name)
	if err != nil || !ok {
		return st, ok, err
	}
	b.addLocal(&st)
	return st, true, nil
}

// AllTopics returns every topic's stats, like TopicStats.
func (b *Broker) AllTopics() ([]Stats, error) {
	if b.cfg.Engine == nil {
		return b.Topics(), nil
	}
	names, err := b.cfg.Engine.Names()
	if err != nil {
		return nil, err
	}
	out := make([]Stats, 0, len(names))
	for _, n := range names {
		st, ok, err := b.cfg.Engine.Stats(n)
		if err != nil {
			return nil, err
		}
		if ok {
			b.addLocal(&st)
			out = append(out, st)
		}
	}
	return out, nil
}

// addLocal fills st's local counters, subscribers and dropped, from the
// local mirror, if any; published is the shared head, as with memory.
func (b *Broker) addLocal(st *Stats) {
	st.Subscribers, st.Dropped = 0, 0
	if t := b.Lookup(st.Topic); t != nil && t.epoch == st.Epoch {
		st.Subscribers, st.Dropped = t.subscribers.Load(), t.dropped.Load()
	}
	st.Published = st.HeadSeq
}

// ReadRetained copies up to len(buf) retained messages of topic from
// from into buf, oldest first, and returns how many. A different epoch
// than the topic's reads from the oldest. It never creates the topic.
// With an engine it reads the shared history.
func (b *Broker) ReadRetained(name string, from Position, epoch string, buf []*Message) (int, error) {
	if b.cfg.Engine == nil {
		t := b.Lookup(name)
		if t == nil {
			return 0, nil
		}
		if epoch != "" && epoch != t.Epoch() {
			from = Position{Kind: Oldest}
		}
		return t.Retained(from, buf), nil
	}
	if from.Kind == Latest {
		return 0, nil
	}
	ms, err := b.cfg.Engine.Retained(name, from, epoch, len(buf))
	if err != nil {
		return 0, err
	}
	return copy(buf, ms), nil
}

// Mirror returns the local topic called name as a mirror of an engine's
// shared topic with epoch. If one with that epoch exists it is returned
// as is. Otherwise a new one is made holding history (stamped messages
// with contiguous seqs ending at head; empty when nothing is retained)
// and whose head is head; it replaces an existing topic of another epoch,
// whose subscriptions end with ErrClosed so that their clients resume
// against the new epoch. Broker.Watch callbacks see the new topic with
// its history in place.
func (b *Broker) Mirror(name, epoch string, head uint64, history []*Message) (*Topic, error) {
	if err := ValidateTopic(name); err != nil {
		return nil, err
	}
	if t := b.Lookup(name); t != nil && t.epoch == epoch && t.head.Load()&removedBit == 0 {
		return t, nil
	}
	if len(history) > 0 && history[len(history)-1].Seq != head {
		panic("BUG: broker: Mirror history does not end at head")
	}
	name = stringsClone(name)
	t := newTopic(name, b.topicConfig(name), b.m, time.Now())
	t.epoch = epoch
	next := head + 1
	if len(history) > 0 {
		next = history[0].Seq
		if uint64(len(history)) > t.ring.capacity() {
			history = history[uint64(len(history))-t.ring.capacity():]
			next = history[0].Seq
		}
	}
	t.head.Store(next - 1)
	t.oldest.Store(next)
	if len(history) > 0 {
		if _, err := t.Insert(history); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	old := b.Lookup(name)
	if old != nil && old.epoch == epoch && old.head.Load()&removedBit == 0 {
		return old, nil // another caller mirrored it meanwhile
	}
	if old == nil && b.count.Load() >= int64(b.cfg.MaxTopics) {
		return nil, ErrTooManyTopics
	}
	if old != nil {
		old.retire()
	} else {
		b.count.Add(1)
	}
	for _, w := range b.watchers {
		if w.pattern.Match(name) {
			w.fn(t)
		}
	}
	b.topics.Store(name, t)
	return t, nil
}

// retire takes a replaced topic out of use: new subscriptions and
// publishes retry on its successor, and its subscriptions end.
func (t *Topic) retire() {
	for {
		h := t.head.Load()
		if h&removedBit != 0 || t.head.CompareAndSwap(h, h|removedBit) {
			break
		}
	}
	t.close()
}

// Insert stores messages an engine stamped (Topic, Epoch, Seq, ID, Time
// set; contiguous seqs) into the mirror t, in order. Messages at or below
// the head are duplicates and skipped; it returns how many it stored. If
// the first new one is past head + 1 it stores nothing and returns ErrGap:
// insert the missing messages first, or Skip them if they are lost. It
// fails with ErrClosed on a retired or closed topic.
//
// Only one goroutine may insert into, or Skip on, a topic at a time, and
// nothing publishes to a mirror otherwise. Subscribers read inserted
// messages exactly as published ones; block subscribers do not gate an
// engine's publishers, which are on other instances too: a block
// subscriber that falls a whole ring behind ends with ErrLapped.
func (t *Topic) Insert(ms []*Message) (int, error) {
	h := t.head.Load()
	if h&removedBit != 0 || t.closed.Load() {
		return 0, ErrClosed
	}
	head := h & seqMask
	for len(ms) > 0 && ms[0].Seq <= head {
		ms = ms[1:]
	}
	if len(ms) == 0 {
		return 0, nil
	}
	if ms[0].Seq != head+1 {
		return 0, ErrGap
	}
	if uint64(len(ms)) > t.ring.capacity() {
		// Only the last ring's worth can be retained: skip the rest.
		t.Skip(ms[uint64(len(ms))-t.ring.capacity()].Seq)
		ms = ms[uint64(len(ms))-t.ring.capacity():]
	}
	n := uint64(len(ms))
	var size int64
	for _, m := range ms {
		size += int64(len(m.Data))
	}
	first, last := ms[0].Seq, ms[0].Seq+n-1
	t.advanceHead(last)
	t.makeRoom(first, last, size)
	for i := len(ms) - 1; i >= 0; i-- {
		t.ring.store(first+uint64(i), ms[i])
	}
	t.readers.broadcast()
	return len(ms), nil
}

// Skip marks every seq before next as lost for good (an engine's history
// no longer holds them): the head moves up to next-1 and the oldest
// retained to next, so a subscriber behind it sees the gap. Same caller
// rules as Insert.
func (t *Topic) Skip(next uint64) {
	head := t.Head()
	if next <= head+1 {
		return
	}
	if head >= t.oldest.Load() {
		t.bytes.Add(-t.evictThrough(head))
	}
	t.advanceHead(next - 1)
	t.oldest.Store(next)
	t.readers.broadcast()
}

// advanceHead sets the head's seq to seq, keeping the flag bits.
func (t *Topic) advanceHead(seq uint64) {
	for {
		h := t.head.Load()
		if t.head.CompareAndSwap(h, h&^seqMask|seq) {
			return
		}
	}
}

// stringsClone copies a name that may live in a reused buffer.
func stringsClone(s string) string { return string([]byte(s)) }

// Retired reports whether the topic was replaced (Broker.Mirror with a new
// epoch), removed as idle, or closed: a new subscription must go to its
// successor.
func (t *Topic) Retired() bool { return t.head.Load()&removedBit != 0 || t.closed.Load() }

// subscribeShared subscribes to the engine's attached mirror of topic. A
// start older than the mirror's ring (from a seq or oldest, or an epoch
// other than the topic's) first gets the engine's history up to where
// the ring begins, through the subscription's Read like any message.
func (b *Broker) subscribeShared(topic string, opts SubscribeOptions) (*Subscription, error) {
	if err := ValidateTopic(topic); err != nil {
		return nil, err
	}
	for {
		t, err := b.cfg.Engine.Attach(topic)
		if err != nil {
			return nil, err
		}
		s, err := t.subscribe(opts)
		if err == errRemoved {
			continue
		}
		if err != nil {
			return nil, err
		}
		from := uint64(0)
		switch {
		case opts.Epoch != "" && opts.Epoch != t.epoch, opts.From.Kind == Oldest:
			from = 1
		case opts.From.Kind == AtSeq:
			from = opts.From.Seq
		}
		if next := s.cursor.Load(); from != 0 && from < next {
			if s.pre, err = b.history(topic, t.epoch, from, next); err != nil {
				s.Close()
				return nil, err
			}
		}
		return s, nil
	}
}

// history reads the engine's messages of epoch from seq from up to, not
// including, next.
func (b *Broker) history(topic, epoch string, from, next uint64) ([]*Message, error) {
	ms, err := b.cfg.Engine.Retained(topic, Position{Kind: AtSeq, Seq: from}, epoch, int(next-from))
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if m.Epoch == epoch && m.Seq < next {
			out = append(out, m)
		}
	}
	return out, nil
}

// readPre hands out the engine's history taken at subscription.
func (s *Subscription) readPre(buf []*Message) int {
	n := copy(buf, s.pre)
	clear(s.pre[:n])
	s.pre = s.pre[n:]
	if len(s.pre) == 0 {
		s.pre = nil
	}
	return n
}
