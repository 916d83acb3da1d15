package template

import "testing"

// BenchmarkAppendPayload is the baseline: sending the payload as is.
func BenchmarkAppendPayload(b *testing.B) {
	benchmarkAppend(b, "$MSG")
}

// BenchmarkAppendSyslog renders the CONFIG.md example template.
func BenchmarkAppendSyslog(b *testing.B) {
	benchmarkAppend(b, "$HOST $ISODATE $MSG")
}

// BenchmarkAppendEvery renders every variable.
func BenchmarkAppendEvery(b *testing.B) {
	benchmarkAppend(b, `{"host":"$HOST","time":"$ISODATE","unix":$UNIXTIME,"id":"$ID","seq":$SEQ,"topic":"$TOPIC","ct":"${attr.content_type}","data":$MSG}`)
}

func benchmarkAppend(b *testing.B, s string) {
	tm, err := Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	m := testMessage()
	buf := tm.Append(nil, m)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.Append(buf[:0], m)
	}
}
