package config

import "testing"

func TestParseListen(t *testing.T) {
	for in, want := range map[string]string{
		"8080":           ":8080",
		"0":              ":0",
		":8080":          ":8080",
		"127.0.0.1:8080": "127.0.0.1:8080",
		"[::1]:443":      "[::1]:443",
		"0.0.0.0:65535":  "0.0.0.0:65535",
	} {
		if got, err := ParseListen(in); err != nil || got != want {
			t.Errorf("ParseListen(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ":", "65536", ":65536", "-1", "+80", "080", "localhost:8080", "1.2.3:80", "::1:80", "127.0.0.1", "[::1]", ":http", " 80"} {
		if got, err := ParseListen(in); err == nil {
			t.Errorf("ParseListen(%q) = %q, want an error", in, got)
		}
	}
}
