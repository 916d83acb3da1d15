package redisengine_test

import (
	"testing"

	"github.com/ringcast/ringcast/internal/redistest"
)

// redisServer is a redis-server process of the test's own, on a free
// port, persistence off (redistest's), with the names these tests use.
type redisServer struct{ *redistest.Server }

// startRedis starts a redis-server with extra arguments; it is killed
// when the test ends. It fails the test loudly when redis-server or
// redis-cli is missing.
func startRedis(t testing.TB, extra ...string) redisServer {
	t.Helper()
	redistest.Need(t, "redis-server", "redis-cli")
	return redisServer{redistest.Start(t, extra...)}
}

// addr is the server's host:port.
func (r redisServer) addr() string { return r.Addr() }

// start restarts the process on its port (an empty Redis) and waits until
// it answers.
func (r redisServer) start() { r.Restart() }

// kill kills the process, if running, and waits for it.
func (r redisServer) kill() { r.Kill() }

// cli runs redis-cli against the server.
func (r redisServer) cli(args ...string) (string, error) { return r.CLI(args...) }

// startCluster starts a 3-master Redis Cluster and returns its nodes'
// addresses.
func startCluster(t testing.TB) []string { return redistest.StartCluster(t) }
