package redisengine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcast/ringcast/egress"
)

// Defaults of LeaseConfig's zero values.
const (
	DefaultLeaseTTL   = 10 * time.Second
	DefaultLeaseRenew = 3 * time.Second
	DefaultLeaseRetry = 2 * time.Second
)

// LeaseConfig configures Leases. Every field works at its zero value.
type LeaseConfig struct {
	// Instance names this instance in the leases it holds. "": the host
	// name and 8 random hex digits.
	Instance string
	// TTL is how long a lease lasts without renewal. 0: 10s.
	TTL time.Duration
	// Renew is how often the holder renews. 0: 3s.
	Renew time.Duration
	// Retry is how often a standby instance tries to take a lease. 0: 2s.
	Retry time.Duration
}

// Leases are the destination leases and stored cursors of instances that
// share Redis: an egress.Coordinator. Each destination has a lease key,
// {prefix:dest:NAME}, holding the holder's instance id with a TTL (SET NX
// PX), renewed by the holder with a compare-and-renew script and deleted
// on release with a compare-and-delete script; and a hash,
// {prefix:dest:NAME}:cursors, of "last epoch" by topic, written only by
// the holder (a script checks the lease first). A holder that has not
// renewed for two thirds of the TTL (Redis unreachable) or finds the lease
// gone or taken ends the lease's context, so that it stops the destination
// before the lease can expire and another instance take it.
type Leases struct {
	e   *Engine
	cfg LeaseConfig

	mu   sync.Mutex
	held map[string]*heldLease // by destination name
}

// heldLease is a lease this instance took, and its renewer.
type heldLease struct {
	ctx    context.Context // ends when the lease is lost or released
	cancel context.CancelFunc
	done   chan struct{} // closed when the renewer returned
}

var _ egress.Coordinator = (*Leases)(nil)

// Leases returns the destination leases kept in the engine's Redis.
// Release every lease taken before closing the engine.
func (e *Engine) Leases(cfg LeaseConfig) *Leases {
	if cfg.Instance == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Instance = strings.Trim(host+"-"+hex.EncodeToString(b[:]), "-")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultLeaseTTL
	}
	if cfg.Renew <= 0 {
		cfg.Renew = DefaultLeaseRenew
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultLeaseRetry
	}
	return &Leases{e: e, cfg: cfg, held: map[string]*heldLease{}}
}

// acquireScript takes the lease KEYS[1] for ARGV[1] for ARGV[2] ms, or
// extends it if ARGV[1] holds it; it returns {1} or {0, holder}.
var acquireScript = rueidis.NewLuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, ARGV[1]}
end
local h = redis.call('GET', KEYS[1])
if h == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, h}
end
return {0, h or ''}
`)

// renewScript extends the lease KEYS[1] to ARGV[2] ms if ARGV[1] holds it.
var renewScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease KEYS[1] if ARGV[1] holds it.
var releaseScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// saveScript sets fields of the hash KEYS[2] (ARGV[2], ARGV[3], …) if
// ARGV[1] holds the lease KEYS[1].
var saveScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
`)

// errNotHolder means the lease is no longer this instance's.
var errNotHolder = errors.New("redisengine: this instance no longer holds the destination's lease")

// leaseKey and cursorsKey are a destination's keys, in one slot.
func (l *Leases) leaseKey(name string) string {
	return "{" + l.e.cfg.Prefix + ":dest:" + name + "}"
}

func (l *Leases) cursorsKey(name string) string { return l.leaseKey(name) + ":cursors" }

// Instance returns this instance's id.
func (l *Leases) Instance() string { return l.cfg.Instance }

// RetryInterval returns LeaseConfig.Retry.
func (l *Leases) RetryInterval() time.Duration { return l.cfg.Retry }

// Acquire tries once to take the lease of the destination called name:
// see egress.Coordinator.
func (l *Leases) Acquire(name string) (context.Context, string, error) {
	l.stop(name) // a lease lost earlier: its renewer is done
	ctx, cancel := context.WithTimeout(l.e.ctx, l.e.cfg.Timeout)
	defer cancel()
	start := time.Now()
	res, err := acquireScript.Exec(ctx, l.e.client, []string{l.leaseKey(name)}, []string{l.cfg.Instance, ms(l.cfg.TTL)}).ToArray()
	if err != nil {
		return nil, "", fmt.Errorf("redisengine: lease of destination %s: %w", name, err)
	}
	if len(res) != 2 {
		return nil, "", fmt.Errorf("redisengine: lease of destination %s: unexpected answer", name)
	}
	ok, _ := res[0].AsInt64()
	holder, _ := res[1].ToString()
	if ok != 1 {
		return nil, holder, nil
	}
	h := &heldLease{done: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(l.e.ctx)
	l.mu.Lock()
	l.held[name] = h
	l.mu.Unlock()
	go l.renew(name, h, start)
	return h.ctx, l.cfg.Instance, nil
}

// renew keeps h while it can: every Renew it extends the lease, and it
// ends h's context when the lease is gone or taken, or when no renewal
// succeeded for two thirds of the TTL (measured from when the last
// successful command was sent, so the lease cannot have expired yet).
func (l *Leases) renew(name string, h *heldLease, lastOK time.Time) {
	defer close(h.done)
	defer h.cancel()
	trust := l.cfg.TTL * 2 / 3
	deadline := time.NewTimer(trust - time.Since(lastOK))
	defer deadline.Stop()
	next := time.NewTimer(l.cfg.Renew)
	defer next.Stop()
	keys, args := []string{l.leaseKey(name)}, []string{l.cfg.Instance, ms(l.cfg.TTL)}
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-deadline.C:
			return // not renewed in time: stop before it may expire
		case <-next.C:
		}
		start := time.Now()
		end := start.Add(l.e.cfg.Timeout)
		if d := lastOK.Add(trust); d.Before(end) {
			end = d
		}
		ctx, cancel := context.WithDeadline(h.ctx, end)
		n, err := renewScript.Exec(ctx, l.e.client, keys, args).AsInt64()
		cancel()
		switch {
		case err == nil && n == 1:
			lastOK = start
			deadline.Reset(trust - time.Since(lastOK))
			next.Reset(l.cfg.Renew)
		case err == nil:
			return // lost: expired and maybe taken by another instance
		default:
			next.Reset(min(l.cfg.Renew, time.Second)) // try again soon
		}
	}
}

// stop ends this instance's hold of name's lease, if any, and waits for
// its renewer; it reports whether there was one.
func (l *Leases) stop(name string) bool {
	l.mu.Lock()
	h := l.held[name]
	delete(l.held, name)
	l.mu.Unlock()
	if h == nil {
		return false
	}
	h.cancel()
	<-h.done
	return true
}

// Release gives up the lease of name, if this instance holds it.
func (l *Leases) Release(name string) {
	if !l.stop(name) {
		return
	}
	ctx, cancel := context.WithTimeout(l.e.ctx, l.e.cfg.Timeout)
	defer cancel()
	_ = releaseScript.Exec(ctx, l.e.client, []string{l.leaseKey(name)}, []string{l.cfg.Instance}).Error()
}

// Cursors returns the stored cursors of name, by topic.
func (l *Leases) Cursors(name string) (map[string]egress.StoredCursor, error) {
	ctx, cancel := context.WithTimeout(l.e.ctx, l.e.cfg.Timeout)
	defer cancel()
	m, err := l.e.client.Do(ctx, l.e.client.B().Hgetall().Key(l.cursorsKey(name)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("redisengine: cursors of destination %s: %w", name, err)
	}
	out := make(map[string]egress.StoredCursor, len(m))
	for topic, v := range m {
		last, epoch, _ := strings.Cut(v, " ")
		n, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			continue // not ours: ignore it
		}
		out[topic] = egress.StoredCursor{Epoch: epoch, Last: n}
	}
	return out, nil
}

// SaveCursors stores cursors of name if this instance holds its lease.
func (l *Leases) SaveCursors(name string, cursors map[string]egress.StoredCursor) error {
	args := make([]string, 0, 1+2*len(cursors))
	args = append(args, l.cfg.Instance)
	for topic, c := range cursors {
		args = append(args, topic, strconv.FormatUint(c.Last, 10)+" "+c.Epoch)
	}
	ctx, cancel := context.WithTimeout(l.e.ctx, l.e.cfg.Timeout)
	defer cancel()
	n, err := saveScript.Exec(ctx, l.e.client, []string{l.leaseKey(name), l.cursorsKey(name)}, args).AsInt64()
	if err != nil {
		return fmt.Errorf("redisengine: cursors of destination %s: %w", name, err)
	}
	if n != 1 {
		return errNotHolder
	}
	return nil
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
