package egress

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/ringcast/ringcast/broker"
)

func TestMessages(t *testing.T) {
	s := newTestServer(t, broker.Config{RingSize: 2048}, nil)
	if status, body := s.get(t, s.url("http", "none", "messages", ""), nil); status != 200 || string(body) != "[]\n" {
		t.Fatalf("unknown topic: %d %q", status, body)
	}
	if s.b.Lookup("none") != nil {
		t.Fatal("GET /messages created the topic")
	}
	batch := make([]*broker.Message, 1100)
	for i := range batch {
		batch[i] = &broker.Message{Data: []byte("m" + strconv.Itoa(i+1))}
	}
	batch[1].Data = []byte{0xff}
	batch[2].Attrs = map[string]string{"k": "v"}
	if err := s.b.PublishBatch(context.Background(), "t", batch); err != nil {
		t.Fatal(err)
	}
	epoch := s.b.Lookup("t").Epoch()
	for _, tc := range []struct {
		query       string
		first, last uint64
		count       int
	}{
		{"", 1, 100, 100},
		{"limit=3", 1, 3, 3},
		{"limit=5000", 1, 1000, 1000},
		{"from=oldest&limit=2", 1, 2, 2},
		{"from=1099", 1099, 1100, 2},
		{"from=1101", 0, 0, 0},
		{"from=latest", 0, 0, 0},
		{"from=50&limit=1&epoch=" + epoch, 50, 50, 1},
		{"from=50&limit=1&epoch=old", 1, 1, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			status, body := s.get(t, s.url("http", "t", "messages", tc.query), nil)
			var envs []envelopeJSON
			if err := json.Unmarshal(body, &envs); err != nil || status != 200 {
				t.Fatalf("%d %s: %v", status, body, err)
			}
			if len(envs) != tc.count {
				t.Fatalf("%d messages, want %d", len(envs), tc.count)
			}
			if tc.count > 0 && (envs[0].Seq != tc.first || envs[len(envs)-1].Seq != tc.last) {
				t.Fatalf("seqs %d..%d, want %d..%d", envs[0].Seq, envs[len(envs)-1].Seq, tc.first, tc.last)
			}
			for i, env := range envs {
				if i > 0 && env.Seq != envs[i-1].Seq+1 {
					t.Fatalf("not oldest first: %d after %d", env.Seq, envs[i-1].Seq)
				}
				want := "m" + strconv.FormatUint(env.Seq, 10)
				switch env.Seq {
				case 2:
					if env.DataB64 == nil || *env.DataB64 != "/w==" || env.Data != nil {
						t.Fatalf("binary message %+v", env)
					}
					continue
				case 3:
					if env.Attrs["k"] != "v" {
						t.Fatalf("attrs %+v", env)
					}
				}
				if env.Data == nil || *env.Data != want || env.Topic != "t" || env.Epoch != epoch {
					t.Fatalf("message %+v", env)
				}
			}
		})
	}
	if got := testutil.ToFloat64(s.e.DeliveredCounter(TransportHTTP)); got != 100+3+1000+2+2+1+1 {
		t.Fatalf("delivered %v", got)
	}
}
