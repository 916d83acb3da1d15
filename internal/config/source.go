package config

// Source types besides TypeWebSocket.
const (
	TypeHTTPPoll = "http_poll" // GET a URL on an interval and publish the body when it changed
)

// Source pulls messages from elsewhere into a topic: a WebSocket server
// the broker dials (each frame is a message) or a URL it polls.
type Source struct {
	// Name is [a-z0-9-]{1,64}, unique among destinations and sources; a
	// metric label. Required.
	Name string `yaml:"name"`
	// Type is "websocket" or "http_poll". Required.
	Type string `yaml:"type"`
	// URL is ws:// or wss:// (websocket), http:// or https:// (http_poll).
	// Required.
	URL string `yaml:"url"`
	// Protocol is the WebSocket's Sec-WebSocket-Protocol. "": none.
	Protocol string `yaml:"protocol"`
	// Topic is the topic the messages are published to. Required.
	Topic string `yaml:"topic"`
	// Method is the poll's method: GET or POST. "" (for http_poll): GET.
	Method string `yaml:"method"`
	// Headers are sent with each poll or the WebSocket upgrade. nil: none.
	Headers map[string]string `yaml:"headers"`
	// Interval is the time between polls. 0 (for http_poll): 30s.
	Interval Duration `yaml:"interval"`
	// Timeout bounds one poll or dial. 0: 10s.
	Timeout Duration `yaml:"timeout"`
	// MaxRedirects is how many redirects a poll follows; 0 follows none.
	// nil (for http_poll): 10.
	MaxRedirects *int `yaml:"max_redirects"`
	// Reconnect says how a WebSocket source waits before dialing again.
	// Zero: 100ms to 30s.
	Reconnect Backoff `yaml:"reconnect"`
	// TLS configures the client side of https:// and wss://. Zero: the
	// system roots, no client certificate.
	TLS ClientTLS `yaml:"tls"`
}

// pollOnly and sourceWebSocketOnly are the source keys that apply to one
// type only.
var (
	pollOnly            = []string{"method", "interval", "max_redirects"}
	sourceWebSocketOnly = []string{"protocol", "reconnect"}
)

// check validates the source under the key path p.
func (s *Source) check(k *checker, p string) {
	k.name(join(p, "name"), s.Name)
	switch s.Type {
	case TypeWebSocket:
		k.notFor(p, s.Type, pollOnly...)
		k.url(join(p, "url"), s.URL, "ws", "wss")
		k.tokenList(join(p, "protocol"), s.Protocol)
		checkBackoff(k, join(p, "reconnect"), s.Reconnect.InitialBackoff, s.Reconnect.MaxBackoff)
	case TypeHTTPPoll:
		k.notFor(p, s.Type, sourceWebSocketOnly...)
		k.url(join(p, "url"), s.URL, "http", "https")
		k.oneOf(join(p, "method"), s.Method, "GET", "POST")
		if *s.MaxRedirects < 0 {
			k.fail(join(p, "max_redirects"), "%d is negative; 0 follows no redirect", *s.MaxRedirects)
		}
	default:
		k.oneOf(join(p, "type"), s.Type, TypeWebSocket, TypeHTTPPoll)
	}
	k.topic(join(p, "topic"), s.Topic)
	k.headers(join(p, "headers"), s.Headers)
	s.TLS.check(k, join(p, "tls"))
}
