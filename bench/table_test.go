package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTableRows(t *testing.T) {
	res := Result{Scenario: ScenarioFanout, Config: FanoutConfig{Publishers: 1, Publish: "ws", Subscribers: 200, Transport: "ws", Policy: PolicyDropOldest, Rate: 4000, Size: 100},
		Measured: 10 * time.Second, PublishRate: 3999.6, DeliveryRate: 799_964,
		Latency: Latency{Samples: 10, P50: 2600 * time.Microsecond, P99: 8400 * time.Microsecond, P999: 12700 * time.Microsecond, Max: 176 * time.Millisecond},
		Ingest:  IngestCheck{OK: true, Verdict: "fine"}, Loss: &LossCheck{OK: true, Verdict: "nothing lost", Policy: PolicyDropOldest},
		Server: &ServerStats{CPUCores: 0.95, RSSBefore: 16 << 20, RSSAfter: 23 << 20}}
	b, _ := json.Marshal(res)
	row, err := ReadRow(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Row{Scenario: "fanout", Setup: "1 ws pub → 200 ws sub (drop-oldest), 4,000 msg/s, 100 B, 10s",
		Throughput: "4,000 msg/s → 799,964 deliveries/s", Latency: "p50 2.60 ms · p99 8.40 ms · p99.9 12.7 ms · max 176 ms",
		Check: "ok: fine; loss ok: nothing lost", ServerCPU: "0.95 cores", ServerRSS: "16.0 MiB → 23.0 MiB"}
	if row != want {
		t.Fatalf("row\n%+v, want\n%+v", row, want)
	}
	var table strings.Builder
	if err := WriteTable(&table, []Row{row, {Scenario: "a|b"}}); err != nil || !strings.Contains(table.String(), `| a\|b | — |`) {
		t.Fatalf("%v\n%s", err, table.String())
	}
	for _, bad := range []string{`{}`, `[`, `{"scenario":"connections","connected":"many"}`} {
		if _, err := ReadRow([]byte(bad)); err == nil {
			t.Errorf("ReadRow(%s) passed", bad)
		}
	}
	if got := thousands(1234567.6); got != "1,234,568" {
		t.Errorf("thousands: %s", got)
	}
}
