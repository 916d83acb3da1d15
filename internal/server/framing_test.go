package server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// hasCLAndTESplit is the straightforward form of hasCLAndTE: every line
// split off, every name trimmed and compared. hasCLAndTE must agree.
func hasCLAndTESplit(raw []byte) bool {
	var cl, te bool
	for line := range bytes.SplitSeq(raw, []byte("\n")) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		cl = cl || bytes.EqualFold(name, []byte(fasthttp.HeaderContentLength))
		te = te || bytes.EqualFold(name, []byte(fasthttp.HeaderTransferEncoding))
	}
	return cl && te
}

var framingCases = []struct {
	raw  string
	want bool
}{
	{"", false},
	{"Host: x\r\nContent-Length: 3\r\n\r\n", false},
	{"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"Host: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", true},
	{"Transfer-Encoding: chunked\r\ncontent-length: 3\r\n\r\n", true},
	{"TRANSFER-ENCODING: identity\r\nCONTENT-LENGTH: 3\r\n\r\n", true},
	{"Content-Length : 3\r\n Transfer-Encoding\t: chunked\r\n\r\n", true},
	{"Content-Length: 3\nTransfer-Encoding: chunked", true}, // bare LF, no final line end
	{"Content-Lengthy: 3\r\nTransfer-Encodings: chunked\r\n\r\n", false},
	{"Content-Type: a\r\nX-Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", false},
	{"X-Note: Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"Content-Length 3\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"Transfer-Encoding: chunked\r\n" + strings.Repeat("X-A: b\r\n", 50) + "Content-Length: 1\r\n\r\n", true},
	{"Host: 127.0.0.1:8080\r\nContent-Length: 100\r\nContent-Type: application/octet-stream\r\n\r\n", false},
	// A folded continuation line is in the raw headers too, and may hold
	// any byte: U+017F folds to s, U+212A to k, and U+00A0 is trimmed.
	{"X-A: foo\r\n Tran\u017ffer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", true},
	{"X-A: foo\r\n \u00a0Transfer-Encoding\u00a0: chunked\r\nContent-Length: 3\r\n\r\n", true},
	{"X-A: foo\r\n Tran\u017f\u017fer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", false},
	{"Content-Len\u212ath: 3\r\nTransfer-Encoding: chunked\r\n\r\n", false},
}

func TestHasCLAndTE(t *testing.T) {
	for _, c := range framingCases {
		if got, ref := hasCLAndTE([]byte(c.raw)), hasCLAndTESplit([]byte(c.raw)); got != c.want || ref != c.want {
			t.Errorf("%q: hasCLAndTE %v, split form %v, want %v", c.raw, got, ref, c.want)
		}
	}
}

// TestHasCLAndTEParsed runs the check on what fasthttp keeps of real
// requests, Transfer-Encoding: identity included (fasthttp then frames by
// Content-Length and keeps no trace of the Transfer-Encoding).
func TestHasCLAndTEParsed(t *testing.T) {
	for _, c := range []struct {
		req  string
		want bool
	}{
		{"POST /v1/topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", false},
		{"POST /v1/topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc", true},
		{"POST /v1/topics/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", true},
		{"POST /v1/topics/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false},
		// fasthttp takes the folded line as part of X-A's value and frames
		// by Content-Length; a proxy may not.
		{"POST /v1/topics/t HTTP/1.1\r\nHost: x\r\nX-A: foo\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", true},
	} {
		var req fasthttp.Request
		if err := req.Read(bufio.NewReader(strings.NewReader(c.req))); err != nil {
			t.Fatalf("%q: %v", c.req, err)
		}
		if got := hasCLAndTE(req.Header.RawHeaders()); got != c.want {
			t.Errorf("%q: %v, want %v", c.req, got, c.want)
		}
	}
}

// FuzzHasCLAndTE checks hasCLAndTE against its straightforward form.
func FuzzHasCLAndTE(f *testing.F) {
	for _, c := range framingCases {
		f.Add([]byte(c.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := hasCLAndTE(raw), hasCLAndTESplit(raw); got != want {
			t.Fatalf("%q: %v, want %v", raw, got, want)
		}
	})
}
