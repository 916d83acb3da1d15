package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// nginxBin returns nginx's path, failing the test when it is missing.
func nginxBin(t *testing.T) string {
	t.Helper()
	return need(t, "nginx", "/usr/sbin/nginx")
}

// nginxServerLine matches a server line of the example's upstream block.
var nginxServerLine = regexp.MustCompile(`^(\s*)server\s+\S+(.*)$`)

// nginxConfig returns deploy/nginx.conf with only its addresses and
// paths changed: it listens on l.addr, and with TLS on l.tlsAddr with
// l.cert; its upstream has one server line per instance (with none, the
// example's stay); it logs to stderr and stdout, and it runs one worker.
// It also adds the test-only serverHeader, the name of the instance that
// answered (the last one tried).
func nginxConfig(t *testing.T, l *lb, ins []*instance) string {
	t.Helper()
	example, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	listens, tlsListens, certs, servers, passes, inUpstream := 0, 0, 0, 0, 0, false
	for _, line := range strings.Split(string(example), "\n") {
		fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch {
		case fields[0] == "http" && len(fields) > 1 && fields[1] == "{":
			// Temporary files in the test's directory: the packaged
			// /var/lib/nginx is root's.
			out = append(out, line)
			for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
				out = append(out, indent+"    "+d+"_temp_path "+filepath.Join(l.dir, d)+";")
			}
		case fields[0] == "upstream":
			inUpstream = true
			out = append(out, line)
		case inUpstream && fields[0] == "}":
			inUpstream = false
			out = append(out, line)
			// The test-only name of the instance that answered.
			out = append(out, indent+"map $upstream_addr $ringcast_server {", indent+"    default \"\";")
			for _, in := range ins {
				out = append(out, fmt.Sprintf("%s    \"~%s$\" %s;", indent, regexp.QuoteMeta(in.addr), in.name))
			}
			out = append(out, indent+"}")
		case inUpstream && fields[0] == "server" && len(ins) == 0:
			servers++
			out = append(out, line)
		case inUpstream && fields[0] == "server":
			if servers == 0 {
				m := nginxServerLine.FindStringSubmatch(line)
				for _, in := range ins {
					out = append(out, m[1]+"server "+in.addr+m[2])
				}
			}
			servers++
		case fields[0] == "listen" && !slices.Contains(fields, "ssl"):
			listens++
			out = append(out, indent+"listen "+l.addr+";")
		case fields[0] == "listen":
			tlsListens++
			fields[1] = l.tlsAddr
			out = append(out, indent+strings.Join(fields, " ")+";")
		case fields[0] == "ssl_certificate":
			certs++
			out = append(out, indent+"ssl_certificate "+l.cert.certFile+";")
		case fields[0] == "ssl_certificate_key":
			certs++
			out = append(out, indent+"ssl_certificate_key "+l.cert.keyFile+";")
		case fields[0] == "worker_processes":
			// One worker, so that round-robin is one sequence the tests
			// can rely on (each worker keeps its own).
			out = append(out, indent+"worker_processes 1;")
		case fields[0] == "error_log":
			out = append(out, indent+"error_log stderr;")
		case fields[0] == "access_log":
			out = append(out, indent+"access_log /dev/stdout;")
		case fields[0] == "proxy_pass":
			passes++
			out = append(out, line, indent+"add_header "+serverHeader+" $ringcast_server always;")
		default:
			out = append(out, line)
		}
	}
	if listens != 1 || tlsListens != 1 || certs != 2 || servers == 0 || passes != 1 {
		t.Fatalf("deploy/nginx.conf changed shape: want 1 plain listen, 1 ssl listen, a certificate and its key, 1 proxy_pass and some upstream server lines; found %d, %d, %d, %d, %d",
			listens, tlsListens, certs, passes, servers)
	}
	return strings.Join(out, "\n")
}

// startNginx starts nginx in front of ins with deploy/nginx.conf and waits
// until it answers through itself.
func startNginx(t *testing.T, ins []*instance) *lb {
	t.Helper()
	bin := nginxBin(t)
	dir := t.TempDir()
	l := newLB(t, "nginx", dir)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(nginxConfig(t, l, ins)), 0o644); err != nil {
		t.Fatal(err)
	}
	global := "pid " + filepath.Join(dir, "nginx.pid") + "; daemon off;"
	if out, err := exec.Command(bin, "-t", "-q", "-e", "stderr", "-p", dir, "-c", path, "-g", global).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t -c %s: %v\n%s", path, err, out)
	}
	l.p = startProc(t, "nginx", bin, "-e", "stderr", "-p", dir, "-c", path, "-g", global)
	l.waitServing(t, "nginx", newHTTPClient(clientIP, true), l.url)
	return l
}

// TestNginxExampleParses checks deploy/nginx.conf with `nginx -t`, with
// its certificate paths changed to real ones (its upstream addresses need
// not exist for that). It needs no process started, so it runs under
// -short too.
func TestNginxExampleParses(t *testing.T) {
	bin := nginxBin(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(nginxConfig(t, newLB(t, "nginx", dir), nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-e", "stderr", "-p", dir, "-c", path, "-g", "pid "+filepath.Join(dir, "nginx.pid")+";").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t -c deploy/nginx.conf: %v\n%s", err, out)
	}
}
