package config

import (
	"fmt"
	"net"
	"strconv"
)

// ParseListen checks a listen address written PORT, :PORT or IP:PORT and
// returns it as net.Listen takes it: "8080" becomes ":8080".
func ParseListen(s string) (string, error) {
	if validPort(s) {
		return ":" + s, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || !validPort(port) || (host != "" && net.ParseIP(host) == nil) {
		return "", fmt.Errorf("%q is not PORT, :PORT or IP:PORT (like 8080, :8080 or 127.0.0.1:8080)", s)
	}
	return s, nil
}

// validPort reports whether s is a port number, 0 to 65535.
func validPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && s != "" && s[0] != '+' && strconv.FormatUint(n, 10) == s
}
