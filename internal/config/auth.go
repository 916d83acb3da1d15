package config

import (
	"encoding/hex"
	"strings"
)

// Auth restricts publishing and subscribing to bearer tokens, each with
// the topic patterns it may publish and subscribe to.
type Auth struct {
	// Tokens are the static tokens. nil: none.
	Tokens []Token `yaml:"tokens"`
	// JWT accepts JSON Web Tokens. Zero: none.
	JWT JWT `yaml:"jwt"`
}

// Token is one static bearer token and what it may do.
type Token struct {
	// TokenSHA256 is the hex SHA-256 of the token, 64 hex digits of either
	// case; the file never holds the token itself. Required.
	TokenSHA256 string `yaml:"token_sha256"`
	// Publish are the topic patterns the token may publish to. nil: none.
	Publish []string `yaml:"publish"`
	// Subscribe are the topic patterns the token may subscribe to. nil:
	// none.
	Subscribe []string `yaml:"subscribe"`
}

// JWT says how JSON Web Tokens are verified; their claims "pub" and "sub"
// list the topic patterns they may publish and subscribe to.
type JWT struct {
	// HMACSecretFile holds the HS256 secret. "": no HMAC tokens.
	HMACSecretFile string `yaml:"hmac_secret_file"`
	// RSAPublicKeyFile holds the PEM RS256 public key. "": no RSA tokens.
	RSAPublicKeyFile string `yaml:"rsa_public_key_file"`
}

// check validates auth under the key path p.
func (a *Auth) check(k *checker, p string) {
	if len(a.Tokens) == 0 && a.JWT == (JWT{}) {
		k.fail(p, "has neither tokens nor jwt, so no one could publish or subscribe; remove auth to let everyone")
	}
	first := map[string]int{} // lowercased hash → index of the first token with it
	for i, t := range a.Tokens {
		tp := index(join(p, "tokens"), i)
		h := strings.ToLower(t.TokenSHA256)
		if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
			k.fail(join(tp, "token_sha256"), "%q is not a SHA-256 in hex (64 hex digits; sha256sum prints it)", t.TokenSHA256)
		} else if j, dup := first[h]; dup {
			k.fail(join(tp, "token_sha256"), "the same token as tokens[%d]", j)
		} else {
			first[h] = i
		}
		if len(t.Publish) == 0 && len(t.Subscribe) == 0 {
			k.fail(tp, "grants nothing: give it publish or subscribe patterns")
		}
		for j, pat := range t.Publish {
			k.pattern(index(join(tp, "publish"), j), pat)
		}
		for j, pat := range t.Subscribe {
			k.pattern(index(join(tp, "subscribe"), j), pat)
		}
	}
	if a.JWT.HMACSecretFile != "" {
		k.secret(join(p, "jwt", "hmac_secret_file"), a.JWT.HMACSecretFile)
	}
	if a.JWT.RSAPublicKeyFile != "" {
		k.secret(join(p, "jwt", "rsa_public_key_file"), a.JWT.RSAPublicKeyFile)
	}
}
