package broker

import (
	"fmt"
	"strings"
)

// Pattern matches topic names by level: "a.b" matches exactly, "a.*" any
// one level below a, "a.>" any depth (at least one level) below a. "*" may
// stand for any single level and ">" only as the last level. Topic names
// may hold empty levels ("a..b" is valid): "*" never matches an empty
// level, while ">" matches whatever non-empty rest follows, so "a.>"
// covers "a..b" and ">" covers ".".
type Pattern struct {
	levels []string
	tail   bool // the last level was ">"
}

// ParsePattern compiles a topic pattern, with an error saying what is wrong.
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("empty topic pattern")
	}
	if s == ">" {
		return Pattern{tail: true}, nil
	}
	levels := strings.Split(s, ".")
	p := Pattern{}
	for i, l := range levels {
		switch {
		case l == ">":
			if i != len(levels)-1 {
				return Pattern{}, fmt.Errorf("topic pattern %q: \">\" may only be the last level", s)
			}
			p.tail = true
			continue
		case l == "*":
		case l == "":
			return Pattern{}, fmt.Errorf("topic pattern %q: empty level", s)
		default:
			if err := ValidateTopic(l); err != nil {
				return Pattern{}, fmt.Errorf("topic pattern %q: %w", s, err)
			}
		}
		p.levels = append(p.levels, l)
	}
	return p, nil
}

// Match reports whether topic matches the pattern.
func (p Pattern) Match(topic string) bool {
	rest, done := topic, false // done: no level of topic is left
	for _, l := range p.levels {
		if done {
			return false
		}
		level, after, more := strings.Cut(rest, ".")
		if level == "" || (l != "*" && l != level) {
			return false
		}
		rest, done = after, !more
	}
	if p.tail {
		return !done && rest != ""
	}
	return done
}
