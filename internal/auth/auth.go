package auth

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ringcast/ringcast/internal/config"
)

// Errors of Authenticate. Both mean 401 unauthorized; neither says why a
// token failed.
var (
	ErrMissing = errors.New("auth: no token: send Authorization: Bearer <token> or ?token=<token>")
	ErrInvalid = errors.New("auth: invalid or expired token")
)

// Leeway is the clock skew allowed when checking a JWT's exp, nbf and iat.
const Leeway = 30 * time.Second

// Authenticator turns bearer tokens into Grants.
type Authenticator struct {
	tokens []static
	hmac   []byte         // HS256 secret; nil: no HMAC tokens
	rsa    *rsa.PublicKey // RS256 key; nil: no RSA tokens
	parser *jwt.Parser    // nil: no JWTs
}

// static is one configured token, by its SHA-256.
type static struct {
	hash  [sha256.Size]byte
	grant *Grant
}

// New builds an Authenticator from the configuration file's auth section,
// reading the JWT key files. A nil cfg returns a nil Authenticator: no
// auth, everyone may publish and subscribe. The HMAC secret is the file's
// content without surrounding white space.
func New(cfg *config.Auth) (*Authenticator, error) {
	if cfg == nil {
		return nil, nil
	}
	a := &Authenticator{}
	for i, t := range cfg.Tokens {
		h, err := hex.DecodeString(strings.TrimSpace(t.TokenSHA256))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("auth: tokens[%d].token_sha256: %q is not a SHA-256 in hex (64 hex digits; sha256sum prints it)", i, t.TokenSHA256)
		}
		g, err := newGrant(t.Publish, t.Subscribe)
		if err != nil {
			return nil, fmt.Errorf("auth: tokens[%d]: %w", i, err)
		}
		s := static{grant: g}
		copy(s.hash[:], h)
		a.tokens = append(a.tokens, s)
	}
	var methods []string
	if name := cfg.JWT.HMACSecretFile; name != "" {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("auth: jwt.hmac_secret_file: cannot read %q: %w", name, err)
		}
		if a.hmac = []byte(strings.TrimSpace(string(b))); len(a.hmac) == 0 {
			return nil, fmt.Errorf("auth: jwt.hmac_secret_file: %q is empty; put the HS256 secret in it", name)
		}
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if name := cfg.JWT.RSAPublicKeyFile; name != "" {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("auth: jwt.rsa_public_key_file: cannot read %q: %w", name, err)
		}
		if a.rsa, err = jwt.ParseRSAPublicKeyFromPEM(b); err != nil {
			return nil, fmt.Errorf("auth: jwt.rsa_public_key_file: %q is not a PEM RSA public key: %w", name, err)
		}
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	}
	if len(a.tokens) == 0 && len(methods) == 0 {
		return nil, errors.New("auth: has neither tokens nor jwt, so no one could publish or subscribe; remove auth to let everyone")
	}
	if len(methods) > 0 {
		a.parser = jwt.NewParser(
			jwt.WithValidMethods(methods),
			jwt.WithLeeway(Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
		)
	}
	return a, nil
}

// Authenticate returns what token may do: ErrMissing for "", ErrInvalid
// for a token that is neither a configured one nor a valid, current JWT.
func (a *Authenticator) Authenticate(token string) (*Grant, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > MaxTokenBytes {
		return nil, ErrInvalid
	}
	if g := a.static(token); g != nil {
		return g, nil
	}
	if a.parser == nil {
		return nil, ErrInvalid
	}
	var c claims
	if _, err := a.parser.ParseWithClaims(token, &c, a.key); err != nil {
		return nil, ErrInvalid
	}
	g, err := newGrant(c.Pub, c.Sub)
	if err != nil {
		return nil, ErrInvalid
	}
	return g, nil
}

// static compares the token's SHA-256 with every configured one in
// constant time, without stopping at a match, so the time taken says
// nothing about which or whether one matched.
func (a *Authenticator) static(token string) *Grant {
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil
	}
	return a.tokens[found].grant
}

// key returns the verification key for the token's algorithm; the parser
// has already refused algorithms not configured (WithValidMethods), and the
// type checks keep an HMAC token from being verified with the RSA key.
func (a *Authenticator) key(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if a.hmac != nil {
			return a.hmac, nil
		}
	case *jwt.SigningMethodRSA:
		if a.rsa != nil {
			return a.rsa, nil
		}
	}
	return nil, ErrInvalid
}
