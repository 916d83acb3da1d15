package bench

import (
	"context"
	"fmt"
	"time"
)

// drain waits until every subscriber still connected has every one of the
// total messages published, and reports whether that happened before ctx
// ended.
func (f *fanout) drain(ctx context.Context, total uint64) bool {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		if f.caughtUp(total) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

func (f *fanout) caughtUp(total uint64) bool {
	for _, s := range f.subs {
		select {
		case <-s.done:
			if s.err != nil || s.disconnected.Load() {
				continue // failed or closed by policy: it will not catch up
			}
		default:
		}
		if s.position() < total {
			return false
		}
	}
	return true
}

// drainServer waits until the broker's count of messages published over
// the run's transport has grown by total since before, and reports whether
// that happened before ctx ended: a run without subscribers knows no other
// way that the broker took what is still in its socket buffers.
func (f *fanout) drainServer(ctx context.Context, before serverSample, total uint64) bool {
	tick := time.NewTicker(serverDrainPoll)
	defer tick.Stop()
	for {
		if now, err := f.scrape(ctx); err == nil && now.published[f.cfg.Publish]-before.published[f.cfg.Publish] >= float64(total) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// hangUp closes every connection, politely first while ctx lasts, and
// waits for every goroutine.
func (f *fanout) hangUp(ctx context.Context) {
	for _, s := range f.subs {
		s.closing.Store(true)
		s.feed.stop()
	}
	for _, p := range f.pubs {
		p.closing.Store(true)
		p.conn.stop()
	}
	ctx, cancel := context.WithTimeout(ctx, hangUpWait)
	defer cancel()
	for _, s := range f.subs {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	for _, p := range f.pubs {
		select {
		case <-p.conn.readDone():
		case <-ctx.Done():
		}
	}
	f.abort()
	f.wg.Wait()
}

// abort ends every connection at once.
func (f *fanout) abort() {
	for _, s := range f.subs {
		s.closing.Store(true)
		s.feed.abort()
	}
	for _, p := range f.pubs {
		p.closing.Store(true)
		p.conn.abort()
	}
}

// release closes the connections of a run that never started.
func (f *fanout) release() {
	for _, s := range f.subs {
		s.feed.close()
	}
	for _, p := range f.pubs {
		p.conn.abort()
	}
}

// failure is the run's error: the first connection that failed, or ctx's.
func (f *fanout) failure(ctx context.Context, pubErrs []error) error {
	subErrs := make([]error, len(f.subs))
	for i, s := range f.subs {
		subErrs[i] = s.err
	}
	for i, p := range f.pubs {
		if readErr := p.conn.readErr(); pubErrs[i] == nil {
			pubErrs[i] = readErr
		} else if readErr != nil {
			// The reader saw why: the broker's close frame, say.
			pubErrs[i] = fmt.Errorf("%w (%w)", pubErrs[i], readErr)
		}
	}
	if err := firstError(pubErrs); err != nil {
		return fmt.Errorf("bench: %d of %d publisher connections failed: %w", countErrors(pubErrs), len(pubErrs), err)
	}
	if err := firstError(subErrs); err != nil {
		return fmt.Errorf("bench: %d of %d subscriber connections failed: %w", countErrors(subErrs), len(subErrs), err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench: interrupted: %w", err)
	}
	return nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func countErrors(errs []error) int {
	n := 0
	for _, err := range errs {
		if err != nil {
			n++
		}
	}
	return n
}
