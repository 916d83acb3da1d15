package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// PublishResult is the server's answer to Publish: the message as
// accepted. It marshals to the contract's JSON answer.
type PublishResult struct {
	Topic string    `json:"topic"`
	Seq   uint64    `json:"seq"`
	Epoch string    `json:"epoch"`
	ID    string    `json:"id"`   // UUID v7
	Time  time.Time `json:"time"` // ingest time, UTC
}

// BatchResult is the server's answer to PublishBatch: the batch was
// accepted whole with the seqs FirstSeq to LastSeq. It marshals to the
// contract's JSON answer.
type BatchResult struct {
	Topic    string `json:"topic"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Count    int    `json:"count"`
}

// Publish publishes data as one message to topic (POST
// /v1/topics/{topic}). Each attribute becomes the header
// X-Ringcast-Attr-<name> (the server lowercases names), except
// content_type, which is sent as the Content-Type header
// (application/octet-stream when absent). A refusal is an *APIError: an
// empty data is bad_request, a message over the server's limit too_large,
// and backpressure carries RetryAfter; nothing was accepted then.
func (c *Client) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (PublishResult, error) {
	var res PublishResult
	req, err := c.newRequest(ctx, http.MethodPost, c.topicURL(topic, ""), bytes.NewReader(data))
	if err != nil {
		return res, fmt.Errorf("client: publish to %q: %w", topic, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	for k, v := range attrs {
		if k == "content_type" {
			req.Header.Set("Content-Type", v)
			continue
		}
		if !isToken(k) {
			return res, fmt.Errorf("client: publish to %q: attribute name %q: want letters, digits and !#$%%&'*+-.^_`|~ only (it becomes a header name)", topic, k)
		}
		req.Header["X-Ringcast-Attr-"+k] = []string{v}
	}
	if err := c.post(req, &res); err != nil {
		return res, fmt.Errorf("client: publish to %q: %w", topic, err)
	}
	return res, nil
}

// PublishBatch publishes payloads to topic as one batch (POST
// /v1/topics/{topic}/batch), accepted whole with contiguous seqs or not at
// all. The body has one payload per line, so a payload must be neither
// empty nor hold a '\n'; publish such a payload with Publish. Refusals are
// as Publish's; a batch larger than the server's --max-batch-bytes, or
// than the topic's ring can retain, is too_large.
func (c *Client) PublishBatch(ctx context.Context, topic string, payloads [][]byte) (BatchResult, error) {
	var res BatchResult
	size := 0
	for i, p := range payloads {
		switch {
		case len(p) == 0:
			return res, fmt.Errorf("client: batch to %q: payload %d is empty, and the server would skip its empty line; Ringcast has no empty messages", topic, i)
		case bytes.IndexByte(p, '\n') >= 0:
			return res, fmt.Errorf("client: batch to %q: payload %d holds a newline, which would split it in two; publish it with Publish", topic, i)
		}
		size += len(p) + 1
	}
	body := make([]byte, 0, size)
	for _, p := range payloads {
		body = append(append(body, p...), '\n')
	}
	req, err := c.newRequest(ctx, http.MethodPost, c.topicURL(topic, "/batch"), bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("client: batch to %q: %w", topic, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := c.post(req, &res); err != nil {
		return res, fmt.Errorf("client: batch to %q: %w", topic, err)
	}
	return res, nil
}

// post sends req and decodes a 201 answer into out; any other answer is an
// *APIError.
func (c *Client) post(req *http.Request, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return readAPIError(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(out); err != nil {
		return fmt.Errorf("the server accepted, but its answer is not the contract's JSON: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110), as a header name
// must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
