package broker

import (
	"fmt"
	"strconv"
)

// Policy says what happens to a subscriber that falls behind by a whole ring.
type Policy uint8

const (
	// DropOldest skips ahead to the oldest retained message; the gap shows
	// in seq and is counted. It is the zero value.
	DropOldest Policy = iota
	// Disconnect ends the subscription with ErrLapped.
	Disconnect
	// Block makes publishers wait for this subscriber.
	Block
)

// ParsePolicy parses "drop-oldest", "disconnect" or "block"; "" is DropOldest.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "drop-oldest":
		return DropOldest, nil
	case "disconnect":
		return Disconnect, nil
	case "block":
		return Block, nil
	}
	return 0, fmt.Errorf("policy %q: want drop-oldest, disconnect or block", s)
}

// String returns the policy's name as the API spells it.
func (p Policy) String() string {
	switch p {
	case Disconnect:
		return "disconnect"
	case Block:
		return "block"
	}
	return "drop-oldest"
}

// PositionKind says where a subscription or a read starts.
type PositionKind uint8

const (
	// Latest starts with the next message published. It is the zero value.
	Latest PositionKind = iota
	// Oldest starts with the oldest retained message.
	Oldest
	// AtSeq starts at Position.Seq, or at the oldest retained message if
	// that seq is no longer retained.
	AtSeq
)

// Position is a start position: latest, oldest or a seq.
type Position struct {
	Kind PositionKind
	Seq  uint64 // with AtSeq; at least 1
}

// ParsePosition parses "latest", "oldest" or a seq of at least 1.
func ParsePosition(s string) (Position, error) {
	switch s {
	case "latest":
		return Position{Kind: Latest}, nil
	case "oldest":
		return Position{Kind: Oldest}, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return Position{}, fmt.Errorf("from %q: want latest, oldest or a seq of at least 1", s)
	}
	return Position{Kind: AtSeq, Seq: n}, nil
}
