package redisengine_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// redisServer is a redis-server process of the test's own, on a free
// port, persistence off.
type redisServer struct {
	t    testing.TB
	port int
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// needRedis fails the test loudly when redis-server or redis-cli is
// missing.
func needRedis(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed: the redis engine's tests start their own Redis; `make test-deps` installs it (apt-get install redis-server redis-tools)", bin)
		}
	}
}

// freePort returns a port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis starts a redis-server with extra arguments; it is killed
// when the test ends.
func startRedis(t testing.TB, extra ...string) *redisServer {
	t.Helper()
	needRedis(t)
	r := &redisServer{t: t, port: freePort(t), args: extra}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// addr is the server's host:port.
func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start (re)starts the process on its port and waits until it answers.
func (r *redisServer) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, r.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v (`make test-deps` installs it)", err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out, err := r.cli("PING"); err == nil && strings.TrimSpace(out) == "PONG" {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d did not answer PING", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill kills the process, if running, and waits for it.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// cli runs redis-cli against the server.
func (r *redisServer) cli(args ...string) (string, error) {
	return redisCLI(r.port, args...)
}

func redisCLI(port int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	return string(out), err
}

// startCluster starts a 3-master Redis Cluster and returns its nodes'
// addresses.
func startCluster(t testing.TB) []string {
	t.Helper()
	needRedis(t)
	dir := t.TempDir()
	var nodes []*redisServer
	var addrs []string
	for i := range 3 {
		port := freePort(t)
		r := &redisServer{t: t, port: port, args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-node-timeout", "2000",
			"--dir", dir,
		}}
		r.start()
		t.Cleanup(r.kill)
		nodes = append(nodes, r)
		addrs = append(addrs, r.addr())
	}
	out, err := redisCLI(nodes[0].port, append([]string{"--cluster", "create"}, append(addrs, "--cluster-yes")...)...)
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for {
			out, _ := n.cli("CLUSTER", "INFO")
			if strings.Contains(out, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ok on %s: %s", n.addr(), out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}
