package server

import (
	"fmt"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/ringcast/ringcast/internal/redisengine"
)

// newEngine connects the redis engine when Config.Redis is set, and
// returns nil (the memory engine) otherwise. The broker closes it.
func (s *Server) newEngine() (broker.Engine, error) {
	if s.cfg.Redis == nil {
		return nil, nil
	}
	rc := *s.cfg.Redis
	if rc.Registerer == nil {
		rc.Registerer = s.reg
	}
	eng, err := redisengine.New(rc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.engine = eng
	return eng, nil
}

// startEngine binds the redis engine, if any, to the broker.
func (s *Server) startEngine() {
	if s.engine != nil {
		s.engine.Start(s.broker)
	}
}

// closeEngine closes an engine the broker never took over.
func (s *Server) closeEngine() {
	if s.engine != nil {
		s.engine.Close()
	}
}

// engineDown answers 503 unavailable and reports true when the redis
// engine cannot reach Redis.
func (s *Server) engineDown(ctx *fasthttp.RequestCtx) bool {
	if s.engine == nil || s.engine.Up() {
		return false
	}
	writeUnavailable(ctx)
	return true
}

// writeUnavailable answers 503 unavailable with Retry-After.
func writeUnavailable(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeUnavailable,
		"Redis (the engine that shares topics between instances) cannot be reached; retry later")
}

// attachDestinationTopics mirrors, with the redis engine, every topic a
// destination names exactly (no wildcard), so that the destination's
// subscription sees messages published on any instance. Topics matched
// only by a wildcard are delivered while this instance mirrors them for
// a subscriber. Redis errors are logged: the destination then starts with
// the topic's first local subscriber.
func (s *Server) attachDestinationTopics() {
	if s.engine == nil {
		return
	}
	for _, d := range s.cfg.Destinations {
		for _, t := range d.Topics {
			if strings.ContainsAny(t, "*>") {
				continue
			}
			if _, err := s.engine.Attach(t); err != nil {
				s.log.Warn("cannot mirror a destination's topic from Redis", "destination", d.Name, "topic", t, "err", err)
			}
		}
	}
}

// coordinateDestinations makes the instances that share Redis share the
// destinations too: each runs on the one instance that holds its lease
// in Redis, and resumes from the cursors stored there when another takes
// over (egress.Coordinator). With the memory engine every destination
// runs here.
func (s *Server) coordinateDestinations() error {
	if s.engine == nil || s.dests == nil {
		return nil
	}
	if err := s.dests.Coordinate(s.engine.Leases(redisengine.LeaseConfig{}), s.reg); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
