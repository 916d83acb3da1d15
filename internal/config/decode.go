package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder decodes a YAML node tree into Go values strictly, recording the
// line of every key path it meets for the errors of later validation.
type decoder struct {
	file  string
	lines map[string]int // key path → line
	// budget is how many more nodes may be decoded: aliases and merge keys
	// must not blow a small file up into an exponential amount of work.
	budget int
	// merging holds the mappings whose keys are being collected, so that a
	// merge key that refers back to one of them is an error, not a loop.
	merging []*yaml.Node
}

// pair is one key and its value in a mapping.
type pair struct {
	name       string     // the key
	key, value *yaml.Node // key as written, maybe an alias, for its line
}

// parseYAML returns the root node of data's one YAML document, or nil when
// data holds no document.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, yamlError(file, err)
	default:
		return nil, &Error{File: file, Line: next.Line, Err: errors.New("a second YAML document; put the whole configuration in one")}
	}
	return doc.Content[0], nil
}

// yamlError turns a syntax error of the YAML library, "yaml: line 3: why",
// into an *Error with the line.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, why, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				return &Error{File: file, Line: line, Err: fmt.Errorf("bad YAML: %s", why)}
			}
		}
	}
	return &Error{File: file, Err: fmt.Errorf("bad YAML: %s", msg)}
}

// errorf returns an *Error at n's line and the key path path.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Path: path, Err: fmt.Errorf(format, args...)}
}

// spend takes one node from the budget.
func (d *decoder) spend(n *yaml.Node, path string) error {
	if d.budget--; d.budget < 0 {
		return d.errorf(n, path, "the file expands to too many values through aliases or merge keys")
	}
	return nil
}

// decode stores n into v, which must be settable. A null leaves v as it is.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if err := d.spend(n, path); err != nil {
		return err
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			return d.errorf(n, path, "%v", err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := d.decode(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return d.structure(n, v, path)
	case reflect.Slice:
		return d.sequence(n, v, path)
	case reflect.Map:
		return d.stringMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return d.errorf(n, path, "is %s, want a string", describe(n))
		}
		v.SetString(n.Value)
		return nil
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return d.errorf(n, path, "%s is not an integer", describe(n))
		}
		var x int64
		if n.Decode(&x) != nil || v.OverflowInt(x) {
			return d.errorf(n, path, "%s is out of range", describe(n))
		}
		v.SetInt(x)
		return nil
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return d.errorf(n, path, "%s is not true or false", describe(n))
		}
		v.SetBool(b)
		return nil
	}
	panic("BUG: config: no YAML decoding for " + v.Type().String())
}

// structure decodes a mapping into the struct v by the fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return d.errorf(n, path, "the file is %s, want a mapping of keys like \"listen: :8080\"", describe(n))
		}
		return d.errorf(n, path, "is %s, want a mapping of keys", describe(n))
	}
	pairs, err := d.pairs(n, path)
	if err != nil {
		return err
	}
	t := v.Type()
	for _, kv := range pairs {
		p := join(path, kv.name)
		i := fieldIndex(t, kv.name)
		if i < 0 {
			return d.errorf(kv.key, p, "unknown key; the keys here are %s", keyNames(t))
		}
		d.lines[p] = kv.key.Line
		if err := d.decode(kv.value, v.Field(i), p); err != nil {
			return err
		}
	}
	return nil
}

// fieldIndex returns the index of the field of struct type t whose yaml
// tag is key, or -1.
func fieldIndex(t reflect.Type, key string) int {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") == key {
			return i
		}
	}
	return -1
}

// keyNames lists the yaml keys of struct type t.
func keyNames(t reflect.Type) string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("yaml")
	}
	return strings.Join(names, ", ")
}

// sequence decodes a list into the slice v; an empty list makes an empty,
// non-nil slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		return d.errorf(n, path, "is %s, want a list", describe(n))
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := index(path, i)
		d.lines[p] = item.Line
		if err := d.decode(item, s.Index(i), p); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

// stringMap decodes a mapping into the map v; an empty mapping makes an
// empty, non-nil map.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "is %s, want a mapping", describe(n))
	}
	pairs, err := d.pairs(n, path)
	if err != nil {
		return err
	}
	m := reflect.MakeMapWithSize(v.Type(), len(pairs))
	for _, kv := range pairs {
		p := join(path, kv.name)
		d.lines[p] = kv.key.Line
		e := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(kv.value, e, p); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(kv.name).Convert(v.Type().Key()), e)
	}
	v.Set(m)
	return nil
}

// pairs returns the keys and values of mapping n, merge keys expanded: a
// key written in n wins over a merged one, and of several merged mappings
// the first listed wins. A key given twice is an error.
func (d *decoder) pairs(n *yaml.Node, path string) ([]pair, error) {
	if slices.Contains(d.merging, n) {
		return nil, d.errorf(n, path, "a merge key (<<) refers to a mapping that contains it")
	}
	d.merging = append(d.merging, n)
	defer func() { d.merging = d.merging[:len(d.merging)-1] }()

	var out []pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		at, val := n.Content[i], n.Content[i+1]
		k := at
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, d.errorf(at, path, "a key is %s, want a plain name", describe(k))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, d.errorf(at, join(path, k.Value), "given twice (first at line %d)", first.Line)
		}
		seen[k.Value] = at
		out = append(out, pair{k.Value, at, val})
	}
	for _, m := range merges {
		from := []*yaml.Node{m}
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if m.Kind == yaml.SequenceNode {
			from = m.Content
		}
		for _, f := range from {
			if f.Kind == yaml.AliasNode {
				f = f.Alias
			}
			if err := d.spend(f, path); err != nil {
				return nil, err
			}
			if f.Kind != yaml.MappingNode {
				return nil, d.errorf(f, path, "a merge key (<<) takes a mapping or a list of mappings, not %s", describe(f))
			}
			merged, err := d.pairs(f, path)
			if err != nil {
				return nil, err
			}
			for _, kv := range merged {
				if err := d.spend(kv.key, path); err != nil {
					return nil, err
				}
				if _, dup := seen[kv.name]; !dup {
					seen[kv.name] = kv.key
					out = append(out, kv)
				}
			}
		}
	}
	return out, nil
}

// describe names what a node, not an alias, holds for an error message: a
// mapping, a list, or the scalar itself quoted, cut after 60 bytes.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	for i := range v {
		if i > 60 {
			v = v[:i] + "..."
			break
		}
	}
	return strconv.Quote(v)
}
