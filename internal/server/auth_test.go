package server

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ringcast/ringcast/internal/auth"
	"github.com/ringcast/ringcast/internal/config"
)

// The tokens of the auth tests, by what they may do on "priv.>".
const (
	tokAdmin   = "admin-token"   // publish and subscribe to everything
	tokBoth    = "both-token"    // publish and subscribe priv.>
	tokPubOnly = "pubonly-token" // publish priv.>
	tokSubOnly = "subonly-token" // subscribe priv.> and pub.*
	tokWrong   = "wrong-token"   // not configured
)

var jwtSecret = []byte("the HS256 secret of the server tests")

func sha(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// startAuth runs a server with the test tokens, HS256 and RS256; it returns
// the RSA private key whose public key the server trusts.
func startAuth(t *testing.T) (*testServer, *rsa.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubFile, secretFile := filepath.Join(dir, "rsa.pem"), filepath.Join(dir, "hmac")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretFile, jwtSecret, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(&config.Auth{
		Tokens: []config.Token{
			{TokenSHA256: sha(tokAdmin), Publish: []string{">"}, Subscribe: []string{">"}},
			{TokenSHA256: sha(tokBoth), Publish: []string{"priv.>"}, Subscribe: []string{"priv.>"}},
			{TokenSHA256: sha(tokPubOnly), Publish: []string{"priv.>"}},
			{TokenSHA256: sha(tokSubOnly), Subscribe: []string{"priv.>", "pub.*"}},
		},
		JWT: config.JWT{HMACSecretFile: secretFile, RSAPublicKeyFile: pubFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	return start(t, Config{Auth: a}), key
}

// withToken adds tok to a request as the Authorization header (inQuery
// false) or as ?token= (inQuery true); it returns the URL and the headers.
func withToken(u, tok string, inQuery bool) (string, []string) {
	if tok == "" {
		return u, nil
	}
	if inQuery {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		return u + sep + "token=" + url.QueryEscape(tok), nil
	}
	return u, []string{"Authorization", "Bearer " + tok}
}

// wsStatus dials a WebSocket and returns the handshake's status: 101 when
// it connected (the connection is closed at the end of the test).
func wsStatus(t *testing.T, u string, header []string) (int, *websocket.Conn, []byte) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	c, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err == nil {
		t.Cleanup(func() { c.Close() })
		return resp.StatusCode, c, nil
	}
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil, body.Bytes()
}

// sseStatus opens an SSE stream and returns its status, closing it.
func sseStatus(t *testing.T, u string, header []string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body []byte
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		body = b.Bytes()
	}
	return resp.StatusCode, resp.Header, body
}

// rejected reads ringcast_publish_rejected_total by code.
func rejected(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(do(t, "GET", ts.base+"/metrics", "").body), "\n") {
		if rest, ok := strings.CutPrefix(line, `ringcast_publish_rejected_total{code="`); ok {
			code, val, _ := strings.Cut(rest, `"} `)
			v, _ := strconv.ParseFloat(val, 64)
			out[code] = v
		}
	}
	return out
}

// TestAuthEveryTransport checks every topic route with no token, a wrong
// one, one without the permission and the right one, with the token in the
// Authorization header and in ?token=.
func TestAuthEveryTransport(t *testing.T) {
	ts, _ := startAuth(t)
	// The topic exists for the stats route.
	if a := do(t, "POST", ts.base+"/v1/topics/priv.a", "seed", "Authorization", "Bearer "+tokAdmin); a.status != 201 {
		t.Fatalf("seed publish: %d %s", a.status, a.body)
	}
	type route struct {
		name      string
		kind      string // http, ws, sse
		method    string
		path      string
		body      string
		lacking   string // a token without the permission this route needs
		right     string // a token with it
		published bool   // counted in ringcast_publish_rejected_total
		okStatus  int
	}
	routes := []route{
		{"publish", "http", "POST", "/v1/topics/priv.a", "x", tokSubOnly, tokPubOnly, true, 201},
		{"batch", "http", "POST", "/v1/topics/priv.a/batch", "a\nb\n", tokSubOnly, tokPubOnly, true, 201},
		{"stats", "http", "GET", "/v1/topics/priv.a", "", tokPubOnly, tokSubOnly, false, 200},
		{"messages", "http", "GET", "/v1/topics/priv.a/messages", "", tokPubOnly, tokSubOnly, false, 200},
		{"sse", "sse", "GET", "/v1/topics/priv.a/sse", "", tokPubOnly, tokSubOnly, false, 200},
		{"ws sub", "ws", "GET", "/v1/topics/priv.a/ws", "", tokPubOnly, tokSubOnly, false, 101},
		{"ws mode=sub", "ws", "GET", "/v1/topics/priv.a/ws?mode=sub", "", tokPubOnly, tokSubOnly, false, 101},
		{"ws mode=pub", "ws", "GET", "/v1/topics/priv.a/ws?mode=pub", "", tokSubOnly, tokPubOnly, true, 101},
		{"ws mode=pubsub lacking sub", "ws", "GET", "/v1/topics/priv.a/ws?mode=pubsub", "", tokPubOnly, tokBoth, true, 101},
		{"ws mode=pubsub lacking pub", "ws", "GET", "/v1/topics/priv.a/ws?mode=pubsub", "", tokSubOnly, tokBoth, true, 101},
		// A topic outside the token's patterns is forbidden like a missing permission.
		{"publish elsewhere", "http", "POST", "/v1/topics/other.a", "x", tokBoth, tokAdmin, true, 201},
		{"sse elsewhere", "sse", "GET", "/v1/topics/other.a/sse", "", tokBoth, tokAdmin, false, 200},
	}
	for _, r := range routes {
		for _, inQuery := range []bool{false, true} {
			name := r.name + " token in header"
			if inQuery {
				name = r.name + " token in query"
			}
			t.Run(name, func(t *testing.T) {
				for _, c := range []struct {
					tok    string
					status int
					code   string
				}{
					{"", 401, "unauthorized"},
					{tokWrong, 401, "unauthorized"},
					{r.lacking, 403, "forbidden"},
					{r.right, r.okStatus, ""},
				} {
					before := rejected(t, ts)
					u, header := withToken(ts.base+r.path, c.tok, inQuery)
					var a answer
					switch r.kind {
					case "http":
						a = do(t, r.method, u, r.body, header...)
					case "sse":
						a.status, a.header, a.body = sseStatus(t, u, header)
					case "ws":
						u, header := withToken(ts.ws+r.path, c.tok, inQuery)
						a.status, _, a.body = wsStatus(t, u, header)
					}
					if a.status != c.status {
						t.Fatalf("token %q: status %d, want %d: %s", c.tok, a.status, c.status, a.body)
					}
					if c.code == "" {
						continue
					}
					if got := a.errorCode(t); got != c.code {
						t.Fatalf("token %q: code %q, want %q", c.tok, got, c.code)
					}
					if c.status == 401 && r.kind != "ws" && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
						t.Fatalf("token %q: 401 without WWW-Authenticate: Bearer: %v", c.tok, a.header)
					}
					if bytes.Contains(a.body, []byte(c.tok)) && c.tok != "" {
						t.Fatalf("the refusal repeats the token: %s", a.body)
					}
					if r.published {
						after := rejected(t, ts)
						if after[c.code] != before[c.code]+1 {
							t.Fatalf("token %q: rejected{code=%q} %v → %v, want one more", c.tok, c.code, before[c.code], after[c.code])
						}
					}
				}
			})
		}
	}
}

// TestAuthWebSocketFlow publishes and subscribes over WebSocket and SSE with
// tokens in the header and in the query, as browsers send them.
func TestAuthWebSocketFlow(t *testing.T) {
	ts, _ := startAuth(t)
	_, sub, _ := wsStatus(t, ts.ws+"/v1/topics/priv.flow/ws?token="+tokSubOnly, nil)
	sse := openSSE(t, ts.base+"/v1/topics/priv.flow/sse", "Authorization", "Bearer "+tokSubOnly)
	_, pub, _ := wsStatus(t, ts.ws+"/v1/topics/priv.flow/ws?mode=pub", []string{"Authorization", "Bearer " + tokPubOnly})
	_, both, _ := wsStatus(t, ts.ws+"/v1/topics/priv.flow/ws?mode=pubsub&token="+tokBoth, nil)
	if sub == nil || pub == nil || both == nil {
		t.Fatal("a connection with the right token was refused")
	}
	if err := pub.WriteMessage(websocket.TextMessage, []byte("from-pub")); err != nil {
		t.Fatal(err)
	}
	if err := both.WriteMessage(websocket.TextMessage, []byte("from-pubsub")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{sub, both} {
		var got []string
		for len(got) < 2 {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("read: %v (got %q)", err, got)
			}
			for _, want := range []string{"from-pub", "from-pubsub"} {
				if bytes.Contains(data, []byte(want)) {
					got = append(got, want)
				}
			}
		}
	}
	var data []string
	for len(data) < 2 {
		ev, err := sse.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.event == "" || ev.event == "message" {
			data = append(data, ev.data)
		}
	}
	if !strings.Contains(data[0]+data[1], "from-pub") || !strings.Contains(data[0]+data[1], "from-pubsub") {
		t.Fatalf("SSE got %q", data)
	}
}

// TestAuthTopicListing checks that GET /v1/topics shows only the topics the
// caller may subscribe to.
func TestAuthTopicListing(t *testing.T) {
	ts, _ := startAuth(t)
	for _, topic := range []string{"priv.a", "priv.b", "pub.x", "pub.x.y", "other"} {
		if a := do(t, "POST", ts.base+"/v1/topics/"+topic, "m", "Authorization", "Bearer "+tokAdmin); a.status != 201 {
			t.Fatalf("publish %s: %d", topic, a.status)
		}
	}
	list := func(tok string, inQuery bool) (int, []string) {
		u, header := withToken(ts.base+"/v1/topics", tok, inQuery)
		a := do(t, "GET", u, "", header...)
		if a.status != 200 {
			return a.status, nil
		}
		var stats []struct{ Topic string }
		if err := json.Unmarshal(a.body, &stats); err != nil {
			t.Fatalf("%s: %v", a.body, err)
		}
		names := []string{}
		for _, s := range stats {
			names = append(names, s.Topic)
		}
		return 200, names
	}
	for _, c := range []struct {
		tok    string
		status int
		want   []string
	}{
		{"", 401, nil},
		{tokWrong, 401, nil},
		{tokPubOnly, 200, []string{}},
		{tokSubOnly, 200, []string{"priv.a", "priv.b", "pub.x"}},
		{tokBoth, 200, []string{"priv.a", "priv.b"}},
		{tokAdmin, 200, []string{"other", "priv.a", "priv.b", "pub.x", "pub.x.y"}},
	} {
		for _, inQuery := range []bool{false, true} {
			status, names := list(c.tok, inQuery)
			if status != c.status || !slices.Equal(names, c.want) {
				t.Errorf("token %q (query %v): %d %q, want %d %q", c.tok, inQuery, status, names, c.status, c.want)
			}
		}
	}
	// Stats of a topic the token may not subscribe to: 403, whether or
	// not it exists.
	for _, topic := range []string{"other", "ghost"} {
		if a := do(t, "GET", ts.base+"/v1/topics/"+topic, "", "Authorization", "Bearer "+tokSubOnly); a.status != 403 {
			t.Errorf("stats of %s: %d", topic, a.status)
		}
	}
}

// TestAuthJWT checks HS256 and RS256 tokens over HTTP and WebSocket, and that
// expired, not yet valid, unsigned and algorithm-confused ones get 401.
func TestAuthJWT(t *testing.T) {
	ts, key := startAuth(t)
	now := time.Now()
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"pub": []string{"jwt.>"}, "sub": []string{"jwt.*"}, "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	sign := func(m jwt.SigningMethod, k any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := sign(jwt.SigningMethodHS256, jwtSecret, claims(nil))
	rs := sign(jwt.SigningMethodRS256, key, claims(nil))
	for name, tok := range map[string]string{"HS256": hs, "RS256": rs} {
		if a := do(t, "POST", ts.base+"/v1/topics/jwt.a", name, "Authorization", "Bearer "+tok); a.status != 201 {
			t.Errorf("%s publish: %d %s", name, a.status, a.body)
		}
		if a := do(t, "GET", ts.base+"/v1/topics/jwt.a/messages?token="+tok, ""); a.status != 200 {
			t.Errorf("%s messages: %d %s", name, a.status, a.body)
		}
		if status, _, body := wsStatus(t, ts.ws+"/v1/topics/jwt.a/ws?token="+tok, nil); status != 101 {
			t.Errorf("%s ws: %d %s", name, status, body)
		}
		if a := do(t, "GET", ts.base+"/v1/topics/jwt.a.b/messages?token="+tok, ""); a.status != 403 {
			t.Errorf("%s messages beyond sub: %d", name, a.status)
		}
	}
	pemKey, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"expired":            sign(jwt.SigningMethodHS256, jwtSecret, claims(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})),
		"expired RS256":      sign(jwt.SigningMethodRS256, key, claims(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})),
		"not yet valid":      sign(jwt.SigningMethodHS256, jwtSecret, claims(jwt.MapClaims{"nbf": now.Add(30 * time.Minute).Unix()})),
		"alg none":           sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"HS256 with RSA key": sign(jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pemKey}), claims(nil)),
		"HS512":              sign(jwt.SigningMethodHS512, jwtSecret, claims(nil)),
	} {
		for _, route := range []struct{ method, path string }{{"POST", "/v1/topics/jwt.a"}, {"GET", "/v1/topics/jwt.a/messages"}} {
			a := do(t, route.method, ts.base+route.path, "x", "Authorization", "Bearer "+tok)
			if a.status != 401 || a.errorCode(t) != "unauthorized" {
				t.Errorf("%s %s %s: %d %s", name, route.method, route.path, a.status, a.body)
			}
			if !strings.Contains(string(a.body), "invalid or expired token") {
				t.Errorf("%s: %s", name, a.body)
			}
		}
		if status, _, _ := wsStatus(t, ts.ws+"/v1/topics/jwt.a/ws?token="+tok, nil); status != 401 {
			t.Errorf("%s ws: %d", name, status)
		}
	}
}

// TestAuthLeavesOpenRoutesOpen checks that health, readiness, metrics and
// the console need no token, and that without auth nothing does.
func TestAuthLeavesOpenRoutesOpen(t *testing.T) {
	ts, _ := startAuth(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/", "/v1/client.js"} {
		if a := do(t, "GET", ts.base+p, ""); a.status != 200 {
			t.Errorf("%s: %d", p, a.status)
		}
	}
	open := start(t, Config{})
	if a := do(t, "POST", open.base+"/v1/topics/x", "m"); a.status != 201 {
		t.Fatalf("publish without auth: %d", a.status)
	}
	if a := do(t, "GET", open.base+"/v1/topics", ""); a.status != 200 || !strings.Contains(string(a.body), `"x"`) {
		t.Fatalf("listing without auth: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", open.base+"/v1/topics/x/messages?token=anything", ""); a.status != 200 {
		t.Fatalf("messages without auth: %d", a.status)
	}
}
