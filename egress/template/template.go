package template

import (
	"fmt"
	"strings"
)

// kind says what one part of a template renders.
type kind uint8

const (
	literal kind = iota // part.text as is
	msgVar
	topicVar
	seqVar
	idVar
	isodateVar
	unixtimeVar
	hostVar
	attrVar // the attribute named part.text
)

// variables maps each variable name, as written after $, to its kind.
var variables = map[string]kind{
	"MSG":      msgVar,
	"TOPIC":    topicVar,
	"SEQ":      seqVar,
	"ID":       idVar,
	"ISODATE":  isodateVar,
	"UNIXTIME": unixtimeVar,
	"HOST":     hostVar,
}

// known lists the variables for error messages.
const known = "$MSG $TOPIC $SEQ $ID $ISODATE $UNIXTIME $HOST ${attr.NAME}"

// attrPrefix starts an attribute variable inside braces.
const attrPrefix = "attr."

// part is a literal text or one variable.
type part struct {
	kind kind
	text string // the literal text, or the attribute name of attrVar
}

// Template is a compiled template. Create it with Compile.
type Template struct {
	src   string
	parts []part
}

// Compile parses s once for rendering many messages. An unknown variable, an
// unterminated "${", or a "$" that ends s or is followed by a byte that
// cannot start a variable name is an error naming the offset of the "$".
func Compile(s string) (*Template, error) {
	t := &Template{src: s}
	if s == "" {
		t.parts = []part{{kind: msgVar}}
		return t, nil
	}
	var lit strings.Builder // the literal text since the last variable
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		at := i + j
		if at+1 == len(s) {
			return nil, fmt.Errorf("\"$\" at offset %d ends the template; write $$ for a literal $", at)
		}
		var p part
		switch c := s[at+1]; {
		case c == '$':
			lit.WriteByte('$')
			i = at + 2
			continue
		case c == '{':
			end := strings.IndexByte(s[at+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated \"${\" at offset %d; close it with }", at)
			}
			name := s[at+2 : at+2+end]
			i = at + 3 + end
			var err error
			if p, err = braced(name, at); err != nil {
				return nil, err
			}
		case isNameByte(c):
			end := at + 1
			for end < len(s) && isNameByte(s[end]) {
				end++
			}
			name := s[at+1 : end]
			i = end
			k, ok := variables[name]
			if !ok {
				hint := ""
				if strings.HasPrefix(name, "attr") {
					hint = " (write attributes in braces: ${attr.NAME})"
				}
				return nil, fmt.Errorf("unknown variable $%s at offset %d%s; known: %s", name, at, hint, known)
			}
			p = part{kind: k}
		default:
			return nil, fmt.Errorf("\"$\" at offset %d is followed by %q, which cannot start a variable; write $$ for a literal $", at, c)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: literal, text: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, p)
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{kind: literal, text: lit.String()})
	}
	return t, nil
}

// braced resolves the name inside "${...}" found at offset at.
func braced(name string, at int) (part, error) {
	if attr, ok := strings.CutPrefix(name, attrPrefix); ok {
		if attr == "" {
			return part{}, fmt.Errorf("empty attribute name in ${%s} at offset %d; write ${attr.NAME}", name, at)
		}
		for i := 0; i < len(attr); i++ {
			if !isAttrByte(attr[i]) {
				return part{}, fmt.Errorf("attribute name %q in ${%s} at offset %d: use only letters, digits, _ . and -", attr, name, at)
			}
		}
		return part{kind: attrVar, text: attr}, nil
	}
	if k, ok := variables[name]; ok {
		return part{kind: k}, nil
	}
	return part{}, fmt.Errorf("unknown variable ${%s} at offset %d; known: %s", name, at, known)
}

// isNameByte reports whether c may appear in a bare variable name.
func isNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// isAttrByte reports whether c may appear in an attribute name.
func isAttrByte(c byte) bool { return isNameByte(c) || c == '.' || c == '-' }

// IsPayload reports whether the template renders exactly the payload, as
// "$MSG", "${MSG}" and "" do, so that callers may send the payload as is.
func (t *Template) IsPayload() bool {
	return len(t.parts) == 1 && t.parts[0].kind == msgVar
}

// String returns the template's source text.
func (t *Template) String() string { return t.src }
