package egress

// reason says why a subscriber connection ends.
type reason uint8

const (
	reasonNone           reason = iota
	reasonPeerClosed            // the client sent a close frame, or closed an SSE stream
	reasonGone                  // a read or write failed: the client vanished, reset or stopped answering
	reasonLapped                // policy disconnect: fell behind by a whole ring
	reasonShutdown              // Egress.Shutdown or broker.Close
	reasonBadUTF8               // pubsub: a text frame that is not valid UTF-8
	reasonTooBig                // pubsub: a frame over MaxMessageBytes
	reasonPublishFailed         // pubsub: Config.Publish failed
	reasonNoSubscription        // the broker refused the subscription
	reasonProtocol              // a client frame broke RFC 6455
)

// WebSocket close codes (RFC 6455, section 7.4.1).
const (
	closeGoingAway     = 1001
	closeProtocolError = 1002
	closeNoStatus      = 1005
	closeInvalidData   = 1007
	closePolicy        = 1008
	closeTooBig        = 1009
	closeInternalError = 1011
	closeTryAgainLater = 1013
)

// closeCode is the WebSocket close code sent for r, 0 for none.
func (r reason) closeCode() int {
	switch r {
	case reasonLapped:
		return closePolicy
	case reasonShutdown:
		return closeGoingAway
	case reasonBadUTF8:
		return closeInvalidData
	case reasonTooBig:
		return closeTooBig
	case reasonPublishFailed:
		return closeInternalError
	case reasonProtocol:
		return closeProtocolError
	}
	return 0
}

// isError reports whether r counts as a connection error event.
func (r reason) isError() bool {
	return r == reasonGone || r == reasonPublishFailed || r == reasonNoSubscription || r == reasonProtocol
}
