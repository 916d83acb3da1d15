package auth

import (
	"fmt"

	"github.com/ringcast/ringcast/broker"
)

// Grant is what one token may do: the topic patterns it may publish to and
// subscribe to. A nil Grant may do nothing.
type Grant struct {
	pub, sub []broker.Pattern
}

func newGrant(pub, sub []string) (*Grant, error) {
	g := &Grant{}
	var err error
	if g.pub, err = parsePatterns("publish", pub); err != nil {
		return nil, err
	}
	if g.sub, err = parsePatterns("subscribe", sub); err != nil {
		return nil, err
	}
	return g, nil
}

func parsePatterns(what string, list []string) ([]broker.Pattern, error) {
	ps := make([]broker.Pattern, 0, len(list))
	for i, s := range list {
		p, err := broker.ParsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", what, i, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// CanPublish reports whether the grant may publish to topic.
func (g *Grant) CanPublish(topic string) bool { return g != nil && match(g.pub, topic) }

// CanSubscribe reports whether the grant may subscribe to topic, read its
// messages and see its stats.
func (g *Grant) CanSubscribe(topic string) bool { return g != nil && match(g.sub, topic) }

func match(ps []broker.Pattern, topic string) bool {
	for _, p := range ps {
		if p.Match(topic) {
			return true
		}
	}
	return false
}
