package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ringcast/ringcast/internal/config"
)

// hashOf is the token_sha256 of tok.
func hashOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// writeFile writes data to a new file in t's temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rsaKey makes an RSA key and writes its PEM public key file.
func rsaKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, writeFile(t, "rsa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign makes a JWT.
func sign(t testing.TB, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsFor(pub, sub []string, exp time.Duration) jwt.MapClaims {
	return jwt.MapClaims{"pub": pub, "sub": sub, "exp": time.Now().Add(exp).Unix()}
}

func TestStaticTokens(t *testing.T) {
	a, err := New(&config.Auth{Tokens: []config.Token{
		{TokenSHA256: hashOf("pubber"), Publish: []string{"orders.>"}},
		{TokenSHA256: strings.ToUpper(hashOf("reader")), Subscribe: []string{"orders.>", "public.*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.Authenticate("pubber")
	if err != nil || !g.CanPublish("orders.eu.1") || g.CanPublish("orders") || g.CanSubscribe("orders.eu") {
		t.Fatalf("pubber: %+v %v", g, err)
	}
	g, err = a.Authenticate("reader")
	if err != nil || g.CanPublish("orders.eu") || !g.CanSubscribe("orders.eu") || !g.CanSubscribe("public.x") || g.CanSubscribe("public.x.y") {
		t.Fatalf("reader: %+v %v", g, err)
	}
	for _, tok := range []string{"pubbe", "pubber ", "PUBBER", hashOf("pubber"), strings.Repeat("x", MaxTokenBytes+1)} {
		if g, err := a.Authenticate(tok); !errors.Is(err, ErrInvalid) || g != nil {
			t.Errorf("%q: %+v %v", tok, g, err)
		}
	}
	if _, err := a.Authenticate(""); !errors.Is(err, ErrMissing) {
		t.Errorf("empty: %v", err)
	}
	// Without JWT configured a JWT-looking token is just a wrong token.
	if _, err := a.Authenticate("a.b.c"); !errors.Is(err, ErrInvalid) {
		t.Errorf("jwt-like: %v", err)
	}
	var none *Grant
	if none.CanPublish("x") || none.CanSubscribe("x") {
		t.Error("a nil grant may do something")
	}
}

func TestNew(t *testing.T) {
	if a, err := New(nil); a != nil || err != nil {
		t.Fatalf("nil config: %v %v", a, err)
	}
	dir := t.TempDir()
	empty := writeFile(t, "empty", []byte(" \n"))
	notPEM := writeFile(t, "notpem", []byte("hello"))
	for _, c := range []struct {
		cfg  config.Auth
		want string
	}{
		{config.Auth{}, "neither tokens nor jwt"},
		{config.Auth{Tokens: []config.Token{{TokenSHA256: "abc", Publish: []string{"a"}}}}, "tokens[0].token_sha256"},
		{config.Auth{Tokens: []config.Token{{TokenSHA256: hashOf("x"), Subscribe: []string{"a.>.b"}}}}, "tokens[0]: subscribe[0]"},
		{config.Auth{JWT: config.JWT{HMACSecretFile: filepath.Join(dir, "missing")}}, "hmac_secret_file: cannot read"},
		{config.Auth{JWT: config.JWT{HMACSecretFile: empty}}, "is empty"},
		{config.Auth{JWT: config.JWT{RSAPublicKeyFile: notPEM}}, "not a PEM RSA public key"},
	} {
		if _, err := New(&c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestJWT(t *testing.T) {
	secret := []byte("a long enough HS256 secret for the tests")
	key, pubFile := rsaKey(t)
	other, _ := rsaKey(t)
	pubPEM, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(&config.Auth{JWT: config.JWT{
		HMACSecretFile:   writeFile(t, "hmac", append(secret, '\n')),
		RSAPublicKeyFile: pubFile,
	}})
	if err != nil {
		t.Fatal(err)
	}
	ok := claimsFor([]string{"orders.>"}, []string{"public.*"}, time.Hour)
	for name, tok := range map[string]string{
		"HS256": sign(t, jwt.SigningMethodHS256, secret, ok),
		"RS256": sign(t, jwt.SigningMethodRS256, key, ok),
	} {
		g, err := a.Authenticate(tok)
		if err != nil || !g.CanPublish("orders.1") || g.CanPublish("public.1") || !g.CanSubscribe("public.1") || g.CanSubscribe("orders.1") {
			t.Errorf("%s: %+v %v", name, g, err)
		}
	}
	// Inside the leeway a just-expired or almost-valid token still passes.
	if _, err := a.Authenticate(sign(t, jwt.SigningMethodHS256, secret, claimsFor(nil, []string{"a"}, -Leeway/2))); err != nil {
		t.Errorf("expired within the leeway: %v", err)
	}
	now := time.Now()
	bad := map[string]string{
		"expired":            sign(t, jwt.SigningMethodHS256, secret, claimsFor(nil, []string{"a"}, -time.Hour)),
		"expired RS256":      sign(t, jwt.SigningMethodRS256, key, claimsFor(nil, []string{"a"}, -time.Hour)),
		"not yet valid":      sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": []string{"a"}, "exp": now.Add(2 * time.Hour).Unix(), "nbf": now.Add(time.Hour).Unix()}),
		"issued in future":   sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": []string{"a"}, "exp": now.Add(2 * time.Hour).Unix(), "iat": now.Add(time.Hour).Unix()}),
		"no exp":             sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": []string{"a"}}),
		"wrong secret":       sign(t, jwt.SigningMethodHS256, []byte("another secret entirely, same length!!!!"), ok),
		"other RSA key":      sign(t, jwt.SigningMethodRS256, other, ok),
		"HS384":              sign(t, jwt.SigningMethodHS384, secret, ok),
		"alg none":           sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, ok),
		"HS256 with RSA key": sign(t, jwt.SigningMethodHS256, pubPEM, ok),
		"sub is a string":    sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "user-1", "exp": now.Add(time.Hour).Unix()}),
		"bad pattern":        sign(t, jwt.SigningMethodHS256, secret, claimsFor([]string{"a.>.b"}, nil, time.Hour)),
		"garbage":            "eyJhbGciOiJIUzI1NiJ9.!!!.???",
	}
	// Tampering with the payload breaks the signature.
	parts := strings.Split(sign(t, jwt.SigningMethodHS256, secret, ok), ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"pub":[">"],"sub":[">"],"exp":9999999999}`))
	bad["tampered"] = strings.Join(parts, ".")
	for name, tok := range bad {
		g, err := a.Authenticate(tok)
		if !errors.Is(err, ErrInvalid) || g != nil {
			t.Errorf("%s: %+v %v", name, g, err)
		}
		if err != nil && err.Error() != ErrInvalid.Error() {
			t.Errorf("%s: the error says more than it should: %v", name, err)
		}
	}
}

// TestOnlyConfiguredAlgorithms checks that an RSA-only server refuses HS256
// tokens signed with its public key as the secret (algorithm confusion), and
// an HMAC-only one refuses RS256.
func TestOnlyConfiguredAlgorithms(t *testing.T) {
	key, pubFile := rsaKey(t)
	pubPEM, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	rsaOnly, err := New(&config.Auth{JWT: config.JWT{RSAPublicKeyFile: pubFile}})
	if err != nil {
		t.Fatal(err)
	}
	ok := claimsFor(nil, []string{">"}, time.Hour)
	if _, err := rsaOnly.Authenticate(sign(t, jwt.SigningMethodHS256, pubPEM, ok)); !errors.Is(err, ErrInvalid) {
		t.Errorf("HS256 signed with the RSA public key: %v", err)
	}
	if _, err := rsaOnly.Authenticate(sign(t, jwt.SigningMethodRS256, key, ok)); err != nil {
		t.Errorf("RS256: %v", err)
	}
	hmacOnly, err := New(&config.Auth{JWT: config.JWT{HMACSecretFile: writeFile(t, "s", pubPEM)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hmacOnly.Authenticate(sign(t, jwt.SigningMethodRS256, key, ok)); !errors.Is(err, ErrInvalid) {
		t.Errorf("RS256 on an HMAC-only server: %v", err)
	}
}

func TestExtractToken(t *testing.T) {
	for _, c := range []struct{ header, query, want string }{
		{"Bearer abc", "", "abc"},
		{"bearer abc", "", "abc"},
		{"BEARER   abc  ", "", "abc"},
		{"Bearer abc", "q", "abc"},
		{"", "q", "q"},
		{"Basic dXNlcjpwYXNz", "q", "q"},
		{"Basic dXNlcjpwYXNz", "", ""},
		{"Bearer", "", ""},
		{"Bearer ", "q", "q"},
		{"Bearerabc", "", ""},
		{"", "", ""},
	} {
		if got := ExtractToken(c.header, c.query); got != c.want {
			t.Errorf("ExtractToken(%q, %q) = %q, want %q", c.header, c.query, got, c.want)
		}
	}
}

// FuzzAuthenticate feeds arbitrary Authorization headers and ?token= values
// through the extraction and both kinds of verification: it must never
// panic, and only the configured token or a valid JWT may pass.
func FuzzAuthenticate(f *testing.F) {
	secret := []byte("fuzzing secret, fuzzing secret!!")
	a, err := New(&config.Auth{
		Tokens: []config.Token{{TokenSHA256: hashOf("right"), Publish: []string{"a.>"}}},
		JWT:    config.JWT{HMACSecretFile: writeFile(f, "hmac", secret)},
	})
	if err != nil {
		f.Fatal(err)
	}
	good := sign(f, jwt.SigningMethodHS256, secret, claimsFor([]string{"a.>"}, []string{"b"}, 24*time.Hour))
	for _, s := range [][2]string{
		{"Bearer right", ""}, {"", "right"}, {"Bearer " + good, ""}, {"", good},
		{"Bearer a.b.c", ""}, {"bearer", "x"}, {"Basic x", ""},
		{"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOlsiPiJdfQ.", ""},
		{"Bearer eyJhbGciOiJIUzI1NiJ9.e30.", ""}, {"\x00\xff", "%zz"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		tok := ExtractToken(header, query)
		if tok != strings.TrimSpace(tok) {
			t.Fatalf("token %q has surrounding space", tok)
		}
		g, err := a.Authenticate(tok)
		switch {
		case tok == "":
			if !errors.Is(err, ErrMissing) {
				t.Fatalf("no token: %v", err)
			}
		case err != nil:
			if !errors.Is(err, ErrInvalid) || g != nil {
				t.Fatalf("%q: %+v %v", tok, g, err)
			}
		case tok != "right" && strings.Count(tok, ".") != 2:
			t.Fatalf("%q passed", tok)
		}
	})
}

func BenchmarkAuthenticateStatic(b *testing.B) {
	var toks []config.Token
	for i := range 100 {
		toks = append(toks, config.Token{TokenSHA256: hashOf(strings.Repeat("t", i+1)), Subscribe: []string{">"}})
	}
	a, err := New(&config.Auth{Tokens: toks})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate("ttttt"); err != nil {
			b.Fatal(err)
		}
	}
}
