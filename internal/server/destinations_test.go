package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringcast/ringcast/internal/config"
)

// waitUntil polls cond for up to 10 seconds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDestinationsEndToEnd runs the server with a configuration file that
// has a webhook destination and an http_poll source: messages published
// over HTTP and polled by the source reach the webhook through the
// template, a 404 goes to the dead letter topic, and GET /v1/destinations
// and /metrics show it all.
func TestDestinationsEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var agents []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+string(body))
		agents = append(agents, r.Header.Get("User-Agent"))
		mu.Unlock()
		if strings.Contains(string(body), "missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(hook.Close)
	status := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"1"`)
		if r.Header.Get("If-None-Match") == `"1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "all green")
	}))
	status.Config.ErrorLog = log.New(io.Discard, "", 0)
	status.Start()
	t.Cleanup(status.Close)

	file, err := config.Parse("ringcast.yaml", fmt.Appendf(nil, `
destinations:
  - name: audit-hook
    type: webhook
    topics: ["audit.>"]
    url: %q
    method: PUT
    template: "$TOPIC/$SEQ $MSG"
    retry: {initial_backoff: 10ms, max_backoff: 50ms}
sources:
  - name: status-page
    type: http_poll
    url: %q
    interval: 20ms
    topic: audit.status
`, hook.URL+"/in", status.URL))
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, Config{Destinations: file.Destinations, Sources: file.Sources, Version: "1.2.3"})
	for _, body := range []string{"first", "missing", "second"} {
		if a := do(t, "POST", ts.base+"/v1/topics/audit.orders", body); a.status != 201 {
			t.Fatalf("publish: %d %s", a.status, a.body)
		}
	}
	waitUntil(t, "5 requests", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 5 })
	time.Sleep(100 * time.Millisecond) // a few more polls, which must not publish again
	mu.Lock()
	requests := slices.Clone(got)
	slices.Sort(requests)
	agent := agents[0]
	mu.Unlock()
	// check_on_start defaults to true: a HEAD comes first.
	want := []string{"HEAD ", "PUT audit.orders/1 first", "PUT audit.orders/2 missing", "PUT audit.orders/3 second", "PUT audit.status/1 all green"}
	if !slices.Equal(requests, want) || agent != "ringcast/1.2.3" {
		t.Fatalf("the webhook got %q from %q, want %q", requests, agent, want)
	}

	a := do(t, "GET", ts.base+"/v1/topics/audit.orders.dlq/messages?format=json", "")
	var dead []struct {
		Data  string            `json:"data"`
		Attrs map[string]string `json:"attrs"`
	}
	if err := json.Unmarshal(a.body, &dead); err != nil || len(dead) != 1 || dead[0].Data != "missing" || dead[0].Attrs["dead_letter_reason"] != "answered 404 Not Found" {
		t.Fatalf("dead letters %s (%v)", a.body, err)
	}

	var list []struct {
		Lag          uint64 `json:"lag"`
		Delivered    uint64 `json:"delivered"`
		DeadLettered uint64 `json:"dead_lettered"`
		Topics       []string
		Cursors      []struct {
			Topic  string
			Cursor uint64
		}
	}
	waitUntil(t, "lag 0", func() bool {
		a = do(t, "GET", ts.base+"/v1/destinations", "")
		if err := json.Unmarshal(a.body, &list); err != nil || a.status != 200 {
			t.Fatalf("GET /v1/destinations: %d %s", a.status, a.body)
		}
		return len(list) == 1 && list[0].Lag == 0
	})
	var raw []map[string]any
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"name": "audit-hook", "type": "webhook", "state": "up", "last_error": ""} {
		if raw[0][k] != v {
			t.Errorf("%s = %v, want %v in %s", k, raw[0][k], v, a.body)
		}
	}
	d := list[0]
	if d.Delivered != 3 || d.DeadLettered != 1 || !slices.Equal(d.Topics, []string{"audit.>"}) || len(d.Cursors) != 2 ||
		d.Cursors[0].Topic != "audit.orders" || d.Cursors[0].Cursor != 4 || d.Cursors[1].Topic != "audit.status" || d.Cursors[1].Cursor != 2 {
		t.Fatalf("GET /v1/destinations: %s", a.body)
	}

	metrics := string(do(t, "GET", ts.base+"/metrics", "").body)
	for _, line := range []string{
		`ringcast_destination_deliveries_total{destination="audit-hook",result="success"} 3`,
		`ringcast_destination_deliveries_total{destination="audit-hook",result="dead_letter"} 1`,
		`ringcast_destination_lag_messages{destination="audit-hook"} 0`,
		`ringcast_destination_up{destination="audit-hook"} 1`,
		`ringcast_destination_latency_seconds_count{destination="audit-hook"} 3`,
		`ringcast_messages_delivered_total{transport="webhook"} 3`,
		`ringcast_messages_published_total{transport="source"} 1`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func TestDestinationsEmpty(t *testing.T) {
	ts := start(t, Config{})
	if a := do(t, "GET", ts.base+"/v1/destinations", ""); a.status != 200 || strings.TrimSpace(string(a.body)) != "[]" {
		t.Fatalf("GET /v1/destinations: %d %q", a.status, a.body)
	}
	if a := do(t, "POST", ts.base+"/v1/destinations", "x"); a.status != 405 {
		t.Fatalf("POST /v1/destinations: %d", a.status)
	}
}
