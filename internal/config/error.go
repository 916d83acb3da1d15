package config

import (
	"fmt"
	"strings"
)

// Error is a configuration error. Its text is "FILE:LINE: PATH: why", with
// the parts that are unknown left out.
type Error struct {
	File string // the file name given to Load or Parse
	Line int    // the 1-based line of the offending key or value; 0: unknown
	Path string // the key path, like destinations[1].retry.max_backoff; "": the file as a whole
	Err  error  // why
}

// Error returns "FILE:LINE: PATH: why".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Path)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns why.
func (e *Error) Unwrap() error { return e.Err }
