package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ringcast/ringcast/client"
)

const pubUsage = `usage: ringcast pub [flags] TOPIC [MESSAGE]

Publishes MESSAGE to TOPIC and prints the broker's answer. Without MESSAGE,
each line of standard input becomes one message, sent in batches.`

// pub publishes one message or stdin's lines.
func pub(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("pub", stderr, pubUsage)
	base := fs.String("url", "http://127.0.0.1:8080", "the broker's base URL")
	batch := fs.Int("batch", 1000, "lines per batch when reading standard input")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(args) < 1 || len(args) > 2 || *batch < 1 {
		fs.Usage()
		return fmt.Errorf("pub needs TOPIC and at most one MESSAGE, and --batch of at least 1")
	}
	c, err := client.New(*base)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	topic := args[0]
	if len(args) == 2 {
		res, err := c.Publish(ctx, topic, []byte(args[1]), nil)
		if err != nil {
			return err
		}
		answer, err := json.Marshal(res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", answer)
		return err
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var lines [][]byte
	sent := 0
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		if _, err := c.PublishBatch(ctx, topic, lines); err != nil {
			return err
		}
		sent += len(lines)
		lines = lines[:0]
		return nil
	}
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if lines = append(lines, bytes.Clone(sc.Bytes())); len(lines) == *batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "published %d messages to %s\n", sent, topic)
	return nil
}
