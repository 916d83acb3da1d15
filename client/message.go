package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Event is what Subscription.Next returns: a Message, a Gap or a Reset.
// Switch on its type.
type Event interface{ isEvent() }

// Message is one message of a topic, as the contract's JSON envelope
// carries it.
type Message struct {
	Topic string
	Seq   uint64 // per topic and epoch, from 1, +1 per message
	Epoch string // the incarnation of the topic's history Seq belongs to
	ID    string // UUID v7, unique per message
	Time  time.Time
	Data  []byte
	Attrs map[string]string // nil when the message has none
}

// Gap reports that the seqs From to To (inclusive) of the current epoch
// were missed: the subscriber fell behind by a whole ring, or they were no
// longer retained when it (re)connected. The Message after it has seq
// To+1.
type Gap struct {
	From, To uint64
}

// Reset reports that the topic's history started over: its epoch changed
// from OldEpoch to NewEpoch (the server restarted, or the topic expired
// and was created anew), so seqs start again from 1. Delivery goes on with
// the oldest message the server retains of the new epoch; if that is not
// seq 1, a Gap from seq 1 follows.
type Reset struct {
	OldEpoch, NewEpoch string
}

func (Message) isEvent() {}
func (Gap) isEvent()     {}
func (Reset) isEvent()   {}

// String describes the gap, as "missed seq 3 to 12 (10 messages)".
func (g Gap) String() string {
	return fmt.Sprintf("missed seq %d to %d (%d messages)", g.From, g.To, g.To-g.From+1)
}

// String describes the reset.
func (r Reset) String() string {
	return fmt.Sprintf("the topic's history started over: epoch %s, then %s", r.OldEpoch, r.NewEpoch)
}

// envelope is the JSON envelope of the wire contract.
type envelope struct {
	Topic   string            `json:"topic"`
	Seq     uint64            `json:"seq"`
	Epoch   string            `json:"epoch"`
	ID      string            `json:"id"`
	Time    time.Time         `json:"time"`
	Data    *string           `json:"data,omitempty"`
	DataB64 []byte            `json:"data_b64,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// MarshalJSON encodes m as the contract's envelope: data as a string when
// it is valid UTF-8, else data_b64; attrs omitted when empty.
func (m Message) MarshalJSON() ([]byte, error) {
	e := envelope{Topic: m.Topic, Seq: m.Seq, Epoch: m.Epoch, ID: m.ID, Time: m.Time.UTC(), Attrs: m.Attrs}
	if utf8.Valid(m.Data) {
		s := string(m.Data)
		e.Data = &s
	} else {
		e.DataB64 = m.Data
	}
	return json.Marshal(e)
}

// UnmarshalJSON decodes the contract's envelope.
func (m *Message) UnmarshalJSON(b []byte) error {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	switch {
	case e.Seq == 0:
		return errors.New("client: message envelope without a seq")
	case e.Data != nil:
		m.Data = []byte(*e.Data)
	case e.DataB64 != nil:
		m.Data = e.DataB64
	default:
		return errors.New("client: message envelope without data or data_b64")
	}
	m.Topic, m.Seq, m.Epoch, m.ID, m.Time, m.Attrs = e.Topic, e.Seq, e.Epoch, e.ID, e.Time, e.Attrs
	return nil
}
