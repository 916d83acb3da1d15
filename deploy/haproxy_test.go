package deploy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// haproxyBin returns HAProxy's path, failing the test when it is missing.
func haproxyBin(t *testing.T) string {
	t.Helper()
	return need(t, "haproxy", "/usr/sbin/haproxy")
}

// serverHeader is the response header the tests' HAProxy adds, naming the
// instance that answered: test-only, not in the example.
const serverHeader = "X-Ringcast-Server"

// haproxyConfig returns deploy/haproxy.cfg with only its addresses and
// paths changed: the frontend binds to l.addr, and with TLS to l.tlsAddr
// with l.cert; the backend's server lines become one per instance, and
// the stats socket moves to l.sock. Without proxyProtocol, send-proxy-v2
// is taken out. It also adds the test-only serverHeader. Everything else
// (timeouts, checks, balancing) is the example's, so the tests run the
// example. With no instances, the server lines stay as they are.
//
// The example haproxy-passthrough.cfg (TCP mode, TLS to the instances) has
// one bind, which goes to l.tlsAddr, and its ca-file becomes l.cert's.
func haproxyConfig(t *testing.T, example string, l *lb, ins []*instance, proxyProtocol bool) string {
	t.Helper()
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	passthrough := example == passthroughExample
	plainAddr := l.addr
	if passthrough {
		plainAddr = l.tlsAddr
	}
	var out []string
	servers, binds, tlsBinds, socks, sendProxy, caFiles := 0, 0, 0, 0, 0, 0
	for _, line := range strings.Split(string(text), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch {
		case fields[0] == "bind" && !slices.Contains(fields, "ssl"):
			binds++
			out = append(out, indent+"bind "+plainAddr)
		case fields[0] == "bind":
			tlsBinds++
			fields[1] = l.tlsAddr
			if i := slices.Index(fields, "crt"); i > 0 && i+1 < len(fields) {
				fields[i+1] = l.cert.pem
			}
			out = append(out, indent+strings.Join(fields, " "))
		case fields[0] == "stats" && len(fields) > 2 && fields[1] == "socket":
			socks++
			out = append(out, indent+"stats socket "+l.sock+" "+strings.Join(fields[3:], " "))
		case fields[0] == "balance" && !passthrough: // TCP mode has no headers
			out = append(out, line, indent+"http-response set-header "+serverHeader+" %[srv_name]")
		case fields[0] == "default-server":
			if i := slices.Index(fields, "ca-file"); i > 0 && i+1 < len(fields) {
				caFiles++
				fields[i+1] = l.cert.certFile
				line = indent + strings.Join(fields, " ")
			}
			if strings.Contains(line, " send-proxy-v2") {
				sendProxy++
				if !proxyProtocol {
					line = strings.Replace(line, " send-proxy-v2", "", 1)
				}
			}
			out = append(out, line)
		case fields[0] == "server" && len(ins) == 0:
			servers++
			out = append(out, line)
		case fields[0] == "server":
			if servers == 0 {
				for _, in := range ins {
					out = append(out, fmt.Sprintf("%sserver %s %s %s", indent, in.name, in.addr, strings.Join(fields[3:], " ")))
				}
			}
			servers++
		default:
			out = append(out, line)
		}
	}
	wantTLSBinds, wantCAFiles := 1, 0
	if passthrough {
		wantTLSBinds, wantCAFiles = 0, 1
	}
	if binds != 1 || tlsBinds != wantTLSBinds || caFiles != wantCAFiles || socks != 1 || servers == 0 || sendProxy != 1 {
		t.Fatalf("deploy/%s changed shape: want 1 plain bind, %d ssl bind, %d ca-file, 1 stats socket, 1 default-server with send-proxy-v2 and some server lines; found %d, %d, %d, %d, %d, %d",
			example, wantTLSBinds, wantCAFiles, binds, tlsBinds, caFiles, socks, sendProxy, servers)
	}
	return strings.Join(out, "\n")
}

// lb is a running load balancer: HAProxy or nginx.
type lb struct {
	kind    string // "haproxy" or "nginx"
	url     string // http://127.0.0.1:port
	addr    string
	tlsURL  string // https://127.0.0.1:port: TLS ends at the load balancer
	tlsAddr string
	cert    *testCert
	sock    string // HAProxy's stats socket
	dir     string // where its configuration and files are
	p       *proc
}

// newLB picks the addresses and makes the certificate of a load balancer
// of the given kind, configured in dir.
func newLB(t *testing.T, kind, dir string) *lb {
	l := &lb{kind: kind, addr: hostPort(freePort(t)), tlsAddr: hostPort(freePort(t)), cert: newTestCert(t, dir), sock: filepath.Join(dir, "admin.sock"), dir: dir}
	l.url, l.tlsURL = "http://"+l.addr, "https://"+l.tlsAddr
	return l
}

// The HAProxy examples.
const (
	haproxyExample     = "haproxy.cfg"
	passthroughExample = "haproxy-passthrough.cfg"
)

// startHAProxy starts HAProxy in front of ins with deploy/haproxy.cfg and
// waits until it shows every instance UP and answers through itself.
func startHAProxy(t *testing.T, ins []*instance, proxyProtocol bool) *lb {
	t.Helper()
	return startHAProxyWith(t, haproxyExample, newLB(t, "haproxy", t.TempDir()), ins, proxyProtocol)
}

// startHAProxyWith starts HAProxy with the given example as l.
func startHAProxyWith(t *testing.T, example string, l *lb, ins []*instance, proxyProtocol bool) *lb {
	t.Helper()
	bin := haproxyBin(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(haproxyConfig(t, example, l, ins, proxyProtocol)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", path, err, out)
	}
	// -db: foreground, logs on stdout.
	l.p = startProc(t, "haproxy", bin, "-db", "-f", path)
	want := map[string]string{}
	for _, in := range ins {
		want[in.name] = "UP"
	}
	l.waitStatus(t, want)
	c, url := newHTTPClient(clientIP, true), l.url
	if example == passthroughExample {
		c, url = newHTTPSClient(clientIP, l.cert), l.tlsURL
	}
	l.waitServing(t, "HAProxy", c, url)
	return l
}

// waitServing waits up to 10 s until GET /readyz at url, through the load
// balancer (named name in messages), answers 200 to c; it fails the test
// at once if the load balancer exits.
func (l *lb) waitServing(t *testing.T, name string, c *http.Client, url string) {
	t.Helper()
	eventually(t, 10*time.Second, "a request through "+name, func() error {
		if l.p.exited() {
			t.Fatalf("%s exited: %v", name, l.p.err)
		}
		resp, err := c.Get(url + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz through %s answered %s", name, resp.Status)
		}
		return nil
	})
}

// status returns the servers and their check status (UP, DOWN,
// "UP 1/2", …) from the stats socket.
func (l *lb) status() (map[string]string, error) {
	c, err := net.DialTimeout("unix", l.sock, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(c)
	var cols []string
	out := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			cols = strings.Split(strings.TrimPrefix(line, "# "), ",")
			continue
		}
		f := strings.Split(line, ",")
		row := map[string]string{}
		for i, name := range cols {
			if i < len(f) {
				row[name] = f[i]
			}
		}
		if row["svname"] != "" && row["svname"] != "BACKEND" && row["svname"] != "FRONTEND" {
			out[row["svname"]] = row["status"]
		}
	}
	return out, sc.Err()
}

// waitStatus waits until each named server has the given status.
func (l *lb) waitStatus(t *testing.T, want map[string]string) {
	t.Helper()
	eventually(t, 15*time.Second, fmt.Sprintf("HAProxy's servers %v", want), func() error {
		if l.p.exited() {
			t.Fatalf("haproxy exited: %v", l.p.err)
		}
		got, err := l.status()
		if err != nil {
			return err
		}
		for name, st := range want {
			if got[name] != st {
				return fmt.Errorf("servers are %v", got)
			}
		}
		return nil
	})
}

// TestHAProxyExampleParses checks deploy's HAProxy examples with `haproxy
// -c`, with their certificate paths changed to real ones (their server
// addresses need not exist for that). It needs no process started, so it
// runs under -short too.
func TestHAProxyExampleParses(t *testing.T) {
	bin := haproxyBin(t)
	for _, example := range []string{haproxyExample, passthroughExample} {
		dir := t.TempDir()
		path := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(path, []byte(haproxyConfig(t, example, newLB(t, "haproxy", dir), nil, true)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput()
		if err != nil {
			t.Fatalf("haproxy -c -f deploy/%s: %v\n%s", example, err, out)
		}
	}
}

// waitDrained waits until the load balancer sends victim nothing more.
// Behind HAProxy: its /readyz stops answering 200 and HAProxy's check shows
// it DOWN. Behind nginx, which has no active checks and passes a request
// on to the next server only when the connection fails: it has closed its
// listener.
func (l *lb) waitDrained(t *testing.T, victim, survivor *instance) {
	t.Helper()
	eventually(t, 10*time.Second, victim.name+" leaving the rotation", func() error {
		code, err := victim.readyz()
		switch {
		case err != nil:
			return nil
		case l.kind == "nginx":
			return fmt.Errorf("/readyz still answers %d: nginx would still send it requests", code)
		case code == http.StatusOK:
			return fmt.Errorf("/readyz still answers %d", code)
		}
		return nil
	})
	if l.kind == "haproxy" {
		l.waitStatus(t, map[string]string{victim.name: "DOWN", survivor.name: "UP"})
	}
}
