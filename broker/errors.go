package broker

import "errors"

// Errors returned by the broker. Callers match them with errors.Is.
var (
	// ErrBadTopic means a topic name is not [A-Za-z0-9_.-]{1,128}.
	ErrBadTopic = errors.New("broker: bad topic name")
	// ErrTooManyTopics means creating the topic would exceed Config.MaxTopics.
	ErrTooManyTopics = errors.New("broker: too many topics")
	// ErrBackpressure means a block subscriber held the ring full past the
	// publish timeout or the publisher's context; nothing was accepted.
	ErrBackpressure = errors.New("broker: backpressure: a block subscriber held the ring full")
	// ErrBlockNotAllowed means policy block was asked on a topic whose rule
	// does not allow it.
	ErrBlockNotAllowed = errors.New("broker: policy block is not allowed on this topic")
	// ErrBatchTooLarge means a batch holds more messages than the topic's ring
	// has slots, or more bytes than its byte budget, so it could never be
	// retained whole.
	ErrBatchTooLarge = errors.New("broker: batch larger than the topic's ring")
	// ErrLapped ends a disconnect-policy subscription that fell behind by a
	// whole ring.
	ErrLapped = errors.New("broker: subscriber fell behind by a whole ring")
	// ErrClosed means the subscription, its topic or the broker was closed.
	ErrClosed = errors.New("broker: closed")
	// errRemoved is internal: the topic was removed as idle between lookup
	// and use, and the caller retries on a fresh topic.
	errRemoved = errors.New("broker: topic removed")
)
