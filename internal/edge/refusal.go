package edge

// Refusal says why a connection is refused; the server answers its
// request with the matching HTTP error and closes it.
type Refusal uint8

// Why a connection is refused.
const (
	Admitted            Refusal = iota // not refused
	Denied                             // the ACL denies the peer: 403 forbidden
	MaxConnections                     // over limits.max_connections: 503
	MaxConnectionsPerIP                // over limits.max_connections_per_ip: 503
)

// Label values of ringcast_limit_rejected_total.
const (
	LimitMaxConnections      = "max_connections"
	LimitMaxConnectionsPerIP = "max_connections_per_ip"
	LimitPublishRate         = "publish_rate"
	LimitHeaderSize          = "header_size"
	LimitReadTimeout         = "read_timeout"
)

// String returns the configuration key of the limit, "acl" or "".
func (r Refusal) String() string {
	switch r {
	case Denied:
		return "acl"
	case MaxConnections:
		return LimitMaxConnections
	case MaxConnectionsPerIP:
		return LimitMaxConnectionsPerIP
	}
	return ""
}
