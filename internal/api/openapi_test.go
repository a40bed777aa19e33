package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
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
		op, ok := parsed.Paths[rt.pattern][strings.ToLower(rt.method)]
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

// TestEnumsAgree checks that every closed set of a request is the same in
// the code that validates it and in the OpenAPI document, that a value
// outside it is refused naming the field, and that the review flow
// accepts every reason code of the document with some verdict.
func TestEnumsAgree(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	doc, err := e.api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	tagged := 0
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, strict bool)
	walk = func(typ reflect.Type, strict bool) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == timeType || seen[typ] {
			return
		}
		seen[typ] = true
		schemaName := exportedName(typ.Name())
		if strict && !strings.HasSuffix(schemaName, "Request") {
			schemaName += "Request"
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			walk(f.Type, strict)
			set := enumValues(f)
			if set == nil {
				continue
			}
			tagged++
			if got := parsed.Components.Schemas[schemaName].Properties[name].Enum; !slices.Equal(got, set) {
				t.Errorf("%s.%s: document enum %v, code %v", schemaName, name, got, set)
			}
			if !strict {
				continue
			}
			// A value outside the set is refused, naming the field; every
			// value inside passes. The struct's other closed fields hold
			// a valid value meanwhile.
			v := reflect.New(typ)
			for j := range typ.NumField() {
				if other := enumValues(typ.Field(j)); other != nil {
					v.Elem().Field(j).SetString(other[0])
				}
			}
			v.Elem().Field(i).SetString("not-in-the-set")
			if err := checkEnums(v, ""); err == nil || !strings.Contains(err.Error(), "field "+name+":") {
				t.Errorf("%s.%s: a value outside the set: %v, want a refusal naming it", schemaName, name, err)
			}
			for _, ok := range set {
				v.Elem().Field(i).SetString(ok)
				if err := checkEnums(v, ""); err != nil {
					t.Errorf("%s.%s = %q refused: %v", schemaName, name, ok, err)
				}
			}
		}
	}
	for _, rt := range e.api.routes {
		if rt.in != nil {
			walk(reflect.TypeOf(rt.in), true)
		}
		if rt.out != nil {
			walk(reflect.TypeOf(rt.out), false)
		}
	}
	if tagged == 0 {
		t.Fatal("no enum-tagged field found")
	}
	// The review flow is the owner of the reason codes: each is a reason
	// for some verdict.
	for _, code := range enumSets["reason_code"] {
		accepted := false
		for _, verdict := range enumSets["verdict"] {
			id := e.ingest(t, ownHolder)
			d := review.Decision{Verdict: verdict, ReasonCode: code, Note: "why", Actor: "u_rev"}
			accepted = accepted || e.review.Decide(context.Background(), id, d) == nil
		}
		if !accepted {
			t.Errorf("reason code %s of the document is refused with every verdict", code)
		}
	}
	// Query parameters' closed sets are the list filter's.
	for param, set := range queryEnums {
		w := e.do("GET", fmt.Sprintf("/v1/complaints?%s=not-in-the-set", param), "", identity.RoleReviewer)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), param) {
			t.Errorf("?%s outside %v: status %d; %s", param, enumSets[set], w.Code, w.Body)
		}
		for _, v := range enumSets[set] {
			if w := e.do("GET", "/v1/complaints?"+param+"="+v, "", identity.RoleReviewer); w.Code != http.StatusOK {
				t.Errorf("?%s=%s: status %d; %s", param, v, w.Code, w.Body)
			}
		}
	}
}
