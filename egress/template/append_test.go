package template

import (
	"testing"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// testMessage has every field a template can render.
func testMessage() *broker.Message {
	return &broker.Message{
		Topic: "orders.eu",
		Seq:   42,
		ID:    [16]byte{0x01, 0x93, 0xa5, 0xb2, 0x7c, 0x1e, 0x7a, 0xbc, 0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab},
		Time:  time.Date(2026, 11, 21, 18, 27, 33, 123456789, time.FixedZone("CET", 3600)),
		Data:  []byte(`{"total":3}`),
		Attrs: map[string]string{"remote_addr": "203.0.113.7", "content_type": "application/json", "x.y-z": "dots"},
	}
}

func TestAppend(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{"", `{"total":3}`},
		{"$MSG", `{"total":3}`},
		{"${MSG}", `{"total":3}`},
		{"$TOPIC", "orders.eu"},
		{"$SEQ", "42"},
		{"$ID", "0193a5b2-7c1e-7abc-8def-0123456789ab"},
		{"$ISODATE", "2026-11-21T17:27:33.123Z"},
		{"$UNIXTIME", "1795282053.123"},
		{"$HOST", "203.0.113.7"},
		{"${attr.remote_addr}", "203.0.113.7"},
		{"${attr.content_type}", "application/json"},
		{"${attr.x.y-z}", "dots"},
		{"${attr.missing}", ""},
		{"$MSG$TOPIC", `{"total":3}orders.eu`},
		{"${TOPIC}_x", "orders.eu_x"},
		{"$TOPIC.x", "orders.eu.x"},
		{"$$", "$"},
		{"$$MSG", "$MSG"},
		{"$$$MSG$$", `${"total":3}$`},
		{"price: 5$$", "price: 5$"},
		{"plain text", "plain text"},
		{"$HOST $ISODATE $MSG", `203.0.113.7 2026-11-21T17:27:33.123Z {"total":3}`},
		{`{"seq":$SEQ,"id":"$ID","data":$MSG}`, `{"seq":42,"id":"0193a5b2-7c1e-7abc-8def-0123456789ab","data":{"total":3}}`},
		{"héllo $TOPIC ✓", "héllo orders.eu ✓"},
	} {
		tm, err := Compile(c.tmpl)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.tmpl, err)
			continue
		}
		if got := string(tm.Append([]byte("<"), testMessage())); got != "<"+c.want {
			t.Errorf("Compile(%q).Append = %q, want %q", c.tmpl, got, "<"+c.want)
		}
		if tm.String() != c.tmpl {
			t.Errorf("Compile(%q).String() = %q", c.tmpl, tm.String())
		}
	}
}

func TestAppendAbsentFields(t *testing.T) {
	tm, err := Compile("[$HOST|${attr.a}|$MSG|$TOPIC|$SEQ|$UNIXTIME|$ISODATE]")
	if err != nil {
		t.Fatal(err)
	}
	got := string(tm.Append(nil, &broker.Message{}))
	if want := "[||||0|-62135596800.000|0001-01-01T00:00:00.000Z]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAppendUnixMilli(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{
		{0, "0.000"},
		{5, "0.005"},
		{1795282053123, "1795282053.123"},
		{-1500, "-1.500"},
		{-1, "-0.001"},
		{-9223372036854775808, "-9223372036854775.808"},
	} {
		if got := string(appendUnixMilli(nil, c.ms)); got != c.want {
			t.Errorf("appendUnixMilli(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	tm, err := Compile("$HOST $ISODATE $UNIXTIME $ID $SEQ $TOPIC ${attr.content_type} $$ $MSG")
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = tm.Append(buf[:0], m) }); n != 0 {
		t.Errorf("Append allocates %v times per run, want 0", n)
	}
}
