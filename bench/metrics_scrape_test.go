package bench

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 4.2e+07
ringcast_messages_dropped_total{reason="drop_oldest"} 7
ringcast_messages_dropped_total{reason="a b}"} 3 1700000000000
ringcast_messages_dropped_total_other 100
`
	s, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.cpuSeconds != 12.5 || s.rssBytes != 42e6 || s.dropped != 10 || s.droppedBy["drop_oldest"] != 7 || s.droppedBy["a b}"] != 3 {
		t.Fatalf("%+v", s)
	}
	if _, err := parseMetrics(strings.NewReader("go_goroutines 3\n")); err == nil {
		t.Fatal("metrics without process metrics accepted")
	}
}

func TestLabelValue(t *testing.T) {
	for _, tc := range []struct{ labels, key, want string }{
		{`transport="ws"`, "transport", "ws"},
		{`code="bad_topic",transport="http"`, "transport", "http"},
		{`a="x\"y",b="z"`, "b", "z"},
		{`a="x\"y",b="z"`, "a", `x"y`},
		{`a="1"`, "b", ""},
		{``, "a", ""},
	} {
		if got := labelValue(tc.labels, tc.key); got != tc.want {
			t.Errorf("labelValue(%s, %s) = %q, want %q", tc.labels, tc.key, got, tc.want)
		}
	}
}
