package egress

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StateStandby is the state of a destination that another instance runs:
// this one holds no lease for it and waits to take over (Coordinator).
const StateStandby = "standby"

// DefaultCursorSaveInterval is how often a coordinated destination stores
// the cursors that moved.
const DefaultCursorSaveInterval = 250 * time.Millisecond

// Coordinator lets instances that share topics (the redis engine) share
// their destinations too: each destination runs on one instance at a
// time, the holder of its lease, and stores its cursors where the next
// holder finds them. Delivery after a change of holder is at least once:
// the new holder resumes after the last stored cursor, so messages the
// old holder delivered after its last save are delivered again.
//
// egress does not know how the leases and cursors are kept; the redis
// engine's Leases implement this. Without a Coordinator every destination
// runs on this instance.
type Coordinator interface {
	// Instance is this instance's id, as Holder and the status show it.
	Instance() string
	// Acquire tries once to take the lease of the destination called
	// name. When this instance gets it (or already holds it), held is a
	// context that ends when the lease is lost or can no longer be
	// trusted to be this instance's; the holder stops the destination
	// then. Otherwise held is nil and holder is the instance that holds
	// it ("" when unknown, err when the store could not be asked).
	Acquire(name string) (held context.Context, holder string, err error)
	// Release gives the lease of name up, if this instance holds it, so
	// that another instance may take it at once.
	Release(name string)
	// Cursors returns the stored cursors of name, by topic.
	Cursors(name string) (map[string]StoredCursor, error)
	// SaveCursors stores cursors of name, by topic, provided this
	// instance still holds its lease.
	SaveCursors(name string, cursors map[string]StoredCursor) error
	// RetryInterval is how long a standby instance waits between tries
	// to take a lease.
	RetryInterval() time.Duration
}

// StoredCursor is a destination's stored progress in one topic: every
// message of Epoch up to and including Last was delivered or
// dead-lettered.
type StoredCursor struct {
	Epoch string
	Last  uint64
}

// Coordinate makes ds share its destinations through c: call it before
// Start. Each destination then runs only while this instance holds its
// lease, stands by otherwise, and resumes after the stored cursors. It
// registers ringcast_destination_leader{destination} in reg (nil: not
// registered), 1 on the holder.
func (ds *Destinations) Coordinate(c Coordinator, reg prometheus.Registerer) error {
	leader := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ringcast_destination_leader",
		Help: "1 when this instance holds the destination's lease and runs it, 0 when it stands by.",
	}, []string{"destination"})
	if reg != nil {
		if err := reg.Register(leader); err != nil {
			return fmt.Errorf("egress: %w", err)
		}
	}
	for _, d := range ds.list {
		d.coord = c
		d.leader = leader.WithLabelValues(d.cfg.Name)
		d.leader.Set(0)
		d.setState(StateStandby, nil)
	}
	return nil
}

// supervise runs a coordinated destination: it stands by until it takes
// the lease, runs the destination while the lease holds, and stands by
// again when it is lost, until Shutdown.
func (d *destination) supervise() {
	defer close(d.superDone)
	c := d.coord
	for d.life.Err() == nil {
		held, holder, err := c.Acquire(d.cfg.Name)
		if held == nil {
			d.setHolder(holder)
			if err != nil {
				err = fmt.Errorf("cannot take the lease: %w", err)
			}
			d.setState(StateStandby, err)
			if !d.wait(d.life, c.RetryInterval()) {
				return
			}
			continue
		}
		resume, err := c.Cursors(d.cfg.Name)
		if err != nil {
			// Without the stored cursors this holder would start at from
			// and could skip messages: give the lease back and try again.
			d.log.Warn("cannot read the destination's stored cursors", "err", err)
			d.setState(StateStandby, fmt.Errorf("cannot read the stored cursors: %w", err))
			c.Release(d.cfg.Name)
			if !d.wait(d.life, c.RetryInterval()) {
				return
			}
			continue
		}
		d.log.Info("destination lease taken: running it here", "instance", c.Instance())
		d.leader.Set(1)
		if err := d.beginTerm(resume); err != nil {
			d.leader.Set(0)
			d.setState(StateDown, err)
			c.Release(d.cfg.Name)
			if !d.wait(d.life, c.RetryInterval()) {
				return
			}
			continue
		}
		saved := map[string]StoredCursor{}
		d.saveCursors(saved) // where this term starts, for a holder after it
		tick := time.NewTicker(DefaultCursorSaveInterval)
		lost := false
	run:
		for {
			select {
			case <-tick.C:
				d.saveCursors(saved)
			case <-held.Done():
				lost = true
				break run
			case <-d.life.Done():
				break run
			}
		}
		tick.Stop()
		abort := d.abortCh
		if lost {
			// Another instance may take the lease soon: stop now and
			// leave what is in flight to it.
			abort = closedChan
		}
		d.endTerm(abort)
		d.saveCursors(saved) // the final cursors; refused once the lease is lost
		d.mu.Lock()
		d.subs, d.resume = map[string]*topicSub{}, nil
		d.mu.Unlock()
		d.leader.Set(0)
		if !lost || d.life.Err() != nil {
			c.Release(d.cfg.Name) // nothing to give up when lost, but its renewer ends
			return
		}
		d.log.Warn("destination lease lost: stopped it here", "instance", c.Instance())
		d.setHolder("")
		d.setState(StateStandby, errors.New("lost the lease (Redis unreachable or the lease expired)"))
	}
}

// closedChan is a closed channel: an abort that happens at once.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// wait waits for wait or until ctx ends; it reports whether to go on.
func (d *destination) wait(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// saveCursors stores the cursors that moved since saved, and records them
// in saved once stored.
func (d *destination) saveCursors(saved map[string]StoredCursor) {
	changed := map[string]StoredCursor{}
	d.mu.Lock()
	for name, ts := range d.subs {
		next := ts.sub.Cursor()
		if next <= ts.ringStart && ts.floor < ts.ringStart {
			next = ts.floor // the history before the ring may not be delivered yet
		}
		cur := StoredCursor{Epoch: ts.sub.Topic().Epoch(), Last: next - 1}
		if saved[name] != cur {
			changed[name] = cur
		}
	}
	d.mu.Unlock()
	if len(changed) == 0 {
		return
	}
	if err := d.coord.SaveCursors(d.cfg.Name, changed); err != nil {
		d.log.Warn("cannot store the destination's cursors", "err", err)
		return
	}
	for name, cur := range changed {
		saved[name] = cur
	}
}

// setHolder records the instance that holds the lease, for the status.
func (d *destination) setHolder(id string) { d.holder.Store(&id) }

// resumeAt is where a coordinated destination resumes in the topic called
// name of epoch: after its stored cursor of that epoch, if any. Called
// under d.mu.
func (d *destination) resumeAt(name, epoch string) (uint64, bool) {
	cur, ok := d.resume[name]
	if !ok || cur.Epoch != epoch {
		return 0, false
	}
	return cur.Last + 1, true
}
