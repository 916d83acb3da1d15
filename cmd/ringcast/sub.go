package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ringcast/ringcast/client"
)

const subUsage = `usage: ringcast sub [flags] TOPIC

Subscribes to TOPIC over WebSocket and prints each message as it arrives:
the payload (--format raw) or the JSON envelope (--format json), one per
line. It reconnects when the connection drops and resumes where it was;
each gap (messages missed) and reset (the topic's history started over)
is reported on standard error.`

// sub prints a topic's messages until interrupted or refused.
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
	if *format != "raw" && *format != "json" {
		return fmt.Errorf("--format %q: want raw or json", *format)
	}
	start, err := client.ParsePosition(*from)
	if err != nil {
		return fmt.Errorf("--from %q: want latest, oldest or a seq of at least 1", *from)
	}
	c, err := client.New(*base)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	topic := args[0]
	s, err := c.Subscribe(ctx, topic, client.SubscribeOptions{
		From:   start,
		Policy: client.Policy(*policy),
		OnDisconnect: func(err error, retryIn time.Duration) {
			fmt.Fprintf(stderr, "ringcast sub: %s: %v; reconnecting in %v\n", topic, err, retryIn.Round(time.Millisecond))
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer s.Close()
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("subscription to %s ended: %w", topic, err)
		}
		switch e := ev.(type) {
		case client.Message:
			line := e.Data
			if *format == "json" {
				if line, err = json.Marshal(e); err != nil {
					return err
				}
			}
			if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
				return err
			}
		case client.Gap:
			fmt.Fprintf(stderr, "ringcast sub: %s: gap: %v\n", topic, e)
		case client.Reset:
			fmt.Fprintf(stderr, "ringcast sub: %s: reset: %v\n", topic, e)
		}
	}
}
