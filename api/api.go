// Package api holds the OpenAPI 3.1 description of Ringcast's HTTP
// interface, api/openapi.yaml, which the server serves at GET
// /v1/openapi.yaml. The description follows the wire contract (API.md);
// a test in internal/server checks the running server's answers against
// it.
package api

import _ "embed"

//go:embed openapi.yaml
var spec []byte

// ContentType is the media type of the description.
const ContentType = "application/yaml"

// Spec returns the OpenAPI document. The slice is shared: do not modify
// it.
func Spec() []byte { return spec }
