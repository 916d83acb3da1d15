package template

import (
	"strings"
	"testing"
)

func TestIsPayload(t *testing.T) {
	for _, c := range []struct {
		tmpl string
		want bool
	}{
		{"", true},
		{"$MSG", true},
		{"${MSG}", true},
		{"$MSG ", false},
		{"$MSG$MSG", false},
		{"$$MSG", false},
		{"$TOPIC", false},
		{"MSG", false},
	} {
		tm, err := Compile(c.tmpl)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.tmpl, err)
		}
		if got := tm.IsPayload(); got != c.want {
			t.Errorf("Compile(%q).IsPayload() = %v, want %v", c.tmpl, got, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{"body $FOO", "unknown variable $FOO at offset 5; known: $MSG $TOPIC $SEQ $ID $ISODATE $UNIXTIME $HOST ${attr.NAME}"},
		{"${FOO}", "unknown variable ${FOO} at offset 0; known: "},
		{"$msg", "unknown variable $msg at offset 0"},
		{"$MSG_x", "unknown variable $MSG_x at offset 0"},
		{"$attr.host", "unknown variable $attr at offset 0 (write attributes in braces: ${attr.NAME})"},
		{"x${MSG", `unterminated "${" at offset 1`},
		{"${", `unterminated "${" at offset 0`},
		{"${}", "unknown variable ${} at offset 0"},
		{"${attr.}", "empty attribute name in ${attr.} at offset 0"},
		{"ab${attr.a b}", `attribute name "a b" in ${attr.a b} at offset 2`},
		{"$", `"$" at offset 0 ends the template`},
		{"cost: 5$", `"$" at offset 7 ends the template; write $$ for a literal $`},
		{"$ MSG", `"$" at offset 0 is followed by ' '`},
		{"$MSG $-", `"$" at offset 5 is followed by '-'`},
		{"$$$", `"$" at offset 2 ends the template`},
	} {
		tm, err := Compile(c.tmpl)
		if err == nil {
			t.Errorf("Compile(%q) = %q, want an error", c.tmpl, tm.parts)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) error %q, want it to contain %q", c.tmpl, err, c.want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "$MSG", "${MSG}", "$HOST $ISODATE $MSG", "$$", "$", "${", "${attr.remote_addr}",
		"$MSG$TOPIC", "${attr.}", "${attr.a b}", "plain", "$$$MSG$$", `{"seq":$SEQ,"id":"$ID"}`, "$UNIXTIME", "$FOO",
	} {
		f.Add(s)
	}
	m := testMessage()
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := Compile(s)
		if err != nil {
			return
		}
		out := tm.Append(nil, m)
		if tm.String() != s {
			t.Errorf("String() = %q, want %q", tm.String(), s)
		}
		if s == "" || strings.Contains(s, "$") {
			return
		}
		if string(out) != s {
			t.Errorf("Append = %q, want the template itself", out)
		}
		if tm.IsPayload() {
			t.Errorf("IsPayload() for a template without variables")
		}
	})
}
