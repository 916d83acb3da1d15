package dashboards

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// promqlKeywords are PromQL words that are not metric names:
// aggregations, their modifiers and the binary operators written as words.
var promqlKeywords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "group": true,
	"stddev": true, "stdvar": true, "topk": true, "bottomk": true, "quantile": true,
	"count_values": true, "limitk": true, "limit_ratio": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "atan2": true, "offset": true,
	"inf": true, "nan": true,
}

// groupingWords are followed by a parenthesized list of label names.
var groupingWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// metricNames returns the metric names a PromQL expression selects, in
// order of appearance. It is a lexer, not a parser: it skips strings, label
// matchers ({…}), ranges and subqueries ([…]), label lists after by,
// without, on, ignoring, group_left and group_right, function names (an
// identifier followed by "("), keywords, numbers and the duration after
// offset. Grafana's variables ($name, ${name} or ${name:format}) are
// skipped like numbers: outside strings and brackets a variable stands for
// a value (a textbox variable's, say).
func metricNames(expr string) ([]string, error) {
	var names []string
	isIdentStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isIdent := func(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
	skipTo := func(i int, open, close byte) (int, error) { // i at open; returns the index after the matching close
		depth := 0
		for j := i; j < len(expr); j++ {
			switch c := expr[j]; {
			case c == '"' || c == '\'' || c == '`':
				k := strings.IndexByte(expr[j+1:], c)
				if k < 0 {
					return 0, fmt.Errorf("unterminated string at %d", j)
				}
				j += k + 1
			case c == open:
				depth++
			case c == close:
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unbalanced %c at %d", open, i)
	}
	parens := 0
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment runs to the end of the line
			if j := strings.IndexByte(expr[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(expr)
			}
		case c == '"' || c == '\'' || c == '`':
			j := strings.IndexByte(expr[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			i += j + 2
		case c == '{':
			j, err := skipTo(i, '{', '}')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '[':
			j, err := skipTo(i, '[', ']')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				k := strings.IndexByte(expr[j:], '}')
				if k < 2 {
					return nil, fmt.Errorf("bad variable at %d", i)
				}
				j += k + 1
			} else {
				for j < len(expr) && isIdent(expr[j]) && expr[j] != ':' {
					j++
				}
				if j == i+1 {
					return nil, fmt.Errorf("bad variable at %d", i)
				}
			}
			i = j
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.' || (expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			lower := strings.ToLower(word)
			switch {
			case groupingWords[lower]:
				if k < len(expr) && expr[k] == '(' {
					end, err := skipTo(k, '(', ')')
					if err != nil {
						return nil, err
					}
					j = end
				}
			case lower == "offset":
				for k < len(expr) && (isIdent(expr[k]) || expr[k] == '-') {
					k++
				}
				j = k
			case promqlKeywords[lower]:
			case k < len(expr) && expr[k] == '(':
				// a function
			default:
				names = append(names, word)
			}
			i = j
		case c == '(':
			parens++
			i++
		case c == ')':
			if parens--; parens < 0 {
				return nil, fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case strings.IndexByte("+-*/%^=!<>,@", c) >= 0:
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	if parens != 0 {
		return nil, fmt.Errorf("%d unclosed (", parens)
	}
	return names, nil
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="ringcast"} == 0`, []string{"up"}},
		{`sum by (instance, reason) (rate(ringcast_messages_dropped_total{code="x{y}"}[5m])) > 0`, []string{"ringcast_messages_dropped_total"}},
		{`histogram_quantile(0.99, sum by (le, transport) (rate(a_bucket{instance=~"$instance"}[$__rate_interval]))) > 0.75 * 65536`, []string{"a_bucket"}},
		{"x > 1e3\nand on (instance) group_left (job) y offset 5m", []string{"x", "y"}},
		{`sum(go_goroutines) / clamp_min(sum without (le) (b), 1) unless bool c`, []string{"go_goroutines", "b", "c"}},
		{`max_over_time(ringcast_topics[1h:1m]) + Inf - NaN`, []string{"ringcast_topics"}},
		{`sum(rate(my:recorded:rule[5m])) # a comment naming not_a_metric`, []string{"my:recorded:rule"}},
		{`vector($max_connections) > 0 or x * ${factor} + ${f:raw}`, []string{"x"}},
	} {
		got, err := metricNames(tc.expr)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
	for _, bad := range []string{`sum(x`, `x{a="b"`, `x[5m`, `x $`, `x ${}`, `x ${y`, `x $:y`, `"open`, `x)`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("metricNames(%q) passed", bad)
		}
	}
}
