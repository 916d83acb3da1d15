package deploy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/redistest"
)

// Loopback addresses with a role. Linux answers on all of 127/8, so a
// client can pick its source address and the instances can tell clients
// apart from HAProxy (which connects from 127.0.0.1).
const (
	clientIP = "127.0.0.2" // a client the ACL allows
	deniedIP = "127.0.0.3" // a client the ACL denies
	probeIP  = "127.0.0.4" // the test's own direct probes of an instance: not a trusted proxy
	proxyIP  = "127.0.0.1" // HAProxy's and nginx's source address towards the instances
)

// drainTimeout is the instances' drain_timeout unless instanceOpts says
// otherwise: they tell drained subscribers to come back within half of it.
const drainTimeout = 4 * time.Second

// instanceOpts configures the instances of a cluster.
type instanceOpts struct {
	acl            string // the acl key, "" for none
	trustedProxies bool   // trust proxyIP (PROXY protocol and X-Forwarded-For)
	redis          string // the redis engine's address, "" for the memory engine
	readyMaxConns  int    // limits.ready_max_connections, 0 for none
	drainTimeout   time.Duration
	tls            *testCert // the instances serve TLS themselves with it; nil: plain HTTP
}

// instance is one ringcast process.
type instance struct {
	name  string
	addr  string // 127.0.0.1:port
	base  string // http://addr, or https://addr when it serves TLS itself
	probe *http.Client
	p     *proc
}

// startInstances starts n ringcast processes and waits until each answers
// /readyz with 200.
func startInstances(t *testing.T, n int, o instanceOpts) []*instance {
	t.Helper()
	bin := ringcastBinary(t)
	if o.drainTimeout == 0 {
		o.drainTimeout = drainTimeout
	}
	dir := t.TempDir()
	var out []*instance
	for i := 1; i <= n; i++ {
		in := &instance{name: fmt.Sprintf("ringcast%d", i), addr: hostPort(freePort(t)), probe: probe}
		in.base = "http://" + in.addr
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "listen: %q\ndrain_timeout: %s\n", in.addr, o.drainTimeout)
		if o.tls != nil {
			in.base = "https://" + in.addr
			in.probe = newHTTPSClient(probeIP, o.tls)
			fmt.Fprintf(&cfg, "tls: {cert_file: %q, key_file: %q}\n", o.tls.certFile, o.tls.keyFile)
		}
		if o.acl != "" {
			fmt.Fprintf(&cfg, "acl: %q\n", o.acl)
		}
		if o.trustedProxies {
			fmt.Fprintf(&cfg, "trusted_proxies: [%q]\n", proxyIP+"/32")
		}
		if o.readyMaxConns != 0 {
			fmt.Fprintf(&cfg, "limits: {ready_max_connections: %d}\n", o.readyMaxConns)
		}
		if o.redis != "" {
			fmt.Fprintf(&cfg, "engine:\n  type: redis\n  redis:\n    addrs: [%q]\n", o.redis)
		}
		path := filepath.Join(dir, in.name+".yaml")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		in.p = startProc(t, in.name, bin, "serve", "--config", path)
		out = append(out, in)
	}
	for _, in := range out {
		in.waitReady(t)
	}
	return out
}

// waitReady waits until the instance answers /readyz with 200.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, 15*time.Second, in.name+" ready", func() error {
		if in.p.exited() {
			t.Fatalf("%s exited at start: %v\n%s", in.name, in.p.err, in.p.out.String())
		}
		code, err := in.readyz()
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("/readyz answered %d", code)
		}
		return err
	})
}

// probe is the HTTP client of the test's direct requests to an instance,
// from probeIP, with no keep-alive: each request is a new connection, as
// a load balancer's health check is.
var probe = newHTTPClient(probeIP, true)

// readyz asks the instance's /readyz directly.
func (in *instance) readyz() (int, error) {
	resp, err := in.probe.Get(in.base + "/readyz")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// metric returns the sum of the samples of a metric family whose labels
// contain every one of labels (`reason="acl"`), read from the instance's
// /metrics directly, and whether there was any.
func (in *instance) metric(t *testing.T, name string, labels ...string) (float64, bool) {
	t.Helper()
	resp, err := in.probe.Get(in.base + "/metrics")
	if err != nil {
		t.Fatalf("%s: GET /metrics: %v", in.name, err)
	}
	defer resp.Body.Close()
	sum, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum, found = sum+v, true
		}
	}
	return sum, found
}

// newHTTPClient returns an HTTP client whose connections come from the
// local address ip.
func newHTTPClient(ip string, noKeepAlive bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: noKeepAlive, Proxy: nil},
		Timeout:   20 * time.Second,
	}
}

// redisServer starts a redis-server on a free port with persistence off and
// returns its address.
func redisServer(t *testing.T) string {
	t.Helper()
	return redistest.Start(t).Addr()
}

// drain sends SIGTERM to the instance.
func (in *instance) drain(t *testing.T) { in.p.signal(t, syscall.SIGTERM) }
