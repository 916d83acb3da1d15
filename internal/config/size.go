package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Size is a number of bytes, written in the file as a plain integer
// (1048576) or a whole number with a unit: B, KiB, MiB or GiB (64KiB, 1MiB).
type Size int64

// sizeUnits are the units ParseSize knows, longest suffix first.
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"KiB", 1 << 10},
	{"MiB", 1 << 20},
	{"GiB", 1 << 30},
	{"B", 1},
}

// ParseSize parses a size: "1048576", "512B", "64KiB", "1MiB" or "2GiB".
// Other units ("10KB", "1M") and negative or fractional numbers are errors.
func ParseSize(s string) (Size, error) {
	num, unit := s, int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = n, u.bytes
			break
		}
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a size: write bytes (1048576) or a whole number with B, KiB, MiB or GiB (64KiB, 1MiB)", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<63-1)/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n * unit), nil
}

// UnmarshalYAML parses a size with ParseSize.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("is %s, want a size like 1048576 or 1MiB", describe(n))
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
