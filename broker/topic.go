package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// head packs the last claimed seq (low 52 bits), a generation bumped by
// every block subscriber registration (11 bits), so that a publisher that
// loaded head before the registration fails its CAS, and the removed flag.
const (
	seqBits    = 52
	seqMask    = uint64(1)<<seqBits - 1
	genUnit    = uint64(1) << seqBits
	genMask    = (uint64(1)<<11 - 1) << seqBits
	removedBit = uint64(1) << 63 // the topic was removed as idle
	// MaxSeq is the largest seq a topic can reach (about 4.5e15).
	MaxSeq = seqMask
)

// topicConfig is a topic's resolved settings.
type topicConfig struct {
	ringSize       int
	maxBytes       int64
	allowBlock     bool
	metricsLabel   bool
	publishTimeout time.Duration
}

// Topic is one topic: its ring, its counters and its subscribers. Get one
// from Broker.Topic.
type Topic struct {
	name  string
	epoch string
	cfg   topicConfig
	m     *metrics
	ring  ring

	head       atomic.Uint64 // last claimed seq, plus the flag bits
	oldest     atomic.Uint64 // oldest retained seq; 1 before anything is published
	bytes      atomic.Int64  // payload bytes retained
	dropped    atomic.Uint64 // messages subscribers missed, every reason
	lastActive atomic.Int64  // Unix nanoseconds of the creation or the last unsubscribe
	closed     atomic.Bool

	readers    *notifier // parked subscribers
	publishers *notifier // publishers waiting for block subscribers

	// Owned by the janitor: the head it last saw and since when.
	idleHead  uint64
	idleSince int64

	mu          sync.Mutex                      // guards registration and removal
	subscribers atomic.Int64                    // written under mu
	blockers    atomic.Pointer[[]*Subscription] // copy on write, under mu
	gate        atomic.Uint64                   // a lower bound of the blockers' cursors
}

func newTopic(name string, cfg topicConfig, m *metrics, now time.Time) *Topic {
	t := &Topic{
		name:       name,
		epoch:      newEpoch(),
		cfg:        cfg,
		m:          m,
		ring:       newRing(cfg.ringSize),
		readers:    newNotifier(),
		publishers: newNotifier(),
	}
	t.oldest.Store(1)
	t.lastActive.Store(now.UnixNano())
	t.idleSince = now.UnixNano()
	return t
}

// newEpoch names one incarnation of a topic's history: 12 random hex digits.
func newEpoch() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Epoch returns the topic's epoch.
func (t *Topic) Epoch() string { return t.epoch }

// MetricsLabel reports whether configuration lets the topic's name be a
// metric label value.
func (t *Topic) MetricsLabel() bool { return t.cfg.metricsLabel }

// Head returns the last seq claimed by a publisher, 0 before the first.
func (t *Topic) Head() uint64 { return t.head.Load() & seqMask }

// publish accepts ms as one all-or-nothing batch with contiguous seqs.
func (t *Topic) publish(ctx context.Context, ms []*Message) error {
	n := uint64(len(ms))
	if n == 0 {
		return nil
	}
	var size int64
	for _, m := range ms {
		size += int64(len(m.Data))
	}
	if n > t.ring.capacity() || (n > 1 && size > t.cfg.maxBytes) {
		return ErrBatchTooLarge
	}
	first, err := t.claim(ctx, n, size)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for i, m := range ms {
		m.Topic, m.Epoch, m.Seq, m.Time, m.ID = t.name, t.epoch, first+uint64(i), now, newID(now)
	}
	// Evict before storing: once a publisher has stored, it evicts nothing
	// more, which block subscriber registration relies on.
	t.makeRoom(first, first+n-1, size)
	// Store the batch back to front: a reader stops at the first seq that is
	// not ready, so it sees none of the batch until all of it is stored.
	for i := len(ms) - 1; i >= 0; i-- {
		seq := first + uint64(i)
		t.waitSlotFree(seq)
		t.ring.store(seq, ms[i])
	}
	t.readers.broadcast()
	return nil
}

// claim assigns n contiguous seqs and returns the first. It is the only
// place a seq is assigned. With block subscribers it waits, up to the
// publish timeout or ctx, until the ring has room for the batch without
// overwriting what a block subscriber has not read.
func (t *Topic) claim(ctx context.Context, n uint64, size int64) (uint64, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		h := t.head.Load()
		if h&removedBit != 0 {
			return 0, errRemoved
		}
		if t.closed.Load() {
			return 0, ErrClosed
		}
		if h&seqMask+n > MaxSeq {
			return 0, ErrBatchTooLarge
		}
		if !t.roomFor(h&seqMask+n, size) {
			wake := t.publishers.arm()
			if t.roomFor(t.head.Load()&seqMask+n, size) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(t.cfg.publishTimeout)
			}
			select {
			case <-wake:
			case <-timer.C:
				return 0, ErrBackpressure
			case <-ctx.Done():
				return 0, ErrBackpressure
			}
			continue
		}
		if t.head.CompareAndSwap(h, h+n) {
			return h&seqMask + 1, nil
		}
	}
}

// roomFor reports whether seqs up to last may be written without
// overwriting, or evicting for bytes, what a block subscriber has not read.
// It first tries the cached lower bound of the block subscribers' cursors
// (cursors only grow) and scans them only when that bound says no.
func (t *Topic) roomFor(last uint64, size int64) bool {
	bl := t.blockers.Load()
	if bl == nil || len(*bl) == 0 {
		return true
	}
	if t.roomBelow(t.gate.Load(), last, size) {
		return true
	}
	unread := minCursor(*bl)
	t.gate.Store(unread)
	return t.roomBelow(unread, last, size)
}

// roomBelow reports whether the ring has room up to last when every block
// subscriber has read everything before unread.
func (t *Topic) roomBelow(unread, last uint64, size int64) bool {
	if last >= unread+t.ring.capacity() {
		return false
	}
	return t.bytes.Load()+size <= t.cfg.maxBytes || t.oldest.Load() < unread
}

// minCursor returns the smallest next-to-read seq of subs.
func minCursor(subs []*Subscription) uint64 {
	lowest := uint64(MaxSeq)
	for _, s := range subs {
		lowest = min(lowest, s.cursor.Load())
	}
	return lowest
}

// waitSlotFree waits until the slot for seq holds the message one lap
// before it, so that seq never overwrites a message still being stored.
// The wait is as long as another publisher's few instructions between its
// claim and its store.
func (t *Topic) waitSlotFree(seq uint64) {
	capacity := t.ring.capacity()
	if seq <= capacity {
		return
	}
	for prev := seq - capacity; ; runtime.Gosched() {
		if m := t.ring.load(seq); m != nil && m.Seq == prev {
			return
		}
	}
}

// makeRoom evicts, before seqs first..last (size bytes in all) are stored,
// what they overwrite in the ring and then, counting them, what puts the
// topic over its byte budget.
func (t *Topic) makeRoom(first, last uint64, size int64) {
	capacity := t.ring.capacity()
	if last > capacity {
		size -= t.evictThrough(last - capacity)
	}
	if t.bytes.Add(size) > t.cfg.maxBytes {
		t.evictForBytes(first)
	}
}

// evictThrough advances oldest past seq, so the slots up to seq may be
// overwritten. Each step is a CAS; it returns the bytes of the messages its
// own CASes evicted, for the caller to uncount.
func (t *Topic) evictThrough(seq uint64) (freed int64) {
	for {
		o := t.oldest.Load()
		if o > seq {
			return freed
		}
		m := t.ring.load(o)
		if m == nil || m.Seq != o {
			runtime.Gosched() // o's publisher has claimed it and not stored it yet
			continue
		}
		if t.oldest.CompareAndSwap(o, o+1) {
			freed += int64(len(m.Data))
		}
	}
}

// evictForBytes evicts the oldest messages while the topic holds more than
// its byte budget. It keeps the caller's own messages (from first on),
// anything a block subscriber has not read, and stops at a message not yet
// stored.
func (t *Topic) evictForBytes(first uint64) {
	for t.bytes.Load() > t.cfg.maxBytes {
		o := t.oldest.Load()
		if o >= first {
			return
		}
		if bl := t.blockers.Load(); bl != nil && len(*bl) > 0 && o >= t.gate.Load() {
			unread := minCursor(*bl)
			t.gate.Store(unread)
			if o >= unread {
				return
			}
		}
		m := t.ring.load(o)
		if m == nil || m.Seq != o {
			return
		}
		if t.oldest.CompareAndSwap(o, o+1) {
			t.bytes.Add(-int64(len(m.Data)))
		}
	}
}

// readFrom copies ready messages starting at seq c into buf. It returns how
// many it copied, the next seq to read, and whether c had already been
// overwritten or evicted (then nothing is copied).
func (t *Topic) readFrom(c uint64, buf []*Message) (n int, next uint64, lapped bool) {
	if c < t.oldest.Load() {
		return 0, c, true
	}
	for n < len(buf) {
		m := t.ring.load(c)
		if m == nil || m.Seq < c {
			break
		}
		if m.Seq > c {
			return n, c, n == 0
		}
		buf[n] = m
		n++
		c++
	}
	return n, c, false
}

// ready reports whether a reader at c would get a message or a lap now.
func (t *Topic) ready(c uint64) bool {
	if c < t.oldest.Load() {
		return true
	}
	m := t.ring.load(c)
	return m != nil && m.Seq >= c
}

// start resolves a position to the first seq to read.
func (t *Topic) start(from Position, epoch string) uint64 {
	oldest := t.oldest.Load()
	if epoch != "" && epoch != t.epoch {
		return oldest
	}
	switch from.Kind {
	case Oldest:
		return oldest
	case AtSeq:
		return max(from.Seq, oldest)
	}
	return t.Head() + 1
}

// Stats is a snapshot of a topic's counters, as GET /v1/topics shows them.
type Stats struct {
	Topic       string `json:"topic"`
	Epoch       string `json:"epoch"`
	HeadSeq     uint64 `json:"head_seq"`
	OldestSeq   uint64 `json:"oldest_seq"`
	Subscribers int64  `json:"subscribers"`
	Published   uint64 `json:"published"`
	Dropped     uint64 `json:"dropped"`
}

// Stats returns the topic's counters. An empty topic has head and oldest 0.
func (t *Topic) Stats() Stats {
	head := t.Head()
	oldest := min(t.oldest.Load(), head)
	return Stats{
		Topic:       t.name,
		Epoch:       t.epoch,
		HeadSeq:     head,
		OldestSeq:   oldest,
		Subscribers: t.subscribers.Load(),
		Published:   head,
		Dropped:     t.dropped.Load(),
	}
}

// Retained copies retained messages from position from into buf, oldest
// first, and returns how many. It creates no subscription.
func (t *Topic) Retained(from Position, buf []*Message) int {
	c := t.start(from, "")
	if from.Kind == Latest {
		return 0
	}
	for {
		n, next, lapped := t.readFrom(c, buf)
		if !lapped {
			return n
		}
		c = max(next, t.oldest.Load())
	}
}

// Subscribe starts a subscription to t. Broker.Subscribe, which finds or
// creates the topic by name, is the usual way in; this one is for a
// Broker.Watch callback, which has the Topic. It fails with ErrClosed if
// the topic was removed as idle (Broker.Subscribe then retries on a fresh
// topic, which a Watch callback never needs), or with ErrBlockNotAllowed.
func (t *Topic) Subscribe(opts SubscribeOptions) (*Subscription, error) {
	s, err := t.subscribe(opts)
	if err == errRemoved {
		return nil, ErrClosed
	}
	return s, err
}

// subscribe registers a subscription. It fails with errRemoved if the
// topic was removed meanwhile.
func (t *Topic) subscribe(opts SubscribeOptions) (*Subscription, error) {
	if opts.Policy == Block && !t.cfg.allowBlock && !opts.Trusted {
		return nil, ErrBlockNotAllowed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.head.Load()&removedBit != 0 {
		return nil, errRemoved
	}
	if t.closed.Load() {
		return nil, ErrClosed
	}
	s := &Subscription{t: t, policy: opts.Policy, manual: opts.ManualCommit}
	s.cursor.Store(t.start(opts.From, opts.Epoch))
	t.subscribers.Add(1)
	if opts.Policy == Block {
		t.addBlocker(s)
	}
	s.read = s.cursor.Load()
	return s, nil
}

// addBlocker makes s gate publishers. Called under t.mu.
//
// It publishes the new blocker list, then bumps head's generation so that
// every publisher that read the old list fails its CAS and reads again.
// Claims made before the bump are still being stored, and may still evict;
// it waits until they are stored (a publisher evicts only before it
// stores), then moves s's cursor up to what is still retained.
func (t *Topic) addBlocker(s *Subscription) {
	var list []*Subscription
	if old := t.blockers.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, s)
	t.blockers.Store(&list)
	t.gate.Store(minCursor(list))
	var h uint64
	for {
		h = t.head.Load()
		if t.head.CompareAndSwap(h, h&^genMask|(h+genUnit)&genMask) {
			break
		}
	}
	claimed, capacity := h&seqMask, t.ring.capacity()
	// Seqs below oldest were stored before they were evicted, and a
	// mirror (Broker.Mirror, Topic.Skip) never stores the ones it skipped.
	for seq := claimed; seq >= max(1, t.oldest.Load()) && seq+capacity > claimed; seq-- {
		for m := t.ring.load(seq); m == nil || m.Seq < seq; m = t.ring.load(seq) {
			runtime.Gosched() // a publisher claimed seq and is storing it
		}
	}
	if o := t.oldest.Load(); s.cursor.Load() < o {
		s.cursor.Store(o)
		t.gate.Store(minCursor(list))
	}
}

// unsubscribe forgets s and wakes publishers it may have held.
func (t *Topic) unsubscribe(s *Subscription) {
	t.mu.Lock()
	t.subscribers.Add(-1)
	if s.policy == Block {
		old := *t.blockers.Load()
		list := make([]*Subscription, 0, len(old)-1)
		for _, b := range old {
			if b != s {
				list = append(list, b)
			}
		}
		t.blockers.Store(&list)
	}
	t.lastActive.Store(time.Now().UnixNano())
	t.mu.Unlock()
	t.publishers.broadcast()
	t.readers.broadcast()
}

// removeIfIdle removes the topic if it has no subscribers and has seen no
// publish, subscription or unsubscribe since idleSince. Only the janitor
// calls it: it notes the head it sees and when it changed, so publishing
// costs nothing for idle tracking. A publisher that raced with the removal
// finds removedBit and retries on a fresh topic.
func (t *Topic) removeIfIdle(now, idleSince int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.head.Load()
	if h&^genMask != t.idleHead {
		t.idleHead, t.idleSince = h&^genMask, now
	}
	if t.subscribers.Load() != 0 || t.lastActive.Load() > idleSince || t.idleSince > idleSince {
		return false
	}
	return h&removedBit == 0 && t.head.CompareAndSwap(h, h|removedBit)
}

// close ends every subscription and waiting publisher of the topic.
func (t *Topic) close() {
	t.closed.Store(true)
	t.readers.broadcast()
	t.publishers.broadcast()
}
