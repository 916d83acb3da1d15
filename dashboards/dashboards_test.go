package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.uber.org/goleak"
	"gopkg.in/yaml.v3"

	"github.com/ringcast/ringcast/internal/config"
	"github.com/ringcast/ringcast/internal/redisengine"
	"github.com/ringcast/ringcast/internal/redistest"
	"github.com/ringcast/ringcast/internal/server"
)

// TestMain checks that no goroutine outlives the tests but fasthttp's
// own: its worker pool cleaner and its client's connection cleaners (the
// webhook's) notice that nothing is left only after their sleep, and exit
// by themselves.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

// notRingcast are metric names the dashboard and the rules use that the
// broker does not export: Prometheus makes `up` for every scrape target,
// and the blackbox exporter's probe of /readyz (prometheus.yml) makes
// probe_success.
var notRingcast = map[string]string{
	"up":            "made by Prometheus for every target of the ringcast job",
	"probe_success": "made by the blackbox exporter probing /readyz (job ringcast-readyz)",
}

// contract is every metric API.md names, plus the destinations' and the
// redis engine's that the issues name: the dashboard must show each.
var contract = []string{
	"ringcast_messages_published_total", "ringcast_messages_delivered_total", "ringcast_messages_dropped_total",
	"ringcast_publish_rejected_total", "ringcast_subscribers", "ringcast_connections", "ringcast_connection_events_total",
	"ringcast_topics", "ringcast_publish_duration_seconds", "ringcast_delivery_latency_seconds", "ringcast_subscriber_lag_messages",
	"ringcast_destination_deliveries_total", "ringcast_destination_latency_seconds", "ringcast_destination_lag_messages", "ringcast_destination_up",
	"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes",
	"ringcast_engine_up", "ringcast_engine_errors_total", "ringcast_engine_latency_seconds",
}

// TestDashboardAndRulesUseExportedMetrics checks the names the dashboard
// and the rules use against what two brokers export: one with the memory
// engine and a webhook destination, one with the redis engine (its
// ringcast_engine_* exist only there), an acl and limits.
func TestDashboardAndRulesUseExportedMetrics(t *testing.T) {
	families := exportedFamilies(t, startAndExercise(t))
	maps.Copy(families, exportedFamilies(t, startRedisAndExercise(t)))

	used := map[string][]string{} // metric name → where it is used
	for where, expr := range dashboardQueries(t) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %q: %v", where, expr, err)
		}
		for _, n := range names {
			used[n] = append(used[n], where)
		}
	}
	for where, expr := range ruleQueries(t) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %q: %v", where, expr, err)
		}
		for _, n := range names {
			used[n] = append(used[n], where)
		}
	}
	if len(used) < len(contract) {
		t.Fatalf("only %d metric names found in the dashboard and the rules: %v", len(used), slices.Sorted(maps.Keys(used)))
	}
	shown := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		family := familyOf(name, families)
		shown[family] = true
		switch {
		case families[family] != "":
		case notRingcast[family] != "":
			t.Logf("%s: not the broker's, %s", family, notRingcast[family])
		default:
			t.Errorf("%s is not exported by the broker but used in %s", name, strings.Join(used[name], ", "))
		}
	}
	for _, name := range contract {
		if !shown[name] {
			t.Errorf("the dashboard and the rules never show %s", name)
		}
	}
}

// familyOf maps a series name to its metric family: a histogram's or a
// summary's _bucket, _sum and _count series belong to it.
func familyOf(name string, families map[string]string) string {
	if _, ok := families[name]; ok {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if typ := families[base]; typ == "histogram" || (typ == "summary" && suffix != "_bucket") {
			return base
		}
	}
	return name
}

// startBroker runs a broker with cfg on a loopback port, logging nowhere,
// until the test ends, and returns its base URL; what names the broker in
// a failed shutdown's message.
func startBroker(t *testing.T, what string, cfg server.Config) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown%s: %v", what, err)
		}
	})
	return "http://" + s.Addr().String()
}

// startAndExercise starts a broker on a loopback port with a webhook
// destination (to a loopback server of the test's), drives every
// transport once (HTTP publish, batch, WebSocket publish, subscribe and
// pubsub, SSE, GET /messages, a refused publish), waits until every
// subscriber and the webhook have every message, and returns the broker's
// /metrics.
func startAndExercise(t *testing.T) string {
	t.Helper()
	var hooked atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost {
			hooked.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	file, err := config.Parse("dashboards_test.yml", []byte(`destinations:
  - name: dash-hook
    type: webhook
    topics: ["dash.>"]
    url: "`+hook.URL+`/hook"
`))
	if err != nil {
		t.Fatal(err)
	}
	base := startBroker(t, "", server.Config{Destinations: file.Destinations})
	topic := base + "/v1/topics/dash.check"
	ws := "ws" + strings.TrimPrefix(topic, "http") + "/ws"
	client := &http.Client{Timeout: 10 * time.Second}

	dial := func(url string) *websocket.Conn {
		c, resp, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (%s)", err, resp.Status)
			}
			t.Fatalf("dial %s: %v", url, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sub := dial(ws + "?from=oldest")
	pubsub := dial(ws + "?mode=pubsub&from=oldest")
	req, _ := http.NewRequest(http.MethodGet, topic+"/sse?from=oldest", nil)
	sse, err := client.Do(req)
	if err != nil || sse.StatusCode != http.StatusOK {
		t.Fatalf("SSE: %v %v", err, sse)
	}
	defer sse.Body.Close()

	post := func(url, body string, want int) {
		resp, err := client.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %s, want %d", url, resp.Status, want)
		}
	}
	post(topic, "http", http.StatusCreated)
	post(topic+"/batch", "batch 1\nbatch 2\n", http.StatusCreated)
	post(base+"/v1/topics/no%20such", "x", http.StatusBadRequest)
	pub := dial(ws + "?mode=pub")
	if err := pub.WriteMessage(websocket.TextMessage, []byte("ws")); err != nil {
		t.Fatal(err)
	}
	if err := pubsub.WriteMessage(websocket.TextMessage, []byte("pubsub")); err != nil {
		t.Fatal(err)
	}
	const total = 5
	for name, c := range map[string]*websocket.Conn{"sub": sub, "pubsub": pubsub} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for i := range total {
			if _, _, err := c.ReadMessage(); err != nil {
				t.Fatalf("%s: message %d: %v", name, i+1, err)
			}
		}
	}
	events := 0
	sc := bufio.NewScanner(sse.Body)
	for events < total && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "id: ") {
			events++
		}
	}
	if events != total {
		t.Fatalf("SSE: %d events of %d: %v", events, total, sc.Err())
	}
	resp, err := client.Get(topic + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil || len(msgs) != total {
		t.Fatalf("GET /messages: %d messages, %v", len(msgs), err)
	}
	resp.Body.Close()

	for deadline := time.Now().Add(10 * time.Second); hooked.Load() < total; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got %d messages of %d", hooked.Load(), total)
		}
	}
	return scrapeUntil(t, client, base+"/metrics", driven)
}

// driven are series that the transports the test drove must show; the
// broker counts a delivery after its write returns, so a client may see a
// message a moment before its count.
var driven = []string{
	`ringcast_messages_published_total{transport="http"} 1`,
	`ringcast_messages_published_total{transport="batch"} 2`,
	`ringcast_messages_published_total{transport="ws"} 2`,
	`ringcast_messages_delivered_total{transport="ws"} 10`,
	`ringcast_messages_delivered_total{transport="sse"} 5`,
	`ringcast_messages_delivered_total{transport="http"} 5`,
	`ringcast_publish_rejected_total{code="bad_topic"} 1`,
	`ringcast_subscribers{transport="ws"} 2`,
	`ringcast_subscribers{transport="sse"} 1`,
	`ringcast_topics 1`,
	`ringcast_messages_delivered_total{transport="webhook"} 5`,
	`ringcast_destination_deliveries_total{destination="dash-hook",result="success"} 5`,
	`ringcast_destination_up{destination="dash-hook"} 1`,
	`ringcast_destination_lag_messages{destination="dash-hook"} 0`,
}

// scrapeUntil reads /metrics until it shows every series of want, for
// 10 s at most, and returns the last exposition.
func scrapeUntil(t *testing.T, client *http.Client, url string, want []string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %s, %v", resp.Status, err)
		}
		var missing []string
		for _, series := range want {
			if !strings.Contains(string(b), series+"\n") {
				missing = append(missing, series)
			}
		}
		if len(missing) == 0 {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %q", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRedisAndExercise starts a redis-server of its own and a broker with
// the redis engine on it, an acl denying 192.0.2.0/24, the test as a
// trusted proxy (so X-Forwarded-For names the client) and a
// publish_rate_per_ip of 10. It publishes and reads through Redis, gets a
// publish denied by the acl and one refused by the rate limit, then kills
// Redis, waits for ringcast_engine_up 0 and gets a publish refused as
// unavailable, and returns the broker's /metrics.
func startRedisAndExercise(t *testing.T) string {
	t.Helper()
	redis := redistest.Start(t)
	base := startBroker(t, " (redis engine)", server.Config{
		Redis:          &redisengine.Config{Addrs: []string{redis.Addr()}, Timeout: time.Second},
		ACL:            "-192.0.2.0/24",
		TrustedProxies: []string{"127.0.0.1"},
		Limits:         server.Limits{PublishRatePerIP: 10},
	})
	topic := base + "/v1/topics/dash.redis"
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(url, from, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if from != "" {
			req.Header.Set("X-Forwarded-For", from)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s (X-Forwarded-For %q): %s %s, want %d", url, from, resp.Status, b, want)
		}
	}

	post(topic, "", "through redis", http.StatusCreated)
	resp, err := client.Get(topic + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil || len(msgs) != 1 {
		t.Fatalf("GET /messages (redis engine): %d messages, %v", len(msgs), err)
	}
	resp.Body.Close()
	post(topic, "192.0.2.7", "denied", http.StatusForbidden)
	// A batch over the bucket is taken whole and leaves it in debt for
	// 9 s: the next publish from that address is refused.
	post(topic+"/batch", "198.51.100.7", strings.Repeat("line\n", 100), http.StatusCreated)
	post(topic, "198.51.100.7", "too fast", http.StatusTooManyRequests)
	scrapeUntil(t, client, base+"/metrics", []string{
		`ringcast_engine_up 1`,
		`ringcast_messages_published_total{transport="http"} 1`,
		`ringcast_messages_published_total{transport="batch"} 100`,
		`ringcast_acl_denied_total 1`,
		`ringcast_publish_rejected_total{code="forbidden"} 1`,
		`ringcast_limit_rejected_total{limit="publish_rate"} 1`,
		`ringcast_publish_rejected_total{code="rate_limited"} 1`,
		`ringcast_tls_reloads_total{result="error"} 0`,
		`ringcast_limit_delayed_total{limit="publish_rate"} 0`,
	})

	// Without Redis, the engine goes down within its health check's
	// second (and its 1 s timeout), and publishes are refused.
	redis.Kill()
	scrapeUntil(t, client, base+"/metrics", []string{`ringcast_engine_up 0`})
	post(topic, "", "no redis", http.StatusServiceUnavailable)
	return scrapeUntil(t, client, base+"/metrics", []string{
		`ringcast_engine_up 0`,
		`ringcast_publish_rejected_total{code="unavailable"} 1`,
	})
}

// exportedFamilies returns every metric family in a Prometheus text
// exposition with its type.
func exportedFamilies(t *testing.T, text string) map[string]string {
	t.Helper()
	families := map[string]string{}
	for line := range strings.SplitSeq(text, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	if len(families) < 20 {
		t.Fatalf("only %d metric families in /metrics", len(families))
	}
	return families
}

// dashboard is the part of Grafana's dashboard model the test reads.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct{ H, W, X, Y int }

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    gridPos
	Panels     []panel `json:"panels"` // a collapsed row's
	Targets    []struct {
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
}

// labelValuesQuery is a Grafana variable query on a metric.
var labelValuesQuery = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_]\w*\s*\)$`)

// variableRef is a Grafana variable in a query: $name, ${name} or
// ${name:format}; names starting with __ are Grafana's own.
var variableRef = regexp.MustCompile(`\$(?:\{(\w+)[^}]*\}|(\w+))`)

// overlaps reports whether two grid positions share a cell.
func overlaps(a, b gridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// dashboardQueries checks ringcast.json's structure and returns its
// queries by where they are.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("ringcast.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("ringcast.json: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("ringcast.json: uid %q, title %q", d.UID, d.Title)
	}
	queries := map[string]string{}
	hasDatasource := false
	variables := map[string]bool{}
	for _, v := range d.Templating.List {
		variables[v.Name] = true
		switch {
		case v.Name == "datasource":
			hasDatasource = v.Type == "datasource" && string(v.Query) == `"prometheus"`
		case v.Type == "query":
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("variable %s: query %s: %v", v.Name, v.Query, err)
			}
			m := labelValuesQuery.FindStringSubmatch(q.Query)
			if m == nil || v.Definition != q.Query || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("variable %s: query %q, definition %q, data source %+v", v.Name, q.Query, v.Definition, v.Datasource)
				continue
			}
			queries["variable "+v.Name] = m[1]
		}
	}
	if !hasDatasource {
		t.Error("ringcast.json has no $datasource variable of type datasource for prometheus")
	}
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			where := fmt.Sprintf("panel %q", p.Title)
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: id %d used twice or zero", where, p.ID)
			}
			ids[p.ID] = true
			if g := p.GridPos; g.W < 1 || g.X < 0 || g.X+g.W > 24 || g.H < 1 {
				t.Errorf("%s: grid position %+v", where, g)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
				t.Errorf("%s: data source %+v, %d queries", where, p.Datasource, len(p.Targets))
			}
			for _, q := range p.Targets {
				if q.Datasource == nil || q.Datasource.UID != "${datasource}" || q.Expr == "" || q.RefID == "" {
					t.Errorf("%s, query %s: data source %+v, expr %q", where, q.RefID, q.Datasource, q.Expr)
				}
				queries[where+" "+q.RefID] = q.Expr
			}
		}
	}
	walk(d.Panels)
	// The panels of the top level (and rows) must not overlap; a
	// collapsed row's are placed when it opens.
	for i, a := range d.Panels {
		for _, b := range d.Panels[i+1:] {
			if overlaps(a.GridPos, b.GridPos) {
				t.Errorf("panels %q %+v and %q %+v overlap", a.Title, a.GridPos, b.Title, b.GridPos)
			}
		}
	}
	for where, expr := range queries {
		for _, m := range variableRef.FindAllStringSubmatch(expr, -1) {
			if name := m[1] + m[2]; !strings.HasPrefix(name, "__") && !variables[name] {
				t.Errorf("%s: %q uses $%s, which is not a variable of the dashboard", where, expr, name)
			}
		}
	}
	return queries
}

// rules is the structure of a Prometheus rule file.
type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promDuration is a Prometheus duration: units from ms to y, largest first.
var promDuration = regexp.MustCompile(`^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$`)

// ruleQueries checks alerts.yml's structure and returns its expressions
// by alert. promtool, where it is installed, checks them fully
// (TestRulesWithPromtool).
func ruleQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf rules
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	queries := map[string]string{}
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("alerts.yml: group %q with %d rules", g.Name, len(g.Rules))
		}
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			switch {
			case r.Alert == "" || r.Record != "":
				t.Errorf("alerts.yml: a rule that is not an alert: %+v", r)
			case queries[where] != "":
				t.Errorf("alerts.yml: %s twice", where)
			case r.Expr == "":
				t.Errorf("%s: no expr", where)
			case r.For == "" || !promDuration.MatchString(r.For):
				t.Errorf("%s: for %q", where, r.For)
			case r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical":
				t.Errorf("%s: severity %q", where, r.Labels["severity"])
			case r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("%s: no summary or description", where)
			}
			queries[where] = r.Expr
		}
	}
	// The alerts, by what they watch, then the redis engine's
	// and the edge's.
	for _, want := range []string{
		"ringcast_messages_dropped_total", `code="backpressure"`, "ringcast_destination_up",
		"ringcast_destination_lag_messages", "ringcast_subscriber_lag_messages_bucket",
		"ringcast_delivery_latency_seconds_bucket", "up{", "probe_success",
		"ringcast_engine_up", "ringcast_engine_errors_total", "ringcast_limit_rejected_total",
		`ringcast_tls_reloads_total{result="error"}`,
	} {
		found := false
		for _, expr := range queries {
			found = found || strings.Contains(expr, want)
		}
		if !found {
			t.Errorf("no alert watches %s", want)
		}
	}
	return queries
}

// promtool returns the path of promtool, "" when it is not installed.
func promtool() string {
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "promtool")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestRulesWithPromtool(t *testing.T) {
	p := promtool()
	if p == "" {
		t.Skip("promtool is not installed (README.md says how): alerts.yml is checked only structurally, by TestDashboardAndRulesUseExportedMetrics")
	}
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"check", "config", "prometheus.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		out, err := exec.Command(p, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
