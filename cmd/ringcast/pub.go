package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	topicURL, err := topicURL(*base, args[0])
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if len(args) == 2 {
		return post(ctx, client, topicURL, []byte(args[1]), stdout)
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var body bytes.Buffer
	lines, sent := 0, 0
	flush := func() error {
		if lines == 0 {
			return nil
		}
		if err := post(ctx, client, topicURL+"/batch", body.Bytes(), io.Discard); err != nil {
			return err
		}
		sent += lines
		body.Reset()
		lines = 0
		return nil
	}
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		body.Write(sc.Bytes())
		body.WriteByte('\n')
		if lines++; lines == *batch {
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
	fmt.Fprintf(stderr, "published %d messages to %s\n", sent, args[0])
	return nil
}

// topicURL returns base/v1/topics/TOPIC.
func topicURL(base, topic string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q: want http://HOST:PORT or https://HOST:PORT", base)
	}
	return strings.TrimSuffix(u.String(), "/") + "/v1/topics/" + url.PathEscape(topic), nil
}

// post sends body and copies a 201 answer to out; anything else is an error
// carrying the broker's answer.
func post(ctx context.Context, client *http.Client, u string, body []byte, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(answer)))
	}
	_, err = out.Write(answer)
	return err
}
