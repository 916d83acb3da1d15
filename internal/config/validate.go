package config

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/ringcast/ringcast/broker"
)

// maxFileBytes bounds the files the configuration names (certificates,
// keys, secrets).
const maxFileBytes = 1 << 20

// checker validates a decoded Config and keeps the first error, which
// names the file, the key path and its line.
type checker struct {
	file  string
	lines map[string]int // key path → line, from the decoder
	err   error
}

// validate checks every value of the Config, defaults filled in.
func (c *Config) validate(k *checker) {
	if _, err := ParseListen(c.Listen); err != nil {
		k.fail("listen", "%v", err)
	}
	k.ringSize("ring_size", c.RingSize)
	if c.DocumentRoot != "" {
		if fi, err := os.Stat(c.DocumentRoot); err != nil {
			k.fail("document_root", "%v", err)
		} else if !fi.IsDir() {
			k.fail("document_root", "%s is not a directory", c.DocumentRoot)
		}
	}
	checkTopics(k, c.Topics)
	names := map[string]string{} // destination or source name → key path of the first with it
	for i := range c.Destinations {
		p := index("destinations", i)
		c.Destinations[i].check(k, p)
		k.unique(names, p, c.Destinations[i].Name)
	}
	for i := range c.Sources {
		p := index("sources", i)
		c.Sources[i].check(k, p)
		k.unique(names, p, c.Sources[i].Name)
	}
	c.Engine.check(k, "engine")
	c.TLS.check(k, "tls")
	if _, err := ParseACL(c.ACL); err != nil {
		k.fail("acl", "%v", err)
	}
	for i, s := range c.TrustedProxies {
		if _, err := ParseNet(s); err != nil {
			k.fail(index("trusted_proxies", i), "%v", err)
		}
	}
	if c.Auth != nil {
		c.Auth.check(k, "auth")
	}
	c.Limits.check(k, "limits")
}

// fail records an error at the key path p unless one is recorded already.
func (k *checker) fail(p, format string, args ...any) {
	if k.err == nil {
		k.err = &Error{File: k.file, Line: k.line(p), Path: p, Err: fmt.Errorf(format, args...)}
	}
}

// line returns the line of the key path p or, when the file does not
// have it, of the nearest key above it that it has; 0 if none.
func (k *checker) line(p string) int {
	for ; p != ""; p = parent(p) {
		if l, ok := k.lines[p]; ok {
			return l
		}
	}
	return 0
}

// present reports whether the file has the key path p.
func (k *checker) present(p string) bool {
	_, ok := k.lines[p]
	return ok
}

// notFor fails for each of keys under p that the file sets, as they do not
// apply to type typ.
func (k *checker) notFor(p, typ string, keys ...string) {
	for _, key := range keys {
		if k.present(join(p, key)) {
			k.fail(join(p, key), "does not apply to type %s", typ)
		}
	}
}

// unique checks that name is not already in names, the names of the items
// seen so far, and adds it with the key path p of its item.
func (k *checker) unique(names map[string]string, p, name string) {
	if first, dup := names[name]; dup {
		k.fail(join(p, "name"), "%q is already the name of %s", name, first)
		return
	}
	names[name] = p
}

// oneOf checks that v is one of allowed.
func (k *checker) oneOf(p, v string, allowed ...string) {
	switch {
	case slices.Contains(allowed, v):
	case v == "":
		k.fail(p, "missing: want one of %s", strings.Join(allowed, ", "))
	default:
		k.fail(p, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// name checks a destination or source name: [a-z0-9-]{1,64}.
func (k *checker) name(p, s string) {
	if s == "" {
		k.fail(p, "missing: want a name of a-z, 0-9 and -")
		return
	}
	if len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		k.fail(p, "%q is not 1 to 64 of a-z, 0-9 and -", s)
	}
}

// ringSize checks a ring size: a power of two from 2 to 2^30.
func (k *checker) ringSize(p string, n int) {
	if n < 2 || n&(n-1) != 0 || n > maxRingSize {
		k.fail(p, "%d is not a power of two from 2 to %d (like 65536)", n, maxRingSize)
	}
}

// pattern checks a topic pattern.
func (k *checker) pattern(p, s string) {
	if _, err := broker.ParsePattern(s); err != nil {
		k.fail(p, "%v", err)
	}
}

// topic checks a topic name.
func (k *checker) topic(p, s string) {
	if s == "" {
		k.fail(p, "missing: want a topic name")
	} else if err := broker.ValidateTopic(s); err != nil {
		k.fail(p, "%q: %v", s, err)
	}
}

// url checks that s is an absolute URL with a host and one of schemes.
func (k *checker) url(p, s string, schemes ...string) {
	if s == "" {
		k.fail(p, "missing: want a %s:// URL", strings.Join(schemes, ":// or "))
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		k.fail(p, "%q is not a URL", s)
	case !slices.Contains(schemes, u.Scheme):
		k.fail(p, "%q: the scheme must be %s://", s, strings.Join(schemes, ":// or "))
	case u.Host == "":
		k.fail(p, "%q has no host", s)
	}
}

// statuses checks HTTP status codes.
func (k *checker) statuses(p string, codes []int) {
	for i, c := range codes {
		if c < 100 || c > 599 {
			k.fail(index(p, i), "%d is not an HTTP status code (100 to 599)", c)
		}
	}
}

// headers checks header names and values.
func (k *checker) headers(p string, h map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if !isToken(name) {
			k.fail(join(p, name), "%q is not a header name", name)
		} else if strings.ContainsAny(h[name], "\r\n\x00") {
			k.fail(join(p, name), "the value holds a line break or NUL")
		}
	}
}

// tokenList checks a comma-separated list of HTTP tokens, like a
// Sec-WebSocket-Protocol value; "" is an empty list.
func (k *checker) tokenList(p, s string) {
	if s == "" {
		return
	}
	for t := range strings.SplitSeq(s, ",") {
		if !isToken(strings.TrimSpace(t)) {
			k.fail(p, "%q is not a comma-separated list of protocol names", s)
			return
		}
	}
}

// readFile reads the regular file name for the key path p, failing when it
// cannot.
func (k *checker) readFile(p, name string) ([]byte, bool) {
	fi, err := os.Stat(name)
	if err != nil {
		k.fail(p, "%v", err)
		return nil, false
	}
	if !fi.Mode().IsRegular() {
		k.fail(p, "%s is not a regular file", name)
		return nil, false
	}
	f, err := os.Open(name)
	if err != nil {
		k.fail(p, "%v", err)
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		k.fail(p, "cannot read %s: %v", name, err)
		return nil, false
	}
	if len(data) > maxFileBytes {
		k.fail(p, "%s is larger than %d bytes", name, maxFileBytes)
		return nil, false
	}
	return data, true
}

// secret checks that the file name for the key path p is readable and not
// blank.
func (k *checker) secret(p, name string) {
	if data, ok := k.readFile(p, name); ok && strings.TrimSpace(string(data)) == "" {
		k.fail(p, "%s is empty", name)
	}
}

// isToken reports whether s is an HTTP token (RFC 9110), as header names
// and WebSocket protocol names are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
