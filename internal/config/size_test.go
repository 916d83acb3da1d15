package config

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Size
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"512B", 512},
		{"64KiB", 64 << 10},
		{"1MiB", 1 << 20},
		{"2GiB", 2 << 30},
		{"8589934591GiB", 8589934591 << 30},
	} {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "is not a size"},
		{"10KB", `"10KB" is not a size: write bytes (1048576) or a whole number with B, KiB, MiB or GiB`},
		{"1M", "is not a size"},
		{"1kib", "is not a size"},
		{"1.5MiB", "is not a size"},
		{"-1", "is not a size"},
		{"+1", "is not a size"},
		{" 1", "is not a size"},
		{"KiB", "is not a size"},
		{"0x10", "is not a size"},
		{"8589934592GiB", "is too large"},
		{"99999999999999999999", "is too large"},
	} {
		_, err := ParseSize(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSize(%q) error %v, want %q", c.in, err, c.want)
		}
	}
}
