package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/fasthttp/websocket"
)

const subUsage = `usage: ringcast sub [flags] TOPIC

Subscribes to TOPIC over WebSocket and prints each message as it arrives:
the payload (--format raw) or the JSON envelope (--format json), one per
line.`

// sub prints a topic's messages until interrupted or the server closes.
func sub(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sub", stderr, subUsage)
	base := fs.String("url", "http://127.0.0.1:8080", "the broker's base URL")
	from := fs.String("from", "latest", "latest, oldest or a seq to start at")
	format := fs.String("format", "raw", "raw (the payload) or json (the envelope)")
	policy := fs.String("policy", "drop-oldest", "drop-oldest, disconnect or block")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return errors.New("sub needs exactly one TOPIC")
	}
	u, err := topicURL(*base, args[0])
	if err != nil {
		return err
	}
	u = "ws" + strings.TrimPrefix(u, "http") + "/ws?" + url.Values{"from": {*from}, "format": {*format}, "policy": {*policy}}.Encode()
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return fmt.Errorf("subscribe %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
		}
		return fmt.Errorf("subscribe %s: %w", u, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil || websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return nil
			}
			return fmt.Errorf("subscription to %s ended: %w", args[0], err)
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", data); err != nil {
			return err
		}
	}
}
