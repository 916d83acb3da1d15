package bench

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSSEFeedParsesEvents(t *testing.T) {
	long := strings.Repeat("x", 100)
	stream := ": ping\n\n" +
		"id: 1\ndata: one line\n\n" +
		"id: 2\ndata: two\ndata:  lines\n\n" +
		"id: 3\nevent: b64\ndata: " + base64.StdEncoding.EncodeToString([]byte("bin\r\x00\xff")) + "\n\n" +
		"id: 4\r\ndata: crlf\r\n\r\n" +
		"id: 5\ndata: " + long + "\n\n" +
		"id: 6\ndata: cut"
	f := &sseFeed{r: bufio.NewReaderSize(strings.NewReader(stream), 16), cancel: func() {}}
	for _, want := range []string{"one line", "two\n lines", "bin\r\x00\xff", "crlf", long} {
		got, _, err := f.next()
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, _, err := f.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("a cut stream gave %v, want EOF", err)
	}
}
