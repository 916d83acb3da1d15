package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// sseFeed reads a raw-format SSE subscription: one event per message, its
// data lines joined with newlines, or base64 for an event of type b64.
type sseFeed struct {
	body   io.ReadCloser
	r      *bufio.Reader
	cancel context.CancelFunc
	line   []byte // a line longer than the reader's buffer
	data   []byte
	dec    []byte
}

// sseReadBuffer is an SSE subscriber's read buffer in the publishing
// scenarios: a subscriber that fell behind takes its backlog in few system
// calls.
const sseReadBuffer = 64 << 10

// dialSSE opens an SSE stream read through a buffer of bufSize bytes; ctx
// bounds only the handshake.
func dialSSE(ctx context.Context, client *http.Client, u string, bufSize int) (*sseFeed, error) {
	streamCtx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	stop := context.AfterFunc(ctx, cancel)
	resp, err := client.Do(req)
	if !stop() && err == nil {
		err = ctx.Err()
		resp.Body.Close()
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bench: cannot open %s: %w", u, err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		msg := answer(resp)
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("bench: cannot open %s: %s", u, msg)
	}
	return &sseFeed{body: resp.Body, r: bufio.NewReaderSize(resp.Body, bufSize), cancel: cancel}, nil
}

func (f *sseFeed) next() ([]byte, int64, error) {
	f.data = f.data[:0]
	has, b64 := false, false
	for {
		line, err := f.readLine()
		if err != nil {
			return nil, 0, err
		}
		if len(line) == 0 {
			if has {
				b, err := f.payload(b64)
				return b, time.Now().UnixNano(), err
			}
			b64 = false
			continue
		}
		field, value, _ := bytes.Cut(line, []byte{':'})
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(field) {
		case "data":
			if has {
				f.data = append(f.data, '\n')
			}
			f.data = append(f.data, value...)
			has = true
		case "event":
			b64 = string(value) == "b64"
		}
	}
}

// payload is the event's data, decoded from base64 when b64.
func (f *sseFeed) payload(b64 bool) ([]byte, error) {
	if !b64 {
		return f.data, nil
	}
	if n := base64.StdEncoding.DecodedLen(len(f.data)); cap(f.dec) < n {
		f.dec = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(f.dec[:cap(f.dec)], f.data)
	if err != nil {
		return nil, fmt.Errorf("bench: SSE event of type b64 is not base64: %w", err)
	}
	return f.dec[:n], nil
}

// readLine returns the next line without its line ending, valid until the
// next call.
func (f *sseFeed) readLine() ([]byte, error) {
	line, err := f.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		f.line = append(f.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = f.r.ReadSlice('\n')
			f.line = append(f.line, line...)
		}
		line = f.line
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	return line, nil
}

// closedByPolicy: the broker ends a lapped disconnect subscriber's stream.
func (f *sseFeed) closedByPolicy(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func (f *sseFeed) stop() { f.cancel() }

func (f *sseFeed) abort() { f.cancel() }

func (f *sseFeed) close() {
	f.cancel()
	_ = f.body.Close()
}
