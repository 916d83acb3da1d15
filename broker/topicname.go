package broker

import "fmt"

// MaxTopicLen is the longest valid topic name.
const MaxTopicLen = 128

// ValidateTopic reports whether name is a valid topic name,
// [A-Za-z0-9_.-]{1,128}, with an error wrapping ErrBadTopic that says why.
func ValidateTopic(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBadTopic)
	}
	if len(name) > MaxTopicLen {
		return fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrBadTopic, len(name), MaxTopicLen)
	}
	for i := 0; i < len(name); i++ {
		if !topicByte[name[i]] {
			return fmt.Errorf("%w: byte %q at offset %d; only A-Z a-z 0-9 _ . - are allowed", ErrBadTopic, name[i], i)
		}
	}
	return nil
}

var topicByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['.'], t['-'] = true, true, true
	return t
}()
