package config

import (
	"github.com/ringcast/ringcast/broker"
)

// maxRingSize bounds ring_size: a ring of 2^30 slots already takes 16 GiB.
const maxRingSize = 1 << 30

// TopicRule overrides settings for the topics it matches.
type TopicRule struct {
	// Match is the topic pattern: "a.b" exactly, "a.*" one level below a,
	// "a.>" any depth below a. Required.
	Match string `yaml:"match"`
	// RingSize is the slots per matching topic, a power of two. 0: the
	// top-level ring_size.
	RingSize int `yaml:"ring_size"`
	// AllowBlock lets subscribers of matching topics ask policy=block.
	// false: they may not.
	AllowBlock bool `yaml:"allow_block"`
	// MetricsLabel lets a matching topic's name be a metric label value.
	// false: it may not.
	MetricsLabel bool `yaml:"metrics_label"`
}

// BrokerRules returns the topic rules for broker.Config.Rules, or an error
// naming the rule that is invalid (which one from Parse never is).
func (c *Config) BrokerRules() ([]broker.TopicRule, error) {
	k := &checker{}
	checkTopics(k, c.Topics)
	if k.err != nil {
		return nil, k.err
	}
	rules := make([]broker.TopicRule, len(c.Topics))
	for i, r := range c.Topics {
		rules[i] = broker.TopicRule{Match: r.Match, RingSize: r.RingSize, AllowBlock: r.AllowBlock, MetricsLabel: r.MetricsLabel}
	}
	return rules, nil
}

// checkTopics validates the topic rules under the key path "topics".
func checkTopics(k *checker, rules []TopicRule) {
	first := map[string]int{} // match → index of the first rule with it
	for i, r := range rules {
		p := index("topics", i)
		k.pattern(join(p, "match"), r.Match)
		if j, dup := first[r.Match]; dup {
			k.fail(join(p, "match"), "%q is also the match of topics[%d], which wins", r.Match, j)
		} else {
			first[r.Match] = i
		}
		if r.RingSize != 0 {
			k.ringSize(join(p, "ring_size"), r.RingSize)
		}
	}
}
