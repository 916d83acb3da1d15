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
	cpuSeconds  float64            // process_cpu_seconds_total
	rssBytes    float64            // process_resident_memory_bytes
	dropped     float64            // ringcast_messages_dropped_total, every reason
	droppedBy   map[string]float64 // ringcast_messages_dropped_total by reason
	published   map[string]float64 // ringcast_messages_published_total by transport
	subscribers map[string]float64 // ringcast_subscribers by transport
	connections map[string]float64 // ringcast_connections by kind
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
	s := serverSample{
		droppedBy:   map[string]float64{},
		published:   map[string]float64{},
		subscribers: map[string]float64{},
		connections: map[string]float64{},
	}
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
		labels := ""
		if i := strings.IndexByte(name, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			name, labels, rest = line[:i], line[i+1:max(j, i+1)], line[j+1:]
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
			s.droppedBy[labelValue(labels, "reason")] += v
		case "ringcast_messages_published_total":
			s.published[labelValue(labels, "transport")] += v
		case "ringcast_subscribers":
			s.subscribers[labelValue(labels, "transport")] += v
		case "ringcast_connections":
			s.connections[labelValue(labels, "kind")] += v
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

// labelValue returns the value of label key in labels (k="v",k2="v2"),
// "" when it is not there.
func labelValue(labels, key string) string {
	for labels != "" {
		k, rest, ok := strings.Cut(labels, `="`)
		if !ok {
			return ""
		}
		var b strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				if rest[i] == 'n' {
					b.WriteByte('\n')
					continue
				}
			}
			b.WriteByte(rest[i])
		}
		if strings.TrimSpace(k) == key {
			return b.String()
		}
		labels = strings.TrimPrefix(rest[min(i+1, len(rest)):], ",")
	}
	return ""
}
