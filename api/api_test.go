package api_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ringcast/ringcast/api"
)

// TestSpecIsValid loads the document as OpenAPI 3.1 and validates it,
// examples included.
func TestSpecIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/topics/{topic}", "/v1/topics/{topic}/batch", "/v1/topics/{topic}/ws", "/v1/topics/{topic}/sse",
		"/v1/topics/{topic}/messages", "/v1/topics", "/healthz", "/readyz", "/metrics", "/", "/v1/openapi.yaml"} {
		if doc.Paths.Find(path) == nil {
			t.Errorf("no %s", path)
		}
	}
}
