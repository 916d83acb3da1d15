package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// serverSample is what a run reads from the broker's /metrics.
type serverSample struct {
	cpuSeconds float64 // process_cpu_seconds_total
	rssBytes   float64 // process_resident_memory_bytes
	dropped    float64 // ringcast_messages_dropped_total, every reason
}

// scrapeServer reads the broker's /metrics.
func scrapeServer(ctx context.Context, client *http.Client, metricsURL string) (serverSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return serverSample{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return serverSample{}, fmt.Errorf("bench: cannot read the broker's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverSample{}, fmt.Errorf("bench: cannot read the broker's metrics: GET %s: %s", metricsURL, answer(resp))
	}
	return parseMetrics(resp.Body)
}

// parseMetrics picks the sample's metrics out of the Prometheus text
// format; the process metrics must be there.
func parseMetrics(r io.Reader) (serverSample, error) {
	var s serverSample
	var cpu, rss bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// name{labels} value [timestamp], or name value [timestamp]
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, rest = line[:i], line[strings.LastIndexByte(line, '}')+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			s.cpuSeconds, cpu = v, true
		case "process_resident_memory_bytes":
			s.rssBytes, rss = v, true
		case "ringcast_messages_dropped_total":
			s.dropped += v
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("bench: cannot read the broker's metrics: %w", err)
	}
	if !cpu || !rss {
		return s, fmt.Errorf("bench: the broker's metrics have no process_cpu_seconds_total or process_resident_memory_bytes")
	}
	return s, nil
}
