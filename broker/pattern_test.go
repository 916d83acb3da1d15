package broker

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pattern string
		yes, no []string
	}{
		{"a.b", []string{"a.b"}, []string{"a", "a.b.c", "a.bc", "x.b"}},
		{"a.*", []string{"a.b", "a.zz"}, []string{"a", "a.b.c", "b.a"}},
		{"a.>", []string{"a.b", "a.b.c.d"}, []string{"a", "ab.c", "b.a"}},
		{"*.b", []string{"a.b", "x.b"}, []string{"b", "a.b.c"}},
		{">", []string{"a", "a.b.c", "."}, nil},
		{"a.>", []string{"a..b", "a.."}, []string{"a."}},
		{"a.*", nil, []string{"a."}},
		{"a.*.c", []string{"a.b.c"}, []string{"a.b", "a.b.c.d", "a.c"}},
		{"orders", []string{"orders"}, []string{"orders.eu", "order"}},
	}
	for _, tc := range cases {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		for _, s := range tc.yes {
			if !p.Match(s) {
				t.Errorf("%q should match %q", tc.pattern, s)
			}
		}
		for _, s := range tc.no {
			if p.Match(s) {
				t.Errorf("%q should not match %q", tc.pattern, s)
			}
		}
	}
}

func TestParsePatternErrors(t *testing.T) {
	for _, s := range []string{"", "a.>.b", "a..b", ".a", "a.", "a b", "a.b*"} {
		if _, err := ParsePattern(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzPattern checks Match against a plain level-by-level reference.
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{{"a.>", "a.b"}, {"a.*", "a.b.c"}, {"*.b", "a.b"}, {">", "x"}, {"a.b", "a.b"}, {">", "."}, {"a.>", "a..b"}, {"a.*", "a."}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		p, err := ParsePattern(pattern)
		if err != nil || ValidateTopic(topic) != nil {
			return
		}
		if got, want := p.Match(topic), referenceMatch(pattern, topic); got != want {
			t.Fatalf("%q on %q: %v, want %v", pattern, topic, got, want)
		}
	})
}

func referenceMatch(pattern, topic string) bool {
	pl, tl := strings.Split(pattern, "."), strings.Split(topic, ".")
	for i, l := range pl {
		if l == ">" {
			return len(tl) > i && strings.Join(tl[i:], ".") != ""
		}
		if i >= len(tl) || tl[i] == "" || (l != "*" && l != tl[i]) {
			return false
		}
	}
	return len(pl) == len(tl)
}

func TestParsePositionAndPolicy(t *testing.T) {
	for s, want := range map[string]Position{"latest": {}, "oldest": {Kind: Oldest}, "1": {Kind: AtSeq, Seq: 1}, "42": {Kind: AtSeq, Seq: 42}} {
		if got, err := ParsePosition(s); err != nil || got != want {
			t.Errorf("%q: %+v %v", s, got, err)
		}
	}
	for _, s := range []string{"0", "-1", "x", "", "1.5", "99999999999999999999"} {
		if _, err := ParsePosition(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	for s, want := range map[string]Policy{"": DropOldest, "drop-oldest": DropOldest, "disconnect": Disconnect, "block": Block} {
		if got, err := ParsePolicy(s); err != nil || got != want {
			t.Errorf("%q: %v %v", s, got, err)
		}
		if s != "" && want.String() != s {
			t.Errorf("String %q", want.String())
		}
	}
	if _, err := ParsePolicy("drop_oldest"); err == nil {
		t.Error("drop_oldest accepted")
	}
}
