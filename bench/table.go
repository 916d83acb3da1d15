package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Row summarizes one run for a Markdown table that compares runs (ringcast
// bench table, bench/run.sh).
type Row struct {
	Scenario   string
	Setup      string // what was driven
	Throughput string
	Latency    string // p50, p99, p99.9, max
	Check      string // the loss and ingest verdicts
	ServerCPU  string
	ServerRSS  string
}

// Row summarizes r.
func (r *Result) Row() Row {
	c := r.Config
	rate := "unpaced"
	if c.Rate > 0 {
		rate = thousands(float64(c.Rate)) + " msg/s"
	}
	row := Row{Scenario: r.Scenario}
	row.Setup = fmt.Sprintf("%d %s pub", c.Publishers, c.Publish)
	if c.Subscribers > 0 {
		row.Setup += fmt.Sprintf(" → %d %s sub (%s)", c.Subscribers, c.Transport, c.Policy)
	}
	row.Setup += fmt.Sprintf(", %s, %d B, %s", rate, c.Size, r.Measured.Round(time.Millisecond))
	row.Throughput = thousands(r.PublishRate) + " msg/s"
	if c.Subscribers > 0 {
		row.Throughput += " → " + thousands(r.DeliveryRate) + " deliveries/s"
	}
	switch {
	case c.Subscribers > 0:
		row.Latency = latencyCell(r.Latency)
	case r.Requests != nil:
		row.Latency = "request " + latencyCell(r.Requests.Latency)
	default:
		row.Latency = "— (no subscriber)"
	}
	row.Check = okOr(r.Ingest.OK) + ": " + r.Ingest.Verdict
	if l := r.Loss; l != nil {
		row.Check = fmt.Sprintf("%s; loss %s: %s", row.Check, okOr(l.OK), l.Verdict)
	}
	if s := r.Server; s != nil {
		row.ServerCPU = fmt.Sprintf("%.2f cores", s.CPUCores)
		row.ServerRSS = mib(s.RSSBefore) + " → " + mib(s.RSSAfter)
	}
	return row
}

// Row summarizes r.
func (r *ConnectionsResult) Row() Row {
	c := r.Config
	row := Row{
		Scenario:   r.Scenario,
		Setup:      fmt.Sprintf("%d idle %s sub, hold %s", c.Connections, c.Transport, c.Hold),
		Throughput: fmt.Sprintf("%d connected at %s/s", r.Connected, thousands(r.ConnectRate)),
		Latency:    "handshake " + latencyCell(r.Handshake),
	}
	if l := r.Loss; l != nil {
		row.Check = fmt.Sprintf("%s: %s", okOr(l.OK), l.Verdict)
	}
	if s := r.Server; s != nil {
		row.ServerCPU = fmt.Sprintf("%.2f cores", s.CPUCores)
		row.ServerRSS = fmt.Sprintf("%s → %s, **%.1f KiB per connection**", mib(s.RSSBefore), mib(s.RSSAfter), s.RSSPerConn/1024)
	}
	return row
}

// ReadRow decodes one run's JSON result, of any scenario, into its row.
func ReadRow(data []byte) (Row, error) {
	var head struct{ Scenario string }
	if err := json.Unmarshal(data, &head); err != nil {
		return Row{}, fmt.Errorf("bench: not a ringcast bench --json result: %w", err)
	}
	if head.Scenario == ScenarioConnections {
		var r ConnectionsResult
		if err := json.Unmarshal(data, &r); err != nil {
			return Row{}, err
		}
		return r.Row(), nil
	}
	if head.Scenario == "" {
		return Row{}, fmt.Errorf("bench: not a ringcast bench --json result: no scenario")
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return Row{}, err
	}
	return r.Row(), nil
}

// WriteTable writes rows as a Markdown table.
func WriteTable(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| scenario | setup | throughput | latency | checks | server CPU | server RSS |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	cell := func(s string) string {
		if s == "" {
			return "—"
		}
		return strings.ReplaceAll(s, "|", `\|`)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(r.Scenario), cell(r.Setup), cell(r.Throughput),
			cell(r.Latency), cell(r.Check), cell(r.ServerCPU), cell(r.ServerRSS))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func latencyCell(l Latency) string {
	if l.Samples == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s · p99 %s · p99.9 %s · max %s", ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max))
}

// ms writes d in milliseconds with 3 significant digits.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// thousands writes v rounded, with commas between thousands.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
