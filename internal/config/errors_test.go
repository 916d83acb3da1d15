package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// webhook is a valid configuration with one webhook destination, lines 1
// to 5, and extra appended as more keys of the destination from line 6.
func webhook(extra ...string) string {
	s := "destinations:\n  - name: hook\n    type: webhook\n    topics: [\"a.>\"]\n    url: https://example.com/in\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// websocket is like webhook with a websocket destination.
func websocket(extra ...string) string {
	s := "destinations:\n  - name: mirror\n    type: websocket\n    topics: [logs]\n    url: wss://example.com/\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// source is a valid configuration with one source of type typ and url u,
// lines 1 to 5, and extra appended from line 6.
func source(typ, u string, extra ...string) string {
	s := "sources:\n  - name: src\n    type: " + typ + "\n    url: " + u + "\n    topic: t\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// mergeBomb is a few hundred bytes of merge keys, each level merging the
// one below ten times, 10^7 mappings in all.
func mergeBomb() string {
	s := "&a0 {}"
	for i := 1; i <= 7; i++ {
		s = fmt.Sprintf("&a%d {<<: [%s%s]}", i, s, strings.Repeat(fmt.Sprintf(", *a%d", i-1), 9))
	}
	return "limits: " + s + "\n"
}

// badFiles are invalid configurations, each with the key path, line and
// reason of its error. {{dir}} stands for the directory of testFiles.
var badFiles = []struct {
	name, yaml, path string
	line             int
	reason           string
}{
	// YAML and structure
	{"syntax", "listen: :8080\ntopics: [\n", "", 2, "bad YAML: did not find expected node content"},
	{"tab", "listen:\n\t:8080\n", "", 2, "bad YAML: found character that cannot start any token"},
	{"two documents", "listen: :1\n---\nring_size: 2\n", "", 2, "a second YAML document"},
	{"bad second document", "listen: :1\n---\n[\n", "", 3, "bad YAML: did not find expected node content"},
	{"top-level list", "- listen\n", "", 1, `the file is a list, want a mapping of keys`},
	{"top-level scalar", "listen\n", "", 1, `the file is "listen", want a mapping`},
	{"unknown top-level key", "listen: :8080\nlistn: 8080\n", "listn", 2, "unknown key; the keys here are listen, ring_size, max_message_bytes"},
	{"key case", "Listen: :8080\n", "Listen", 1, "unknown key"},
	{"unknown nested key", webhook("retri: {max_attempts: 1}"), "destinations[0].retri", 6, "unknown key; the keys here are name, type, topics"},
	{"unknown deep key", webhook("retry: {max_attempts: 1, max_atempts: 2}"), "destinations[0].retry.max_atempts", 6, "unknown key; the keys here are max_attempts, initial_backoff, max_backoff"},
	{"unknown key with a dot", "engine:\n  redis.addrs: [a]\n", `engine["redis.addrs"]`, 2, "unknown key"},
	{"duplicate key", "listen: :1\nring_size: 2\nlisten: :2\n", "listen", 3, "given twice (first at line 1)"},
	{"duplicate key through an alias", "&k listen: :1\n*k : :2\n", "listen", 2, "given twice (first at line 1)"},
	{"list key", "? [a]\n: 1\n", "", 1, "a key is a list, want a plain name"},
	{"merge of a scalar", "limits:\n  <<: 5\n", "limits", 2, `a merge key (<<) takes a mapping or a list of mappings, not "5"`},
	{"merge cycle", "limits: &l\n  <<: *l\n", "limits", 1, "a merge key (<<) refers to a mapping that contains it"},
	{"merge bomb", mergeBomb(), "limits", 1, "too many values through aliases or merge keys"},

	// types
	{"string as list", "topics: audit\n", "topics", 1, `is "audit", want a list`},
	{"mapping as string", "listen: {port: 1}\n", "listen", 1, "is a mapping, want a string"},
	{"list as mapping", "engine: [memory]\n", "engine", 1, "is a list, want a mapping of keys"},
	{"string as int", "ring_size: big\n", "ring_size", 1, `"big" is not an integer`},
	{"long value", "ring_size: " + strings.Repeat("é", 40) + "\n", "ring_size", 1, `"` + strings.Repeat("é", 31) + `..." is not an integer`},
	{"quoted int", "ring_size: \"1024\"\n", "ring_size", 1, `"1024" is not an integer`},
	{"float as int", "limits:\n  max_topics: 1e6\n", "limits.max_topics", 2, `"1e6" is not an integer`},
	{"int out of range", "ring_size: 9223372036854775808\n", "ring_size", 1, `"9223372036854775808" is out of range`},
	{"yes as bool", "topics:\n  - match: a\n    allow_block: yes\n", "topics[0].allow_block", 3, `"yes" is not true or false`},
	{"bad pointer", webhook("check_on_start: maybe"), "destinations[0].check_on_start", 6, `"maybe" is not true or false`},
	{"duplicate header", webhook("headers: {A: 1, A: 2}"), "destinations[0].headers.A", 6, "given twice (first at line 6)"},
	{"list as map", webhook("headers: [a]"), "destinations[0].headers", 6, "is a list, want a mapping"},
	{"header value as list", webhook("headers: {X-A: [1]}"), "destinations[0].headers.X-A", 6, "is a list, want a string"},
	{"bad size", "max_message_bytes: 10KB\n", "max_message_bytes", 1, `"10KB" is not a size: write bytes (1048576) or a whole number with B, KiB, MiB or GiB`},
	{"size as list", "max_message_bytes: [1]\n", "max_message_bytes", 1, "is a list, want a size"},
	{"bad duration", webhook("retry: {max_backoff: 3x}"), "destinations[0].retry.max_backoff", 6, `"3x" is not a duration (like 250ms or 30s)`},
	{"duration without unit", "publish_timeout: 30\n", "publish_timeout", 1, "30 is not a duration: add a unit, like 30s or 30ms"},
	{"negative duration", "drain_timeout: -1s\n", "drain_timeout", 1, `"-1s" is negative`},

	// top level
	{"bad listen", "listen: localhost:8080\n", "listen", 1, `"localhost:8080" is not PORT, :PORT or IP:PORT`},
	{"bad port", "listen: 70000\n", "listen", 1, "is not PORT, :PORT or IP:PORT"},
	{"ring_size not a power of two", "ring_size: 1000\n", "ring_size", 1, "1000 is not a power of two from 2 to 1073741824"},
	{"ring_size 1", "ring_size: 1\n", "ring_size", 1, "1 is not a power of two"},
	{"ring_size negative", "ring_size: -4\n", "ring_size", 1, "-4 is not a power of two"},
	{"ring_size huge", "ring_size: 2147483648\n", "ring_size", 1, "is not a power of two from 2 to 1073741824"},
	{"missing document_root", "document_root: {{dir}}/nope\n", "document_root", 1, "no such file or directory"},
	{"document_root a file", "document_root: {{dir}}/secret.txt\n", "document_root", 1, "is not a directory"},

	// topics
	{"bad topic pattern", "topics:\n  - match: \"a.>.b\"\n", "topics[0].match", 2, `">" may only be the last level`},
	{"bad topic byte", "topics:\n  - match: \"a b\"\n", "topics[0].match", 2, "byte ' ' at offset 1"},
	{"missing match", "topics:\n  - ring_size: 2\n", "topics[0].match", 2, "empty topic pattern"},
	{"duplicate match", "topics:\n  - match: a.>\n  - match: b\n  - match: a.>\n", "topics[2].match", 4, `"a.>" is also the match of topics[0], which wins`},
	{"topic ring_size", "topics:\n  - match: a\n    ring_size: 3\n", "topics[0].ring_size", 3, "3 is not a power of two"},

	// destinations
	{"missing name", "destinations:\n  - type: webhook\n    topics: [a]\n    url: http://x/\n", "destinations[0].name", 2, "missing: want a name of a-z, 0-9 and -"},
	{"bad name", strings.Replace(webhook(), "hook", "Hook_1", 1), "destinations[0].name", 2, `"Hook_1" is not 1 to 64 of a-z, 0-9 and -`},
	{"long name", strings.Replace(webhook(), "hook", strings.Repeat("h", 65), 1), "destinations[0].name", 2, "is not 1 to 64"},
	{"duplicate name", webhook() + "  - name: hook\n    type: websocket\n    topics: [b]\n    url: ws://x/\n", "destinations[1].name", 6, `"hook" is already the name of destinations[0]`},
	{"name of a source", webhook() + "sources:\n  - name: hook\n    type: http_poll\n    url: http://x/\n    topic: t\n", "sources[0].name", 7, `"hook" is already the name of destinations[0]`},
	{"missing type", "destinations:\n  - name: a\n    topics: [a]\n    url: http://x/\n", "destinations[0].type", 2, "missing: want one of webhook, websocket"},
	{"bad type", strings.Replace(webhook(), "type: webhook", "type: email", 1), "destinations[0].type", 3, `"email" is not one of webhook, websocket`},
	{"missing topics", strings.Replace(webhook(), "topics: [\"a.>\"]", "topics: []", 1), "destinations[0].topics", 4, "missing: list the topic patterns"},
	{"bad destination topic", strings.Replace(webhook(), "topics: [\"a.>\"]", "topics: [a, \"a..b\"]", 1), "destinations[0].topics[1]", 4, "empty level"},
	{"bad template variable", webhook("template: \"$FOO\""), "destinations[0].template", 6, "unknown variable $FOO at offset 0; known: $MSG $TOPIC"},
	{"bad template dollar", websocket("template: \"cost: 5$\""), "destinations[0].template", 6, `"$" at offset 7 ends the template`},
	{"missing url", "destinations:\n  - name: a\n    type: webhook\n    topics: [a]\n", "destinations[0].url", 2, "missing: want a http:// or https:// URL"},
	{"bad url scheme", strings.Replace(webhook(), "https://example.com/in", "ftp://example.com/in", 1), "destinations[0].url", 5, `"ftp://example.com/in": the scheme must be http:// or https://`},
	{"websocket url scheme", strings.Replace(websocket(), "wss://", "https://", 1), "destinations[0].url", 5, "the scheme must be ws:// or wss://"},
	{"url without host", strings.Replace(webhook(), "https://example.com/in", "https:///in", 1), "destinations[0].url", 5, "has no host"},
	{"bad url", strings.Replace(webhook(), "https://example.com/in", "\"http://[::1\"", 1), "destinations[0].url", 5, "is not a URL"},
	{"bad method", webhook("method: GET"), "destinations[0].method", 6, `"GET" is not one of POST, PUT, PATCH, DELETE`},
	{"bad from", webhook("from: newest"), "destinations[0].from", 6, `"newest" is not one of latest, oldest`},
	{"bad policy", webhook("policy: disconnect"), "destinations[0].policy", 6, `"disconnect" is not one of block, drop-oldest`},
	{"bad status code", webhook("success_on: [200, 99]"), "destinations[0].success_on[1]", 6, "99 is not an HTTP status code (100 to 599)"},
	{"bad drop_on code", webhook("drop_on:", "  - 600"), "destinations[0].drop_on[0]", 7, "600 is not an HTTP status code"},
	{"success in default drop_on", webhook("success_on: [200, 404]"), "destinations[0].success_on", 6, "404 is in drop_on too, which defaults to [400 401 403 404 410 413 422]; set drop_on"},
	{"success in drop_on", webhook("success_on: [200]", "drop_on: [200]"), "destinations[0].success_on", 6, "200 is in drop_on too"},
	{"max_in_flight", webhook("max_in_flight: -1"), "destinations[0].max_in_flight", 6, "-1 is less than 1"},
	{"max_redirects", webhook("max_redirects: -1"), "destinations[0].max_redirects", 6, "-1 is negative; 0 follows no redirect"},
	{"max_attempts", webhook("retry:", "  max_attempts: -1"), "destinations[0].retry.max_attempts", 7, "-1 is negative; 0 retries forever"},
	{"backoffs", webhook("retry: {initial_backoff: 1m}"), "destinations[0].retry.initial_backoff", 6, "1m0s is more than max_backoff (30s)"},
	{"reconnect backoffs", websocket("reconnect: {initial_backoff: 2s, max_backoff: 1s}"), "destinations[0].reconnect.initial_backoff", 6, "2s is more than max_backoff (1s)"},
	{"bad dead_letter", webhook("dead_letter: \"dead letters\""), "destinations[0].dead_letter", 6, `"dead letters": broker: bad topic name`},
	{"dead_letter loop", webhook("dead_letter: a.dlq"), "destinations[0].dead_letter", 6, `"a.dlq" matches this destination's topic "a.>"`},
	{"websocket key on webhook", webhook("ping_interval: 5s"), "destinations[0].ping_interval", 6, "does not apply to type webhook"},
	{"webhook key on websocket", websocket("method: POST"), "destinations[0].method", 6, "does not apply to type websocket"},
	{"bad header name", webhook("headers: {\"Bad Name\": x}"), `destinations[0].headers["Bad Name"]`, 6, `"Bad Name" is not a header name`},
	{"empty header name", webhook("headers: {\"\": x}"), `destinations[0].headers[""]`, 6, `"" is not a header name`},
	{"bad header value", webhook("headers: {X-A: \"a\\r\\nX-B: b\"}"), "destinations[0].headers.X-A", 6, "the value holds a line break or NUL"},
	{"bad protocol", websocket("protocol: \"a b\""), "destinations[0].protocol", 6, `"a b" is not a comma-separated list of protocol names`},
	{"missing cert file", webhook("tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}"), "destinations[0].tls.cert_file", 6, "no such file or directory"},
	{"cert without key", webhook("tls:", "  cert_file: {{dir}}/cert.pem"), "destinations[0].tls.key_file", 6, "missing: cert_file needs its key_file"},
	{"key without cert", webhook("tls: {key_file: {{dir}}/key.pem}"), "destinations[0].tls.cert_file", 6, "missing: key_file needs its cert_file"},
	{"mismatched key", webhook("tls: {cert_file: {{dir}}/cert.pem, key_file: {{dir}}/other-key.pem}"), "destinations[0].tls.cert_file", 6, "are not a certificate and its key"},
	{"ca not PEM", webhook("tls: {ca_file: {{dir}}/garbage.pem}"), "destinations[0].tls.ca_file", 6, "garbage.pem holds no PEM certificate"},
	{"ca too large", webhook("tls: {ca_file: {{dir}}/big.pem}"), "destinations[0].tls.ca_file", 6, "big.pem is larger than 1048576 bytes"},
	{"ca a directory", webhook("tls: {ca_file: {{dir}}}"), "destinations[0].tls.ca_file", 6, "is not a regular file"},
	{"destination timeout without unit", webhook("timeout: 10"), "destinations[0].timeout", 6, "10 is not a duration: add a unit"},
	{"negative ping_interval", websocket("ping_interval: -5s"), "destinations[0].ping_interval", 6, `"-5s" is negative`},
	{"tls bad bool", webhook("tls: {insecure_skip_verify: maybe}"), "destinations[0].tls.insecure_skip_verify", 6, `"maybe" is not true or false`},
	{"max_in_flight as text", webhook("max_in_flight: many"), "destinations[0].max_in_flight", 6, `"many" is not an integer`},
	{"success_on as scalar", webhook("success_on: 200"), "destinations[0].success_on", 6, `is "200", want a list`},
	{"topics as scalar", strings.Replace(webhook(), "topics: [\"a.>\"]", "topics: a.b", 1), "destinations[0].topics", 4, `is "a.b", want a list`},
	{"missing destination url for websocket", strings.Replace(websocket(), "url: wss://example.com/", "protocol: p", 1), "destinations[0].url", 2, "missing: want a ws:// or wss:// URL"},
	{"check_on_start on websocket", websocket("check_on_start: true"), "destinations[0].check_on_start", 6, "does not apply to type websocket"},
	{"drop_on on websocket", websocket("drop_on: [404]"), "destinations[0].drop_on", 6, "does not apply to type websocket"},
	{"dead_letter exact loop", strings.Replace(webhook("dead_letter: dead"), "topics: [\"a.>\"]", "topics: [\"dead\"]", 1), "destinations[0].dead_letter", 6, `"dead" matches this destination's topic "dead"`},

	// sources
	{"bad source type", source("kafka", "http://x/"), "sources[0].type", 3, `"kafka" is not one of websocket, http_poll`},
	{"poll url scheme", source("http_poll", "ws://x/"), "sources[0].url", 4, "the scheme must be http:// or https://"},
	{"websocket source url scheme", source("websocket", "http://x/"), "sources[0].url", 4, "the scheme must be ws:// or wss://"},
	{"missing source topic", "sources:\n  - name: src\n    type: http_poll\n    url: http://x/\n", "sources[0].topic", 2, "missing: want a topic name"},
	{"bad source topic", strings.Replace(source("http_poll", "http://x/"), "topic: t", "topic: \"a/b\"", 1), "sources[0].topic", 5, "broker: bad topic name"},
	{"bad source method", source("http_poll", "http://x/", "method: PUT"), "sources[0].method", 6, `"PUT" is not one of GET, POST`},
	{"interval on websocket source", source("websocket", "ws://x/", "interval: 1s"), "sources[0].interval", 6, "does not apply to type websocket"},
	{"reconnect on poll", source("http_poll", "http://x/", "reconnect: {max_backoff: 1s}"), "sources[0].reconnect", 6, "does not apply to type http_poll"},
	{"source max_redirects", source("http_poll", "http://x/", "max_redirects: -2"), "sources[0].max_redirects", 6, "-2 is negative"},
	{"source tls", source("websocket", "wss://x/", "tls: {cert_file: {{dir}}/nope.pem, key_file: {{dir}}/key.pem}"), "sources[0].tls.cert_file", 6, "nope.pem: no such file or directory"},
	{"missing source name", strings.Replace(source("http_poll", "http://x/"), "name: src", "interval: 1s", 1), "sources[0].name", 2, "missing: want a name of a-z, 0-9 and -"},
	{"bad source name", strings.Replace(source("http_poll", "http://x/"), "name: src", "name: Src!", 1), "sources[0].name", 2, `"Src!" is not 1 to 64 of a-z, 0-9 and -`},
	{"missing source type", strings.Replace(source("http_poll", "http://x/"), "type: http_poll", "headers: {}", 1), "sources[0].type", 2, "missing: want one of websocket, http_poll"},
	{"missing source url", strings.Replace(source("websocket", "ws://x/"), "url: ws://x/", "protocol: p", 1), "sources[0].url", 2, "missing: want a ws:// or wss:// URL"},
	{"source url without host", source("http_poll", "http:///status"), "sources[0].url", 4, "has no host"},
	{"bad source protocol", source("websocket", "ws://x/", "protocol: \"a;b\""), "sources[0].protocol", 6, `"a;b" is not a comma-separated list of protocol names`},
	{"protocol on poll", source("http_poll", "http://x/", "protocol: p"), "sources[0].protocol", 6, "does not apply to type http_poll"},
	{"bad source header", source("http_poll", "http://x/", "headers: {\"X Y\": z}"), `sources[0].headers["X Y"]`, 6, `"X Y" is not a header name`},
	{"source header value", source("websocket", "ws://x/", "headers: {X-A: \"a\\nb\"}"), "sources[0].headers.X-A", 6, "the value holds a line break or NUL"},
	{"poll interval without unit", source("http_poll", "http://x/", "interval: 30"), "sources[0].interval", 6, "30 is not a duration: add a unit"},
	{"source timeout", source("http_poll", "http://x/", "timeout: soon"), "sources[0].timeout", 6, `"soon" is not a duration`},
	{"source reconnect backoffs", source("websocket", "ws://x/", "reconnect: {initial_backoff: 1m}"), "sources[0].reconnect.initial_backoff", 6, "1m0s is more than max_backoff (30s)"},
	{"source ca not PEM", source("http_poll", "https://x/", "tls: {ca_file: {{dir}}/garbage.pem}"), "sources[0].tls.ca_file", 6, "garbage.pem holds no PEM certificate"},
	{"source tls bad bool", source("websocket", "wss://x/", "tls: {allow_self_signed: sure}"), "sources[0].tls.allow_self_signed", 6, `"sure" is not true or false`},
	{"unknown source key", source("http_poll", "http://x/", "intervall: 1s"), "sources[0].intervall", 6, "unknown key"},

	// engine
	{"bad engine type", "engine: {type: sql}\n", "engine.type", 1, `"sql" is not one of memory, redis`},
	{"redis without addrs", "engine:\n  type: redis\n", "engine.redis.addrs", 1, "missing: type redis needs at least one host:port"},
	{"bad redis addr", "engine:\n  redis:\n    addrs: [\"127.0.0.1:6379\", localhost]\n", "engine.redis.addrs[1]", 3, `"localhost" is not host:port`},
	{"redis history_size", "engine:\n  redis: {history_size: -1}\n", "engine.redis.history_size", 2, "-1 is negative"},
	{"redis password_file missing", "engine:\n  redis: {password_file: {{dir}}/nope}\n", "engine.redis.password_file", 2, "no such file or directory"},
	{"redis password_file empty", "engine:\n  redis: {password_file: {{dir}}/empty.txt}\n", "engine.redis.password_file", 2, "empty.txt is empty"},

	// server tls, acl, proxies, auth, limits
	{"server key without cert", "tls: {key_file: {{dir}}/key.pem}\n", "tls.cert_file", 1, "missing: key_file needs its cert_file"},
	{"server cert garbage", "tls: {cert_file: {{dir}}/garbage.pem, key_file: {{dir}}/key.pem}\n", "tls.cert_file", 1, "are not a certificate and its key"},
	{"acl without sign", "acl: \"10.0.0.1\"\n", "acl", 1, `entry "10.0.0.1" starts with neither + (allow) nor - (deny)`},
	{"acl bad cidr", "acl: \"+10.0.0.0/8,-10.0.0.0/33\"\n", "acl", 1, `entry "-10.0.0.0/33": "10.0.0.0/33" is not a CIDR`},
	{"acl empty entry", "acl: \"+10.0.0.0/8,,\"\n", "acl", 1, "entry 2 is empty"},
	{"bad trusted proxy", "trusted_proxies: [10.0.0.0/8, proxy]\n", "trusted_proxies[1]", 1, `"proxy" is neither an IP address nor a CIDR`},
	{"empty auth", "auth: {}\n", "auth", 1, "has neither tokens nor jwt"},
	{"bad token hash", "auth:\n  tokens:\n    - token_sha256: abc\n      publish: [a]\n", "auth.tokens[0].token_sha256", 3, `"abc" is not a SHA-256 in hex`},
	{"token hash not hex", "auth:\n  tokens:\n    - token_sha256: " + strings.Repeat("g", 64) + "\n      publish: [a]\n", "auth.tokens[0].token_sha256", 3, "is not a SHA-256 in hex"},
	{"duplicate token", "auth:\n  tokens:\n    - {token_sha256: " + strings.Repeat("ab", 32) + ", publish: [a]}\n    - {token_sha256: " + strings.Repeat("AB", 32) + ", subscribe: [a]}\n", "auth.tokens[1].token_sha256", 4, "the same token as tokens[0]"},
	{"token grants nothing", "auth:\n  tokens:\n    - token_sha256: " + strings.Repeat("ab", 32) + "\n", "auth.tokens[0]", 3, "grants nothing"},
	{"bad publish pattern", "auth:\n  tokens:\n    - token_sha256: " + strings.Repeat("ab", 32) + "\n      publish: [\">.a\"]\n", "auth.tokens[0].publish[0]", 4, `">" may only be the last level`},
	{"bad subscribe pattern", "auth:\n  tokens:\n    - token_sha256: " + strings.Repeat("ab", 32) + "\n      subscribe: [a, \"\"]\n", "auth.tokens[0].subscribe[1]", 4, "empty topic pattern"},
	{"jwt secret missing", "auth:\n  jwt:\n    hmac_secret_file: {{dir}}/nope\n", "auth.jwt.hmac_secret_file", 3, "no such file or directory"},
	{"jwt key empty", "auth:\n  jwt: {rsa_public_key_file: {{dir}}/empty.txt}\n", "auth.jwt.rsa_public_key_file", 2, "is empty"},
	{"negative limit", "limits:\n  max_connections: -1\n", "limits.max_connections", 2, "-1 is negative"},
	{"negative rate", "limits: {publish_rate_per_ip: -5}\n", "limits.publish_rate_per_ip", 1, "-5 is negative"},
	{"negative read timeout", "limits: {read_timeout: -1s}\n", "limits.read_timeout", 1, `"-1s" is negative`},
	{"negative write timeout", "limits:\n  write_timeout: -5ms\n", "limits.write_timeout", 2, `"-5ms" is negative`},
	{"negative idle timeout", "limits: {idle_timeout: -1m}\n", "limits.idle_timeout", 1, `"-1m" is negative`},
	{"tiny header limit", "limits: {max_header_bytes: 100}\n", "limits.max_header_bytes", 1, "100 is less than 1024 bytes"},
	{"header limit not a size", "limits: {max_header_bytes: 8KB}\n", "limits.max_header_bytes", 1, "8KB"},
	{"negative ready connections", "limits: {ready_max_connections: -1}\n", "limits.ready_max_connections", 1, "-1 is negative"},
}

func TestParseErrors(t *testing.T) {
	dir := testFiles(t)
	for _, c := range badFiles {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("ringcast.yaml", inDir(c.yaml, dir))
			if err == nil {
				t.Fatalf("parsed:\n%s\nto %+v, want an error", c.yaml, cfg)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.File != "ringcast.yaml" || e.Path != c.path || e.Line != c.line || !strings.Contains(e.Err.Error(), c.reason) {
				t.Errorf("error %q\nwant path %q, line %d, reason %q", err, c.path, c.line, c.reason)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse("ringcast.yaml", []byte(webhook("retry: {max_backoff: 3x}")))
	if want := `ringcast.yaml:6: destinations[0].retry.max_backoff: "3x" is not a duration (like 250ms or 30s)`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Err: errors.New("why")}, "f.yaml: why"},
		{Error{File: "f.yaml", Line: 3, Err: errors.New("why")}, "f.yaml:3: why"},
		{Error{Path: "topics[0].match", Err: errors.New("why")}, "topics[0].match: why"},
		{Error{Err: errors.New("why")}, "why"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestParent(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"listen":                    "",
		"destinations[1]":           "destinations",
		"destinations[1].retry":     "destinations[1]",
		`a.headers["X.Y[0]"]`:       "a.headers",
		`destinations[0].headers.X`: "destinations[0].headers",
	} {
		if got := parent(in); got != want {
			t.Errorf("parent(%q) = %q, want %q", in, got, want)
		}
	}
}
