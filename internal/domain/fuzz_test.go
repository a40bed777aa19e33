package domain_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

// extraSeeds are byte-level edge cases the JSON testdata files cannot hold.
var extraSeeds = []string{
	"",
	" ",
	"null",
	"{}",
	"[]",
	`{"schema_version":1}`,
	"{\"title\":\"\xff\"}",
	`{"title":"\ud800"}`,
	`{"Title":"x","TITLE":"y"}`,
	`{"created_at":"2024-01-01T00:00:00+00:00"}`,
	`{"images":[]}`,
	`{} {}`,
	`{"a":[[[[[[[[[[]]]]]]]]]]}`,
	// One level past MaxJSONDepth, in arrays and in objects.
	`{"title":` + strings.Repeat("[", domain.MaxJSONDepth) + strings.Repeat("]", domain.MaxJSONDepth) + `}`,
	strings.Repeat(`{"price":`, domain.MaxJSONDepth+1) + "1" + strings.Repeat("}", domain.MaxJSONDepth+1),
	`{"title":"` + strings.Repeat("[", 2*domain.MaxJSONDepth) + `"}`,
}

// fuzzDecoder checks, for any input, that the decoder does not panic, that
// every error is an ErrInvalid *FieldError, and that what it accepts
// survives json.Marshal and a second decode unchanged (up to normalize: the
// JSON encoding drops empty slices and writes UTC offsets as "Z"). The
// re-encoded message must also satisfy the kind's JSON Schema: the Go codec
// may be stricter than the schema, never looser.
func fuzzDecoder[T any](f *testing.F, kind string, decode func([]byte, domain.Limits) (*T, error)) {
	sch := loadSchemas(f)[kind]
	for _, file := range testdataFiles(f, kind+".*.json") {
		f.Add(readFile(f, file))
	}
	// Valid messages in the forms a JSON round trip rewrites.
	for _, file := range testdataFiles(f, kind+".*good.json") {
		f.Add(roundTripEdges(f, file))
	}
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decode(data, domain.Limits{})
		if err != nil {
			var fe *domain.FieldError
			if !errors.Is(err, domain.ErrInvalid) || !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not an ErrInvalid *FieldError", err, err)
			}
			if v != nil {
				t.Fatalf("value %+v returned with error %v", v, err)
			}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal accepted %s: %v", kind, err)
		}
		again, err := decode(b, domain.Limits{})
		if err != nil {
			t.Fatalf("re-encoded %s refused: %v\ninput: %q\nre-encoded: %s", kind, err, data, b)
		}
		normalize(v)
		normalize(again)
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip changed the %s:\n got %+v\nwant %+v\ninput: %q", kind, again, v, data)
		}
		if err := validate(sch, b); err != nil {
			t.Fatalf("schema refuses a %s the Go codec accepts: %v\nre-encoded: %s", kind, err, b)
		}
	})
}

func FuzzDecodeListing(f *testing.F)   { fuzzDecoder(f, "listing", domain.DecodeListing) }
func FuzzDecodeMark(f *testing.F)      { fuzzDecoder(f, "mark", domain.DecodeMark) }
func FuzzDecodeComplaint(f *testing.F) { fuzzDecoder(f, "complaint", domain.DecodeComplaint) }
func FuzzDecodeBuyerReport(f *testing.F) {
	fuzzDecoder(f, "buyer-report", domain.DecodeBuyerReport)
}

// FuzzDecodeBankEntry fuzzes the decoder of the negative-banks topic, which
// every detector runs on whatever the topic holds.
func FuzzDecodeBankEntry(f *testing.F) {
	fuzzDecoder(f, "negative-bank-entry", domain.DecodeBankEntry)
}

// FuzzDecodeListingPhotos fuzzes the decoder of the listing-photos topic,
// which the review service's seller-network linker runs on whatever the
// topic holds.
func FuzzDecodeListingPhotos(f *testing.F) {
	fuzzDecoder(f, "listing-photos", domain.DecodeListingPhotos)
}

// roundTripEdges returns a good file with every array emptied and created_at
// written with a +00:00 offset: both decode to values that json.Marshal
// writes differently (no key, "Z").
func roundTripEdges(t testing.TB, file string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, file), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		if _, ok := v.([]any); ok {
			m[k] = []any{}
		}
	}
	m["created_at"] = "1999-12-31T23:59:59.999+00:00"
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// agreementField is one field FuzzSchemaAgreement varies, holding the rest
// of a good message fixed.
type agreementField struct {
	kind string
	set  func(m map[string]any, s string)
	// exact is set where the schema states the Go rule exactly, so the two
	// must agree both ways; elsewhere (URLs, ids, text, where Go also runs
	// url.Parse, counts bytes and knows Unicode spaces) Go may be stricter.
	exact bool
}

var agreementFields = []agreementField{
	{"listing", func(m map[string]any, s string) { m["images"] = []any{s} }, false},
	{"listing", func(m map[string]any, s string) { m["price"] = map[string]any{"amount": s, "currency": "USD"} }, true},
	{"listing", func(m map[string]any, s string) { m["price"] = map[string]any{"amount": "1", "currency": s} }, true},
	{"listing", func(m map[string]any, s string) { m["listing_id"] = s }, false},
	{"listing", func(m map[string]any, s string) { m["title"] = s }, false},
	{"mark", func(m map[string]any, s string) { m["status"] = s }, true},
	{"mark", func(m map[string]any, s string) {
		m["image_hashes"] = []any{map[string]any{"kind": "logo", "hashes": []any{s}}}
	}, true},
	{"mark", func(m map[string]any, s string) { m["variants"] = []any{s} }, false},
	{"complaint", func(m map[string]any, s string) { m["source"] = s }, true},
	{"complaint", func(m map[string]any, s string) { m["created_at"] = s }, false},
}

// FuzzSchemaAgreement varies one field of a good message at a time and
// checks that the JSON Schema accepts whatever the Go codec accepts, and
// agrees exactly on the fields whose rule it copies.
func FuzzSchemaAgreement(f *testing.F) {
	schemas := loadSchemas(f)
	bases := map[string]map[string]any{}
	for kind, file := range map[string]string{
		"listing": "listing.minimal.good.json", "mark": "mark.minimal.good.json", "complaint": "complaint.rights-holder.good.json",
	} {
		var m map[string]any
		if err := json.Unmarshal(readFile(f, "testdata/"+file), &m); err != nil {
			f.Fatal(err)
		}
		bases[kind] = m
	}
	for _, s := range []string{
		"https://img.example.com/a.jpg", "a.jpg#\x00", "// ", "img%zz.jpg", "javascript:x", "12.50", "12.", ".5",
		"USD", "usd", "l1", " ", "\u3000", "active", "Active", "f0e1d2c3b4a59687", "auto", "2024-05-01T12:30:00Z",
	} {
		for i := range agreementFields {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		field := agreementFields[int(which)%len(agreementFields)]
		m := maps.Clone(bases[field.kind])
		field.set(m, s)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		_, goErr := decoders[field.kind](b, domain.Limits{})
		schemaErr := validate(schemas[field.kind], b)
		if goErr == nil && schemaErr != nil {
			t.Fatalf("schema refuses a %s the Go codec accepts: %v\n%s", field.kind, schemaErr, b)
		}
		if field.exact && goErr != nil && schemaErr == nil {
			t.Fatalf("schema accepts a %s the Go codec refuses: %v\n%s", field.kind, goErr, b)
		}
	})
}

// FuzzCheckShape drives the shared strict-key walk over a type with every
// kind of field the wire types and API bodies use, opaque ones included:
// it must not panic, must answer only *FieldError, and must refuse every
// body nested deeper than MaxJSONDepth.
func FuzzCheckShape(f *testing.F) {
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"name":"x","detail":{"a":[1]},"extra":{"k":[]},"any":[[1]]}`))
	typ := reflect.TypeFor[open]()
	f.Fuzz(func(t *testing.T, data []byte) {
		err := domain.CheckShape(data, typ)
		if err != nil {
			var fe *domain.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("error %v (%T) is not an ErrInvalid *FieldError", err, err)
			}
			return
		}
		if d := jsonDepth(data); d > domain.MaxJSONDepth {
			t.Fatalf("accepted a body nested %d levels deep", d)
		}
	})
}

// jsonDepth is the deepest nesting of objects and arrays in valid JSON data,
// found with encoding/json's tokenizer (0 when data is not valid JSON).
func jsonDepth(data []byte) int {
	if !json.Valid(data) {
		return 0
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
