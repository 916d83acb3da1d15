package redisengine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcast/ringcast/broker"
)

// readResult is readScript's answer.
type readResult struct {
	epoch   string // "": the topic does not exist
	head    uint64
	created bool
	entries []rueidis.RedisMessage
}

// read runs readScript (see there) for the topic with keys k.
func (e *Engine) read(k keys, mode string, from uint64, count int, create string) (readResult, error) {
	args := []string{mode, strconv.FormatUint(from, 10), strconv.Itoa(max(count, 1)), create}
	res, err := e.exec(opRead, readScript, []string{k.seq, k.epoch, k.hist}, args)
	if err != nil {
		return readResult{}, err
	}
	if len(res) != 4 {
		return readResult{}, errCorrupt
	}
	var r readResult
	var err2, err3 error
	var head, created int64
	r.epoch, err = res[0].ToString()
	head, err2 = res[1].AsInt64()
	created, err3 = res[2].AsInt64()
	if err != nil || err2 != nil || err3 != nil || head < 0 {
		return readResult{}, errCorrupt
	}
	r.head, r.created = uint64(head), created == 1
	if r.entries, err = res[3].ToArray(); err != nil {
		return readResult{}, errCorrupt
	}
	return r, nil
}

// decodeEntries decodes history entries ([id, [field, body]]) into
// messages, oldest first; newestFirst says they come newest first.
func decodeEntries(topic, epoch string, entries []rueidis.RedisMessage, newestFirst bool) ([]*broker.Message, error) {
	ms := make([]*broker.Message, 0, len(entries))
	for _, en := range entries {
		parts, err := en.ToArray()
		if err != nil || len(parts) != 2 {
			return nil, errCorrupt
		}
		id, err := parts[0].ToString()
		if err != nil {
			return nil, errCorrupt
		}
		seq, err := entrySeq(id)
		if err != nil {
			return nil, err
		}
		fields, err := parts[1].ToArray()
		if err != nil || len(fields) != 2 {
			return nil, errCorrupt
		}
		body, err := fields[1].ToString()
		if err != nil {
			return nil, errCorrupt
		}
		m, _, err := decodeBody([]byte(body), topic, epoch, seq)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if newestFirst {
		slices.Reverse(ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Seq != ms[i-1].Seq+1 {
			return nil, fmt.Errorf("%w: history of %q jumps from seq %d to %d", errCorrupt, topic, ms[i-1].Seq, ms[i].Seq)
		}
	}
	return ms, nil
}

// Stats returns the shared topic's epoch, head and oldest seqs: see
// broker.Engine.
func (e *Engine) Stats(topic string) (broker.Stats, bool, error) {
	if err := broker.ValidateTopic(topic); err != nil {
		return broker.Stats{}, false, nil
	}
	k := e.keysOf(topic)
	res, err := e.exec(opStats, statsScript, []string{k.seq, k.epoch, k.hist}, nil)
	if err != nil {
		return broker.Stats{}, false, err
	}
	if len(res) != 3 {
		return broker.Stats{}, false, errCorrupt
	}
	epoch, err1 := res[0].ToString()
	head, err2 := res[1].AsInt64()
	oldestID, err3 := res[2].ToString()
	if err1 != nil || err2 != nil || err3 != nil {
		return broker.Stats{}, false, errCorrupt
	}
	if epoch == "" {
		return broker.Stats{}, false, nil
	}
	st := broker.Stats{Topic: topic, Epoch: epoch, HeadSeq: uint64(head)}
	if oldestID != "" {
		if st.OldestSeq, err = entrySeq(oldestID); err != nil {
			return broker.Stats{}, false, err
		}
	}
	return st, true, nil
}

// Names returns every shared topic's name: see broker.Engine.
func (e *Engine) Names() ([]string, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	start := time.Now()
	names, err := e.client.Do(ctx, e.client.B().Smembers().Key(e.names).Build()).AsStrSlice()
	e.m.latency[opStats].Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, e.failed(opStats, err)
	}
	return names, nil
}

// Retained reads up to limit messages of topic's history: see
// broker.Engine.
func (e *Engine) Retained(topic string, from broker.Position, epoch string, limit int) ([]*broker.Message, error) {
	if err := broker.ValidateTopic(topic); err != nil || limit <= 0 || from.Kind == broker.Latest {
		return nil, nil
	}
	k := e.keysOf(topic)
	seq := uint64(1)
	if from.Kind == broker.AtSeq {
		seq = from.Seq
	}
	res, err := e.read(k, "from", seq, limit, "")
	if err != nil {
		return nil, err
	}
	if epoch != "" && res.epoch != "" && res.epoch != epoch && seq != 1 {
		if res, err = e.read(k, "from", 1, limit, ""); err != nil {
			return nil, err
		}
	}
	if res.epoch == "" {
		return nil, nil
	}
	return decodeEntries(topic, res.epoch, res.entries, false)
}
