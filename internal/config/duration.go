package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in the file as a Go duration: 250ms,
// 30s, 1m30s. A plain number is an error unless it is 0, and so is a
// negative duration.
type Duration time.Duration

// UnmarshalYAML parses a duration with time.ParseDuration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("is %s, want a duration like 250ms or 30s", describe(n))
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err != nil && n.Value != "" && strings.Trim(n.Value, "0123456789.") == "":
		return fmt.Errorf("%s is not a duration: add a unit, like %ss or %sms", n.Value, n.Value, n.Value)
	case err != nil:
		return fmt.Errorf("%q is not a duration (like 250ms or 30s)", n.Value)
	case v < 0:
		return fmt.Errorf("%q is negative; durations are 0 or more", n.Value)
	}
	*d = Duration(v)
	return nil
}

// String formats the duration like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }
