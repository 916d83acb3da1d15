package auth

import "github.com/golang-jwt/jwt/v5"

// claims are the JWT claims Ringcast reads. "pub" and "sub" are lists of
// topic patterns; "sub" is therefore not the registered subject claim, and
// a token whose "sub" is a string is invalid. exp is required; nbf and iat
// are checked when present.
type claims struct {
	Exp *jwt.NumericDate `json:"exp"`
	Nbf *jwt.NumericDate `json:"nbf"`
	Iat *jwt.NumericDate `json:"iat"`
	Pub []string         `json:"pub"`
	Sub []string         `json:"sub"`
}

var _ jwt.Claims = (*claims)(nil)

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Exp, nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.Nbf, nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.Iat, nil }
func (c *claims) GetIssuer() (string, error)                   { return "", nil }
func (c *claims) GetSubject() (string, error)                  { return "", nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }
