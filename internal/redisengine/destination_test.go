package redisengine_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/server"
)

// A destination on B that names its topic exactly gets what A publishes,
// though B has no subscriber of its own.
func TestDestinationOnOtherInstance(t *testing.T) {
	r := startRedis(t)
	got := make(chan string, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		if req.Method == http.MethodPost {
			got <- string(b)
		}
	}))
	defer hook.Close()
	no := false
	rc := redisengine.Config{Addrs: []string{r.addr()}}
	a := startInstance(t, rc, server.Config{})
	startInstance(t, rc, server.Config{Destinations: []config.Destination{{
		Name: "hook", Type: "webhook", Topics: []string{"orders.created"}, URL: hook.URL, CheckOnStart: &no,
	}}})
	for seq := uint64(1); seq <= 5; seq++ {
		publish(t, a, "orders.created", payload(seq))
	}
	for seq := uint64(1); seq <= 5; seq++ {
		select {
		case b := <-got:
			if b != payload(seq) {
				t.Fatalf("webhook got %q, want %q", b, payload(seq))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("webhook got %d of 5", seq-1)
		}
	}
}
