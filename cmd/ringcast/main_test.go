package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ringcast/ringcast/internal/server"
)

// TestMain checks no goroutine outlives the tests; fasthttp's worker pool
// cleaner exits by itself after its sleep (see internal/server).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
}

// startServer runs a real broker on a loopback port for the test.
func startServer(t *testing.T) string {
	t.Helper()
	s, err := server.New(server.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return "http://" + s.Addr().String()
}

func TestEnvOverridesUnsetFlags(t *testing.T) {
	fs, f := newServeFlags(io.Discard)
	if err := fs.Parse([]string{"--listen", ":7000"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RINGCAST_LISTEN": ":9999", "RINGCAST_RING_SIZE": "1024", "RINGCAST_PUBLISH_TIMEOUT": "2s", "RINGCAST_MAX_MESSAGE_BYTES": "77"}
	if err := applyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if f.listen != ":7000" || f.ringSize != 1024 || f.publishTimeout != 2*time.Second || f.maxMessageBytes != 77 {
		t.Fatalf("%+v", f)
	}
	fs, _ = newServeFlags(io.Discard)
	fs.Parse(nil)
	err := applyEnv(fs, func(k string) (string, bool) { return "soon", k == "RINGCAST_DRAIN_TIMEOUT" })
	if err == nil || !strings.Contains(err.Error(), "RINGCAST_DRAIN_TIMEOUT") || !strings.Contains(err.Error(), "--drain-timeout") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "nowhere"},
		{"--ring-size", "1000"},
		{"--bogus"},
		{"extra"},
	} {
		if err := serve(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("serve %q started", args)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"serve", "--version"}} {
		var out bytes.Buffer
		if err := run(args, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "ringcast ") {
			t.Errorf("%q: %q %v", args, out.String(), err)
		}
	}
	if err := run([]string{"frobnicate"}, nil, io.Discard, io.Discard); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestPubAndSub(t *testing.T) {
	base := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var subOut syncBuffer
	subDone := make(chan error, 1)
	go func() {
		subDone <- sub(ctx, []string{"--url", base, "chat", "--from", "oldest", "--format", "json"}, &subOut, io.Discard)
	}()

	var out bytes.Buffer
	if err := pub(ctx, []string{"--url", base, "chat", "hello"}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Topic string
		Seq   int
	}
	if err := json.Unmarshal(out.Bytes(), &ans); err != nil || ans.Topic != "chat" || ans.Seq != 1 {
		t.Fatalf("pub printed %q", out.String())
	}
	var errOut bytes.Buffer
	if err := pub(ctx, []string{"--url", base, "--batch", "2", "chat"}, strings.NewReader("a\nb\n\nc\n"), io.Discard, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "published 3 messages") {
		t.Fatalf("pub from stdin said %q", errOut.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(subOut.String(), "\n") < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(subOut.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("sub printed %q", subOut.String())
	}
	for i, want := range []string{"hello", "a", "b", "c"} {
		var env struct {
			Seq  int
			Data string
		}
		if err := json.Unmarshal([]byte(lines[i]), &env); err != nil || env.Seq != i+1 || env.Data != want {
			t.Fatalf("line %d: %q", i, lines[i])
		}
	}
	cancel()
	if err := <-subDone; err != nil {
		t.Fatalf("sub after cancel: %v", err)
	}
}

func TestPubErrors(t *testing.T) {
	base := startServer(t)
	cases := [][]string{
		{"--url", base},
		{"--url", base, "a b", "x"},
		{"--url", "ftp://x", "t", "x"},
		{"--url", base, "t", ""},
		{"--url", base, "t", "x", "y"},
	}
	for _, args := range cases {
		if err := pub(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); err == nil {
			t.Errorf("pub %q succeeded", args)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"t", "--from", "0"}, "--from"},
		{[]string{"t", "--format", "xml"}, "--format"},
		{[]string{"a b"}, "400 bad_topic"},
		{[]string{"t", "--policy", "never"}, "400 bad_request"},
	} {
		err := sub(context.Background(), append([]string{"--url", base}, tc.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sub %q: %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
