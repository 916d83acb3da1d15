package egress

import (
	"errors"
	"strconv"

	"github.com/ringcast/ringcast/broker"
)

// Attributes a dead letter carries besides the original message's.
const (
	AttrDeadLetterReason      = "dead_letter_reason"      // why it was not delivered
	AttrDeadLetterDestination = "dead_letter_destination" // the destination's name
	AttrSourceTopic           = "source_topic"            // the original topic, seq and id
	AttrSourceSeq             = "source_seq"
	AttrSourceID              = "source_id"
)

// deadLetter publishes a copy of m, with the reason and its origin in its
// attributes, to the dead letter topic. It waits and tries again while
// block subscribers of that topic hold it full. A message that cannot be
// dead-lettered at all (the "<topic>.dlq" name would be over 128 bytes,
// or the broker's topic limit is reached) is counted as dropped and
// logged. It reports false only when Shutdown interrupted it, and then m
// was not dead-lettered.
func (d *destination) deadLetter(m *broker.Message, reason string) bool {
	topic := d.cfg.DeadLetter
	if topic == "" {
		topic = m.Topic + ".dlq"
	}
	attrs := make(map[string]string, len(m.Attrs)+5)
	for k, v := range m.Attrs {
		attrs[k] = v
	}
	attrs[AttrDeadLetterReason] = reason
	attrs[AttrDeadLetterDestination] = d.cfg.Name
	attrs[AttrSourceTopic] = m.Topic
	attrs[AttrSourceSeq] = strconv.FormatUint(m.Seq, 10)
	attrs[AttrSourceID] = m.ID.String()
	for try := 1; ; try++ {
		// Data is shared: published messages are immutable.
		err := d.b.Publish(d.ctx, topic, &broker.Message{Data: m.Data, Attrs: attrs})
		switch {
		case err == nil:
			d.deadLettered.Add(1)
			d.m.deadLetter.Inc()
			d.log.Warn("dead-lettered", "topic", m.Topic, "seq", m.Seq, "to", topic, "reason", reason)
			return true
		case errors.Is(err, broker.ErrBackpressure):
			if d.ctx.Err() != nil || !d.sleep(d.cfg.Retry.Delay(try)) {
				return false
			}
		case errors.Is(err, broker.ErrClosed):
			return false
		default:
			d.countDropped(1)
			d.log.Error("cannot dead-letter: the message is dropped", "topic", m.Topic, "seq", m.Seq, "to", topic, "reason", reason, "err", err)
			return true
		}
	}
}
