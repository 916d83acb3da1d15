package ingress

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ringcast/ringcast/broker"
)

type batchAnswer struct {
	Topic    string `json:"topic"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Count    int    `json:"count"`
}

func TestBatch(t *testing.T) {
	ts := newTestServer(t, broker.Config{}, Config{})
	if status, _, body := ts.post(t, "/v1/topics/logs/", "before"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
	body := "{\"a\":1}\n\n{\"b\":2}\r\nthird\n\n"
	status, _, answer := ts.post(t, "/v1/topics/logs/batch", body,
		"Content-Type", "application/x-ndjson", "X-Ringcast-Attr-Source", "app1")
	if status != 201 {
		t.Fatalf("status %d, body %s", status, answer)
	}
	var a batchAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		t.Fatalf("answer %q: %v", answer, err)
	}
	if a != (batchAnswer{Topic: "logs", FirstSeq: 2, LastSeq: 4, Count: 3}) {
		t.Fatalf("answer %+v", a)
	}
	msgs := ts.retained("logs")
	var got []string
	for _, m := range msgs[1:] {
		got = append(got, string(m.Data))
		want := map[string]string{"source": "app1", "remote_addr": "127.0.0.1"}
		if !reflect.DeepEqual(m.Attrs, want) {
			t.Fatalf("attrs %v, want %v", m.Attrs, want)
		}
	}
	if want := []string{`{"a":1}`, "{\"b\":2}\r", "third"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("payloads %q, want %q", got, want)
	}
	if msgs[1].Time != msgs[3].Time || msgs[1].ID == msgs[2].ID {
		t.Fatal("a batch's messages should share one time and have distinct ids")
	}
	if got := testutil.ToFloat64(ts.in.m.publishedBatch); got != 3 {
		t.Fatalf("published{batch} = %v, want 3 (messages, not requests)", got)
	}
}

func TestBatchRefused(t *testing.T) {
	ts := newTestServer(t, broker.Config{RingSize: 8},
		Config{MaxMessageBytes: 16, MaxBatchBytes: 64})
	long := strings.Repeat("y", 17)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty body", "", 400, "bad_request"},
		{"only newlines", "\n\n\n", 400, "bad_request"},
		{"body over max batch bytes", strings.Repeat("x\n", 33), 413, "too_large"},
		{"line over max message bytes", "ok\n" + long + "\nok\n", 413, "too_large"},
		{"last line over max message bytes", "ok\n" + long, 413, "too_large"},
		{"more lines than the ring", strings.Repeat("x\n", 9), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.rejected(tc.code)
			status, _, body := ts.post(t, "/v1/topics/b/batch", tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.status, body)
			}
			if e := decodeError(t, body); e.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Code, tc.code)
			}
			if ts.rejected(tc.code) != before+1 {
				t.Fatalf("rejected{%s} not counted", tc.code)
			}
			if h := ts.head("b"); h != 0 {
				t.Fatalf("head %d: part of a refused batch was accepted", h)
			}
		})
	}
	status, _, body := ts.post(t, "/v1/topics/b/batch", strings.Repeat("x", 16)+"\n"+strings.Repeat("z\n", 7))
	if status != 201 {
		t.Fatalf("a batch at every limit: status %d, body %s", status, body)
	}
}

// TestBatchBackpressure checks that a batch meeting a full block
// subscriber is refused whole.
func TestBatchBackpressure(t *testing.T) {
	ts := newTestServer(t, blockConfig, Config{PublishTimeout: 100 * time.Millisecond})
	sub, err := ts.b.Subscribe("blk.batch", broker.SubscribeOptions{Policy: broker.Block})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if status, _, body := ts.post(t, "/v1/topics/blk.batch/batch", "1\n2\n3\n"); status != 201 {
		t.Fatalf("status %d, body %s", status, body)
	}
	status, hdr, body := ts.post(t, "/v1/topics/blk.batch/batch", "4\n5\n")
	if status != 503 || hdr.Get("Retry-After") != "1" || decodeError(t, body).Code != "backpressure" {
		t.Fatalf("status %d, Retry-After %q, body %s", status, hdr.Get("Retry-After"), body)
	}
	if h := ts.head("blk.batch"); h != 3 {
		t.Fatalf("head %d: part of a refused batch was accepted", h)
	}
}

// splitReference is scanBatch's and newBatch's specification: the
// non-empty pieces of body split on \n.
func splitReference(body []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(body, []byte{'\n'}) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func FuzzScanBatch(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\r\nb", "\n\nab\n\n\nc", strings.Repeat("x", 20) + "\ny"} {
		f.Add([]byte(s), 4)
	}
	f.Fuzz(func(t *testing.T, body []byte, maxLine int) {
		want := splitReference(body)
		count, long, longLen := scanBatch(body, maxLine)
		if long != 0 {
			lines := bytes.Split(body, []byte{'\n'})
			if long > len(lines) || len(lines[long-1]) != longLen || longLen <= maxLine {
				t.Fatalf("line %d of %d reported %d bytes long", long, len(lines), longLen)
			}
			for _, l := range lines[:long-1] {
				if len(l) > maxLine {
					t.Fatalf("an earlier line is over %d bytes", maxLine)
				}
			}
			return
		}
		if count != len(want) {
			t.Fatalf("count %d, want %d", count, len(want))
		}
		if count == 0 {
			return
		}
		attrs := map[string]string{"k": "v"}
		ms := newBatch(body, count, attrs)
		for i, m := range ms {
			if !bytes.Equal(m.Data, want[i]) || len(m.Data) > maxLine || cap(m.Data) != len(m.Data) {
				t.Fatalf("message %d is %q (cap %d), want %q", i, m.Data, cap(m.Data), want[i])
			}
			if len(body) > 0 && &m.Data[0] == &body[0] {
				t.Fatal("a message aliases the request body")
			}
		}
	})
}
