package config

import (
	"strconv"
	"strings"
)

// join appends mapping keys to a key path: "a" + "b" is "a.b". A key that
// is not made of letters, digits, _ and - is quoted: a["X Y"].
func join(path string, keys ...string) string {
	for _, key := range keys {
		switch {
		case key == "" || strings.IndexFunc(key, notPlainKeyRune) >= 0:
			path += "[" + strconv.Quote(key) + "]"
		case path == "":
			path = key
		default:
			path += "." + key
		}
	}
	return path
}

// index appends a list index to a key path: "a" + 1 is "a[1]".
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// parent returns the key path one level up, "" at the top.
func parent(path string) string {
	if strings.HasSuffix(path, `"]`) {
		return path[:strings.LastIndex(path, `["`)]
	}
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func notPlainKeyRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}
