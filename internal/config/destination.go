package config

import (
	"slices"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress/template"
)

// Destination types.
const (
	TypeWebhook   = "webhook"   // POST each message to a URL
	TypeWebSocket = "websocket" // dial a WebSocket server and push (destination) or read (source) frames
)

// Destination is a subscriber actor that pushes the messages of its topics
// to a webhook or to a WebSocket server it dials, with its own cursor.
type Destination struct {
	// Name is [a-z0-9-]{1,64}, unique among destinations and sources; a
	// metric label. Required.
	Name string `yaml:"name"`
	// Type is "webhook" or "websocket". Required.
	Type string `yaml:"type"`
	// Topics are the topic patterns delivered. Required.
	Topics []string `yaml:"topics"`
	// From is where delivery starts the first time: "latest" or "oldest".
	// "": "latest".
	From string `yaml:"from"`
	// Policy is what happens when the destination falls behind by a whole
	// ring: "block" or "drop-oldest". "": "block".
	Policy string `yaml:"policy"`
	// URL is http:// or https:// (webhook), ws:// or wss:// (websocket).
	// Required.
	URL string `yaml:"url"`
	// Method is the webhook's method: POST, PUT, PATCH or DELETE. "" (for
	// a webhook): POST.
	Method string `yaml:"method"`
	// Headers are sent with each request or the WebSocket upgrade;
	// User-Agent defaults to ringcast/<version>. nil: none.
	Headers map[string]string `yaml:"headers"`
	// Template renders the body or frame (see egress/template). "": the
	// payload as is.
	Template string `yaml:"template"`
	// Timeout bounds one request, dial or write. 0: 10s.
	Timeout Duration `yaml:"timeout"`
	// CheckOnStart makes a webhook HEAD its URL at start; a failure is
	// logged and shows the destination down, delivery still retries. nil
	// (for a webhook): true.
	CheckOnStart *bool `yaml:"check_on_start"`
	// MaxRedirects is how many redirects a webhook follows; 0 follows none.
	// nil (for a webhook): 10.
	MaxRedirects *int `yaml:"max_redirects"`
	// MaxInFlight is how many webhook requests may run at once; over 1 the
	// order is not kept. 0 (for a webhook): 1.
	MaxInFlight int `yaml:"max_in_flight"`
	// SuccessOn are the webhook status codes that mean delivered. nil or
	// empty: any 2xx.
	SuccessOn []int `yaml:"success_on"`
	// DropOn are the webhook status codes that dead-letter a message at
	// once, without retry; an empty list drops on none. nil (for a
	// webhook): 400, 401, 403, 404, 410, 413, 422.
	DropOn []int `yaml:"drop_on"`
	// Retry says how failed deliveries are retried. Zero: forever, backoff
	// 100ms to 30s.
	Retry Retry `yaml:"retry"`
	// DeadLetter is the topic dropped and exhausted messages go to. "":
	// "<topic>.dlq".
	DeadLetter string `yaml:"dead_letter"`
	// TLS configures the client side of https:// and wss://. Zero: the
	// system roots, no client certificate.
	TLS ClientTLS `yaml:"tls"`
	// Protocol is the WebSocket's Sec-WebSocket-Protocol. "": none.
	Protocol string `yaml:"protocol"`
	// PingInterval is how often a WebSocket destination pings. 0 (for a
	// websocket): 20s.
	PingInterval Duration `yaml:"ping_interval"`
	// Reconnect says how a WebSocket destination waits before dialing
	// again; it resumes after the last seq it delivered. Zero: 100ms to 30s.
	Reconnect Backoff `yaml:"reconnect"`
}

// defaultDropOn is Destination.DropOn's default.
var defaultDropOn = []int{400, 401, 403, 404, 410, 413, 422}

// webhookOnly and webSocketOnly are the destination keys that apply to one
// type only.
var (
	webhookOnly   = []string{"method", "check_on_start", "max_redirects", "max_in_flight", "success_on", "drop_on"}
	webSocketOnly = []string{"protocol", "ping_interval", "reconnect"}
)

// check validates the destination under the key path p.
func (d *Destination) check(k *checker, p string) {
	k.name(join(p, "name"), d.Name)
	switch d.Type {
	case TypeWebhook:
		k.notFor(p, d.Type, webSocketOnly...)
		k.url(join(p, "url"), d.URL, "http", "https")
		k.oneOf(join(p, "method"), d.Method, "POST", "PUT", "PATCH", "DELETE")
		if *d.MaxRedirects < 0 {
			k.fail(join(p, "max_redirects"), "%d is negative; 0 follows no redirect", *d.MaxRedirects)
		}
		if d.MaxInFlight < 1 {
			k.fail(join(p, "max_in_flight"), "%d is less than 1", d.MaxInFlight)
		}
		k.statuses(join(p, "success_on"), d.SuccessOn)
		k.statuses(join(p, "drop_on"), d.DropOn)
		for _, code := range d.SuccessOn {
			if !slices.Contains(d.DropOn, code) {
				continue
			}
			if k.present(join(p, "drop_on")) {
				k.fail(join(p, "success_on"), "%d is in drop_on too", code)
			} else {
				k.fail(join(p, "success_on"), "%d is in drop_on too, which defaults to %v; set drop_on", code, defaultDropOn)
			}
		}
	case TypeWebSocket:
		k.notFor(p, d.Type, webhookOnly...)
		k.url(join(p, "url"), d.URL, "ws", "wss")
		k.tokenList(join(p, "protocol"), d.Protocol)
		checkBackoff(k, join(p, "reconnect"), d.Reconnect.InitialBackoff, d.Reconnect.MaxBackoff)
	default:
		k.oneOf(join(p, "type"), d.Type, TypeWebhook, TypeWebSocket)
	}
	if len(d.Topics) == 0 {
		k.fail(join(p, "topics"), "missing: list the topic patterns to deliver, like [\"orders.>\"]")
	}
	for i, t := range d.Topics {
		k.pattern(index(join(p, "topics"), i), t)
	}
	k.oneOf(join(p, "from"), d.From, "latest", "oldest")
	k.oneOf(join(p, "policy"), d.Policy, "block", "drop-oldest")
	k.headers(join(p, "headers"), d.Headers)
	if _, err := template.Compile(d.Template); err != nil {
		k.fail(join(p, "template"), "%v", err)
	}
	if d.Retry.MaxAttempts < 0 {
		k.fail(join(p, "retry", "max_attempts"), "%d is negative; 0 retries forever", d.Retry.MaxAttempts)
	}
	checkBackoff(k, join(p, "retry"), d.Retry.InitialBackoff, d.Retry.MaxBackoff)
	if d.DeadLetter != "" {
		k.topic(join(p, "dead_letter"), d.DeadLetter)
		for _, t := range d.Topics {
			if pat, err := broker.ParsePattern(t); err == nil && pat.Match(d.DeadLetter) {
				k.fail(join(p, "dead_letter"), "%q matches this destination's topic %q: dead letters would come back to it", d.DeadLetter, t)
			}
		}
	}
	d.TLS.check(k, join(p, "tls"))
}
