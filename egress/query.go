package egress

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/ringcast/ringcast/broker"
	"github.com/valyala/fasthttp"
)

// Limits of GET /messages.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// subParams are the query parameters every subscribe form shares. An empty
// value counts as absent, everywhere.
type subParams struct {
	opts broker.SubscribeOptions
	json bool // format=json
}

// parseSubscribe reads from, format, policy and epoch, with an error that
// says which value is wrong and what is allowed.
func parseSubscribe(args *fasthttp.Args) (subParams, error) {
	var p subParams
	var err error
	if v := args.Peek("from"); len(v) > 0 {
		if p.opts.From, err = broker.ParsePosition(string(v)); err != nil {
			return p, badQuery(err)
		}
	}
	switch v := string(args.Peek("format")); v {
	case "", "raw":
	case "json":
		p.json = true
	default:
		return p, fmt.Errorf("bad query parameter: format %q: want raw or json", v)
	}
	if p.opts.Policy, err = broker.ParsePolicy(string(args.Peek("policy"))); err != nil {
		return p, badQuery(err)
	}
	p.opts.Epoch = string(args.Peek("epoch"))
	return p, nil
}

// parseEcho reads echo (WebSocket pubsub): true, the default, or false.
func parseEcho(args *fasthttp.Args) (bool, error) {
	switch v := string(args.Peek("echo")); v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("bad query parameter: echo %q: want true or false", v)
	}
}

// parseLimit reads limit (GET /messages): 1 to 1000, more is taken as
// 1000; 100 when absent.
func parseLimit(args *fasthttp.Args) (int, error) {
	v := args.Peek("limit")
	if len(v) == 0 {
		return defaultLimit, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || n <= 0 {
		return 0, fmt.Errorf("bad query parameter: limit %q: want a number of messages of at least 1 (at most %d are sent)", v, maxLimit)
	}
	return int(min(n, maxLimit)), nil
}

// lastEventID makes an SSE reconnection resume after its Last-Event-ID,
// which wins over from.
func lastEventID(ctx *fasthttp.RequestCtx, opts *broker.SubscribeOptions) error {
	v := ctx.Request.Header.Peek("Last-Event-ID")
	if len(v) == 0 {
		return nil
	}
	id, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || id >= broker.MaxSeq {
		return fmt.Errorf("bad Last-Event-ID header %q: want the seq of the last event received", v)
	}
	opts.From = broker.Position{Kind: broker.AtSeq, Seq: id + 1}
	return nil
}

func badQuery(err error) error { return fmt.Errorf("bad query parameter: %w", err) }
