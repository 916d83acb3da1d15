package config

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDurationUnmarshalYAML(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"250ms", 250 * time.Millisecond},
		{"30s", 30 * time.Second},
		{"1m30s", 90 * time.Second},
		{`"2h"`, 2 * time.Hour},
	} {
		var d Duration
		if err := yaml.Unmarshal([]byte(c.in), &d); err != nil || time.Duration(d) != c.want {
			t.Errorf("%s: got %v, %v, want %v", c.in, d, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"30", "30 is not a duration: add a unit, like 30s or 30ms"},
		{"1.5", "1.5 is not a duration: add a unit"},
		{"3x", `"3x" is not a duration (like 250ms or 30s)`},
		{`""`, `"" is not a duration`},
		{"-1s", `"-1s" is negative`},
		{"[1s]", "is a list, want a duration"},
		{"{a: 1}", "is a mapping, want a duration"},
	} {
		var d Duration
		err := yaml.Unmarshal([]byte(c.in), &d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
	if got := Duration(1500 * time.Millisecond).String(); got != "1.5s" {
		t.Errorf("String() = %q", got)
	}
}
