package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// requestSchema is the part of a request body's schema the body tests read
// from the OpenAPI document.
type requestSchema struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// documentRequests returns, per route with a JSON body, the required
// fields of its body as the OpenAPI document lists them.
func documentRequests(t *testing.T, a *API) map[string][]string {
	t.Helper()
	doc, err := a.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]requestSchema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for pattern, ops := range parsed.Paths {
		for method, op := range ops {
			ref := op.RequestBody.Content["application/json"].Schema.Ref
			if ref == "" {
				continue
			}
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			out[strings.ToUpper(method)+" "+pattern] = parsed.Components.Schemas[name].Required
		}
	}
	return out
}

// TestBodiesRequired sends every route that takes a JSON body the bodies
// encoding/json accepts and a strict reader refuses — null, {}, and its
// valid example without each required field of the OpenAPI document, with
// it null, and with it blank — and checks each is a 400 naming the field.
func TestBodiesRequired(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	required := documentRequests(t, e.api)
	for _, rt := range e.api.routes {
		name := rt.method + " " + rt.pattern
		if rt.in == nil {
			if _, ok := required[name]; ok {
				t.Errorf("%s: documented with a body it does not take", name)
			}
			continue
		}
		fields, ok := required[name]
		if !ok || len(fields) == 0 {
			t.Errorf("%s: the document lists no required field of its body", name)
			continue
		}
		role := rt.allow[0]
		send := func(t *testing.T, body, wantInMessage string) {
			t.Helper()
			path, _ := examples[name](t, e, ownHolder)
			w := e.do(rt.method, path, body, role)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("body %s: status %d, want 400; %s", body, w.Code, w.Body)
			}
			env := checkEnvelope(t, w.Body.Bytes())
			if env.Error.Code != "invalid_request" || !strings.Contains(env.Error.Message, wantInMessage) {
				t.Errorf("body %s: %+v, want invalid_request naming %q", body, env.Error, wantInMessage)
			}
		}
		t.Run(name+"/null", func(t *testing.T) { send(t, "null", "(body)") })
		t.Run(name+"/empty object", func(t *testing.T) { send(t, "{}", "field "+fields[0]+": required") })
		for _, field := range fields {
			t.Run(name+"/without "+field, func(t *testing.T) {
				_, example := examples[name](t, e, ownHolder)
				var body map[string]any
				if err := json.Unmarshal([]byte(example), &body); err != nil {
					t.Fatalf("example %s: %v", example, err)
				}
				if _, ok := body[field]; !ok {
					t.Fatalf("example %s lacks the required field %s", example, field)
				}
				delete(body, field)
				send(t, marshal(t, body), "field "+field+": required")
				body[field] = nil
				send(t, marshal(t, body), "field "+field+": required")
				var raw map[string]json.RawMessage
				if err := json.Unmarshal([]byte(example), &raw); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(string(raw[field]), `"`) {
					body[field] = " "
					send(t, marshal(t, body), "field "+field+": required")
				}
			})
		}
	}
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNullBodiesChangeNothing checks the two findings of the issue by
// their effect: a null counter-notice leaves an upheld complaint upheld,
// and a manual complaint without an explanation publishes nothing.
func TestNullBodiesChangeNothing(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	ctx := context.Background()
	id := e.upheld(t, ownHolder)
	for _, body := range []string{"null", "{}", `{"statement":null}`, `{"statement":""}`} {
		if w := e.do("POST", "/v1/complaints/"+id+"/counter-notice", body, identity.RoleMarketplace); w.Code != http.StatusBadRequest {
			t.Errorf("counter-notice %s: status %d, want 400; %s", body, w.Code, w.Body)
		}
	}
	if c, err := e.store.GetComplaint(ctx, id); err != nil || c.Status != store.ComplaintUpheld {
		t.Errorf("after refused counter-notices the complaint is %s (%v), want upheld", c.Status, err)
	}
	before, err := e.store.PendingEvents(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	w := e.do("POST", "/v1/complaints", `{"listing_id":"l_1","mark_id":"m_own","seller_id":"s_1"}`, identity.RoleBrandOwner)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "explanation") {
		t.Errorf("complaint without explanation: status %d, want 400 naming explanation; %s", w.Code, w.Body)
	}
	if after, _ := e.store.PendingEvents(ctx, 1000); len(after) != len(before) {
		t.Errorf("a refused complaint published %d events", len(after)-len(before))
	}
}

// TestInvalidUTF8 checks that invalid UTF-8 anywhere in a body is refused
// with a 400 naming the field, instead of being stored as U+FFFD.
func TestInvalidUTF8(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	open := e.ingest(t, ownHolder)
	tests := []struct {
		name, path, body, field string
		role                    identity.Role
	}{
		{"holder name", "/v1/holders", `{"name":"Acme ` + "\xff" + `"}`, "field name:", identity.RoleAdmin},
		{"complaint explanation", "/v1/complaints", `{"listing_id":"l","mark_id":"m_own","explanation":"fake` + "\xc3" + `"}`, "field explanation:", identity.RoleBrandOwner},
		{"nested listing title", "/v1/complaints", `{"listing_id":"l","mark_id":"m_own","explanation":"x","listing":{"title":"` + "\xed\xa0\x80" + `"}}`, "field listing.title:", identity.RoleBrandOwner},
		{"evidence in a list", "/v1/complaints", `{"listing_id":"l","mark_id":"m_own","explanation":"x","evidence":[{"matcher":"t","score":1},{"matcher":"` + "\xfe" + `","score":1}]}`, "field evidence[1].matcher:", identity.RoleBrandOwner},
		{"decision note", "/v1/complaints/" + open + "/decision", `{"decision":"uphold","reason_code":"counterfeit","note":"` + "\x80" + `"}`, "field note:", identity.RoleReviewer},
		{"bulk item", "/v1/complaints/decisions", `{"decisions":[{"complaint_id":"` + open + `","decision":"uphold","reason_code":"counterfeit","note":"a` + "\xff" + `"}]}`, "field decisions[0].note:", identity.RoleReviewer},
		{"a key", "/v1/holders", `{"na` + "\xff" + `me":"x"}`, "(body) (a key of it)", identity.RoleAdmin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("POST", tc.path, tc.body, tc.role)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; %s", w.Code, w.Body)
			}
			env := checkEnvelope(t, w.Body.Bytes())
			if !strings.Contains(env.Error.Message, tc.field) || !strings.Contains(env.Error.Message, "invalid UTF-8") {
				t.Errorf("message %q, want invalid UTF-8 naming %q", env.Error.Message, tc.field)
			}
		})
	}
	if c, err := e.store.GetComplaint(context.Background(), open); err != nil || c.Status != store.ComplaintOpen {
		t.Errorf("complaint %s is %s after refused decisions (%v)", open, c.Status, err)
	}
}

// TestInvalidUTF8Field checks the locator on its own, including JSON it
// cannot walk.
func TestInvalidUTF8Field(t *testing.T) {
	for _, tc := range []struct {
		in    string
		field string
		found bool
	}{
		{"{\"a\":\"\xff\"}", "a", true},
		{"{\"a\":{\"b\":[1,\"x\",{\"c\":\"\xff\"}]}}", "a.b[2].c", true},
		{"{\"a\":[],\"b\":{},\"c\":\"\xff\"}", "c", true},
		{"[\"ok\",\"\xff\"]", "[1]", true},
		{"\"\xff\"", "(body)", true},
		{"{\"\xff\":1}", "(body) (a key of it)", true},
		{"{\"a\":{\"\xff\":1}}", "a (a key of it)", true},
		{`{"a":"ok"}`, "", false},
		{"{\"a\":\xff}", "", false}, // not JSON: no field to name
		{``, "", false},
	} {
		field, found := invalidUTF8Field([]byte(tc.in))
		if field != tc.field || found != tc.found {
			t.Errorf("invalidUTF8Field(%q) = %q, %v; want %q, %v", tc.in, field, found, tc.field, tc.found)
		}
	}
}

// FuzzInvalidUTF8Field checks that the locator never panics, and names a
// field only in a body that has invalid UTF-8.
func FuzzInvalidUTF8Field(f *testing.F) {
	for _, s := range []string{"{\"a\":\"\xff\"}", "{\"a\":[{\"b\":\"\xc3\"}]}", `[[[`, `{"a":}`, "{\"\xff\":\"\xff\"}", `]]`, `}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, found := invalidUTF8Field(data); found && utf8.Valid(data) {
			t.Fatalf("named a field of valid UTF-8 %q", data)
		}
	})
}

// TestErrorTextNotEscaped checks that the envelope's message reads as
// written: Bearer <token>, not Bearer \u003ctoken\u003e.
func TestErrorTextNotEscaped(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	w := e.do("GET", "/v1/sellers/s", "", "")
	if !strings.Contains(w.Body.String(), "Bearer <token>") {
		t.Errorf("body %s does not say Bearer <token> as written", w.Body)
	}
}

// FuzzDecodeJSON drives the strict decoder with every request type of the
// route table: it never panics, never accepts invalid UTF-8 or a top-level
// null, and whatever it accepts has every required string filled.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"decision":"uphold","reason_code":"counterfeit"}`, `{"statement":"x"}`, `null`, `{}`, `[]`,
		`{"decisions":[{"complaint_id":"c","decision":"reject","reason_code":"genuine"}]}`, `{"decisions":[null]}`,
		`{"listing_id":"l","mark_id":"m","explanation":"x","listing":null,"evidence":[{"matcher":"t","score":1}]}`,
		`{"name":"n","registration":{"office":"o","number":"1"}}`, `{"name":"n","registration":null}`,
		"{\"name\":\"\xff\"}", `{"name":" "}`, `{"name":"a","name":"b"}`,
	} {
		f.Add([]byte(s))
	}
	a, err := New(Options{Store: &store.Store{}, Review: &review.Service{}})
	if err != nil {
		f.Fatal(err)
	}
	var types []reflect.Type
	for _, rt := range a.routes {
		if rt.in != nil {
			types = append(types, reflect.TypeOf(rt.in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			v := reflect.New(typ)
			if err := decodeJSON(data, v.Interface()); err != nil {
				continue
			}
			if !utf8.Valid(data) || strings.TrimSpace(string(data)) == "null" {
				t.Fatalf("%s accepted %q", typ, data)
			}
			for i := range typ.NumField() {
				fd := typ.Field(i)
				if requiredField(fd) && fd.Type.Kind() == reflect.String && strings.TrimSpace(v.Elem().Field(i).String()) == "" {
					t.Fatalf("%s accepted %q without %s", typ, data, jsonName(fd))
				}
			}
		}
	})
}
