package auth

import "strings"

// MaxTokenBytes bounds the token Authenticate looks at; longer ones are
// invalid without being parsed.
const MaxTokenBytes = 8 << 10

// ExtractToken returns the bearer token of a request from its Authorization
// header value ("Bearer <token>", the scheme in any case) or, when the
// header holds no bearer token, from its ?token= query value (browsers'
// WebSocket and EventSource cannot set headers). "": no token.
func ExtractToken(header, query string) string {
	if scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok
		}
	}
	return strings.TrimSpace(query)
}
