package config

// Retry says how a destination retries a message it could not deliver.
type Retry struct {
	// MaxAttempts is how many times a message is tried before it is
	// dead-lettered. 0: forever.
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff is the wait after the first failure, doubled after
	// each further one, with full jitter; a Retry-After answer overrides it.
	// 0: 100ms.
	InitialBackoff Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the wait. 0: 30s.
	MaxBackoff Duration `yaml:"max_backoff"`
}

// Backoff says how an outbound WebSocket waits before it dials again.
type Backoff struct {
	// InitialBackoff is the wait after the first failure, doubled after
	// each further one, with full jitter. 0: 100ms.
	InitialBackoff Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the wait. 0: 30s.
	MaxBackoff Duration `yaml:"max_backoff"`
}

// checkBackoff validates the backoff durations under the key path p.
func checkBackoff(k *checker, p string, initial, limit Duration) {
	if initial > limit {
		k.fail(join(p, "initial_backoff"), "%v is more than max_backoff (%v)", initial, limit)
	}
}
