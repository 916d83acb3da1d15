// Package redistest runs what the tests that need Redis start: a
// redis-server of their own on a free port, persistence off, killed when
// the test ends; and a Redis Cluster of three of them. redis-server and
// redis-cli must be installed (`make test-deps` installs them): a test
// that needs one fails, and says so, when it is missing.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Need fails t when one of bins (redis-server, redis-cli) is not
// installed, with what installs it.
func Need(t testing.TB, bins ...string) {
	t.Helper()
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed: the tests start their own Redis; `make test-deps` installs it (apt-get install redis-server redis-tools)", bin)
		}
	}
}

// FreePort returns a port on 127.0.0.1 that nothing listened on a moment
// ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Server is a redis-server process of the test's own, on 127.0.0.1 and a
// port of its own, persistence off.
type Server struct {
	t    testing.TB
	port int
	args []string
	mu   sync.Mutex
	proc *process // the one running; nil when killed
}

// process is one redis-server process.
type process struct {
	cmd  *exec.Cmd
	out  bytes.Buffer  // its output: read it only once done is closed
	done chan struct{} // closed when it has exited
	err  error         // Wait's error, once done is closed
}

// Start starts a redis-server on a free port, with extra arguments after
// the ones that make it listen on 127.0.0.1 only with persistence off,
// and waits until it answers PING. It is killed when the test ends, and
// its output is logged if the test failed.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	Need(t, "redis-server")
	s := &Server{t: t, port: FreePort(t), args: extra}
	s.Restart()
	return s
}

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Restart starts the server again, on its port and with its arguments,
// after Kill (an empty Redis: persistence is off), and waits until it
// answers PING. The process is killed when the test ends.
func (s *Server) Restart() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.t.TempDir(), "--protected-mode", "no"}, s.args...)
	p := &process{cmd: exec.Command("redis-server", args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	setDeathSignal(p.cmd)
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v (`make test-deps` installs it)", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	s.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if s.t.Failed() {
			s.t.Logf("--- output of %s:\n%s", strings.Join(p.cmd.Args, " "), p.out.String())
		}
	})
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.done:
			s.t.Fatalf("redis-server on port %d exited at start: %v\n%s", s.port, p.err, p.out.String())
		default:
		}
		err := ping(s.Addr())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d did not answer PING: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping sends PING to the Redis at addr and checks that it answers PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q, %v", line, err)
	}
	return nil
}

// Kill kills the process (SIGKILL), if running, and waits for it.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Signal sends sig to the process (SIGSTOP and SIGCONT stall Redis and
// let it go on).
func (s *Server) Signal(sig os.Signal) error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return errors.New("redis-server is not running")
	}
	return p.cmd.Process.Signal(sig)
}

// CLI runs redis-cli against the server and returns what it printed.
func (s *Server) CLI(args ...string) (string, error) {
	return CLI(s.port, args...)
}

// CLI runs redis-cli against the Redis on 127.0.0.1:port, for at most 10 s,
// and returns what it printed.
func CLI(port int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	return string(out), err
}

// StartCluster starts a 3-master Redis Cluster and returns its nodes'
// addresses.
func StartCluster(t testing.TB) []string {
	t.Helper()
	Need(t, "redis-server", "redis-cli")
	dir := t.TempDir()
	var nodes []*Server
	var addrs []string
	for i := range 3 {
		n := Start(t,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-node-timeout", "2000",
			"--dir", dir,
		)
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr())
	}
	out, err := nodes[0].CLI(append([]string{"--cluster", "create"}, append(addrs, "--cluster-yes")...)...)
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for {
			out, _ := n.CLI("CLUSTER", "INFO")
			if strings.Contains(out, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ok on %s: %s", n.Addr(), out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}
