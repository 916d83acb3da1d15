package broker

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var topicRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func TestValidateTopic(t *testing.T) {
	for _, name := range []string{"a", "orders.eu.created", "A-Z_0.9", strings.Repeat("x", 128)} {
		if err := ValidateTopic(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "a b", "a/b", "é", "a\x00", strings.Repeat("x", 129), "a*", "a>"} {
		if err := ValidateTopic(name); !errors.Is(err, ErrBadTopic) {
			t.Errorf("%q accepted", name)
		}
	}
}

func FuzzValidateTopic(f *testing.F) {
	for _, s := range []string{"a", "orders.eu", "", "a b", "ü", strings.Repeat("y", 129), "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateTopic(name)
		if (err == nil) != topicRE.MatchString(name) {
			t.Fatalf("%q: ValidateTopic says %v, the contract's regexp says %v", name, err, topicRE.MatchString(name))
		}
		if err != nil && !errors.Is(err, ErrBadTopic) {
			t.Fatalf("%q: error %v does not wrap ErrBadTopic", name, err)
		}
	})
}
