package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/markwatch/markwatch/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden OpenAPI document")

// TestOpenAPIGolden pins the generated OpenAPI document: a change to a route
// or a body type shows up as a diff of testdata/openapi.json (rewrite it
// with go test -run OpenAPI -update).
func TestOpenAPIGolden(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	doc, err := e.api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("OpenAPI document differs from %s; review and rerun with -update", golden)
	}
	// The document served is the same one.
	w := e.do("GET", "/v1/openapi.json", "", "")
	if !bytes.Equal(w.Body.Bytes(), doc) {
		t.Error("served document differs from OpenAPI()")
	}
	// Every route is in it with its roles.
	var parsed struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", parsed.OpenAPI)
	}
	for _, rt := range e.api.routes {
		op, ok := parsed.Paths[rt.pattern][map[string]string{"GET": "get", "POST": "post"}[rt.method]]
		if !ok {
			t.Errorf("route %s %s missing from the document", rt.method, rt.pattern)
			continue
		}
		roles, _ := op["x-roles"].([]any)
		if len(roles) != len(rt.allow) {
			t.Errorf("route %s %s: x-roles %v, want %v", rt.method, rt.pattern, roles, rt.allow)
		}
	}
}
