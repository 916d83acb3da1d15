package server

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// listTopics answers GET /v1/topics with every topic's stats, by name;
// with auth on, only the topics the caller's token may subscribe to.
func (s *Server) listTopics(ctx *fasthttp.RequestCtx) {
	g, ok := s.authenticate(ctx, false)
	if !ok {
		return
	}
	list, err := s.broker.AllTopics()
	if err != nil {
		writeUnavailable(ctx)
		return
	}
	if s.cfg.Auth != nil {
		list = slices.DeleteFunc(list, func(st broker.Stats) bool { return !g.CanSubscribe(st.Topic) })
	}
	if list == nil {
		list = []broker.Stats{}
	}
	slices.SortFunc(list, func(a, b broker.Stats) int { return strings.Compare(a.Topic, b.Topic) })
	httpx.WriteJSON(ctx, fasthttp.StatusOK, list)
}

// topicStats answers GET /v1/topics/{topic}; it never creates the topic.
// With the redis engine both answers come from Redis (503 unavailable
// when it cannot be reached), with this instance's subscribers and
// dropped counts.
func (s *Server) topicStats(ctx *fasthttp.RequestCtx, topic string) {
	st, ok, err := s.broker.TopicStats(topic)
	switch {
	case err != nil:
		writeUnavailable(ctx)
	case !ok:
		httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "topic "+quote(topic)+" does not exist")
	default:
		httpx.WriteJSON(ctx, fasthttp.StatusOK, st)
	}
}
