package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/markwatch/markwatch/internal/domain"
)

// schemaKinds are the message kinds with a schema in configs/schemas.
var schemaKinds = []string{"listing", "mark", "complaint", "score-result", "seller-notice", "buyer-report", "negative-bank-entry", "listing-photos"}

// schemaDir is configs/schemas, found from this file so that the test runs
// from any working directory.
func schemaDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate schema_test.go")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "configs", "schemas")
}

// loadSchemas compiles every configs/schemas/*.schema.json, asserting
// formats (date-time) as the Go codec does, and returns them by kind.
func loadSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	dir := schemaDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	schemas := map[string]*jsonschema.Schema{}
	for _, f := range files {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(t, f)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		loc := (&url.URL{Scheme: "file", Path: filepath.ToSlash(f)}).String()
		if err := c.AddResource(loc, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sch, err := c.Compile(loc)
		if err != nil {
			t.Fatalf("compile %s: %v", f, err)
		}
		schemas[strings.TrimSuffix(filepath.Base(f), ".schema.json")] = sch
	}
	return schemas
}

// validate reports whether data, one JSON document, satisfies sch.
func validate(sch *jsonschema.Schema, data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not one JSON document: %w", err)
	}
	return sch.Validate(doc)
}

func TestSchemasCompile(t *testing.T) {
	schemas := loadSchemas(t)
	var got []string
	for k := range schemas {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(schemaKinds))
	if !slices.Equal(got, want) {
		t.Errorf("schemas in configs/schemas = %v, want %v", got, want)
	}
}

func TestSchemaAcceptsGoodFiles(t *testing.T) {
	schemas := loadSchemas(t)
	for _, f := range testdataFiles(t, "*.good.json") {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			sch := schemas[kindOf(name)]
			if sch == nil {
				t.Fatalf("no schema for kind %q", kindOf(name))
			}
			if err := validate(sch, readFile(t, f)); err != nil {
				t.Errorf("schema refuses a good file: %v", err)
			}
		})
	}
}

// goOnlyBadFiles are bad files that JSON Schema cannot refuse, with why.
// TestSchemaRefusesBadFiles checks the schema still accepts them, so the
// list cannot go stale.
var goOnlyBadFiles = map[string]string{
	"listing.duplicate-key.bad.json": "a JSON Schema validator sees only one of two duplicate keys",
}

func TestSchemaRefusesBadFiles(t *testing.T) {
	schemas := loadSchemas(t)
	for _, f := range testdataFiles(t, "*.bad.json") {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			err := validate(schemas[kindOf(name)], readFile(t, f))
			if why, goOnly := goOnlyBadFiles[name]; goOnly {
				if err != nil {
					t.Errorf("listed as Go-only (%s) but the schema refuses it now: %v", why, err)
				}
				return
			}
			if err == nil {
				t.Errorf("schema accepts a file the Go codec refuses (field %q)", badFiles[name])
			}
			var ve *jsonschema.ValidationError
			if err != nil && !errors.As(err, &ve) {
				t.Errorf("not a validation error: %v", err)
			}
		})
	}
}

// agreementCase is a message both the schema and the Go codec (with
// DefaultLimits) must accept, or both must refuse.
type agreementCase struct {
	name string
	kind string
	data []byte
	ok   bool
}

func TestSchemaAgreesWithCodec(t *testing.T) {
	schemas := loadSchemas(t)
	d := domain.DefaultLimits
	rep := strings.Repeat
	n := func(count int, f func(int) any) []any {
		out := make([]any, count)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	img := func(i int) any { return fmt.Sprintf("img/%d.jpg", i) }
	word := func(i int) any { return fmt.Sprintf("w%d", i) }
	hash := func(int) any { return "f0e1d2c3b4a59687" }
	imageHash := func(int) any { return map[string]any{"kind": "logo", "hashes": []any{"f0e1d2c3b4a59687"}} }
	evidence := func(int) any { return map[string]any{"matcher": "cue", "score": 0.5} }
	const L, M, C = "listing.minimal.good.json", "mark.minimal.good.json", "complaint.rights-holder.good.json"
	longURL := func(size int) string {
		return "https://img.example.com/" + rep("a", size-len("https://img.example.com/"))
	}
	cases := []agreementCase{
		{"title at cap", "listing", patch(t, L, "title", rep("t", d.MaxTitleBytes)), true},
		{"title over cap", "listing", patch(t, L, "title", rep("t", d.MaxTitleBytes+1)), false},
		{"description at cap", "listing", patch(t, L, "description", rep("d", d.MaxDescriptionBytes)), true},
		{"description over cap", "listing", patch(t, L, "description", rep("d", d.MaxDescriptionBytes+1)), false},
		{"id at cap", "listing", patch(t, L, "listing_id", rep("i", d.MaxIDBytes)), true},
		{"id over cap", "listing", patch(t, L, "seller_id", rep("i", d.MaxIDBytes+1)), false},
		{"id with inner space", "listing", patch(t, L, "listing_id", "a b"), true},
		{"id tab", "listing", patch(t, L, "listing_id", "a\tb"), false},
		{"brand over cap", "listing", patch(t, L, "brand", rep("b", d.MaxShortFieldBytes+1)), false},
		{"images at cap", "listing", patch(t, L, "images", n(d.MaxImages, img)), true},
		{"images over cap", "listing", patch(t, L, "images", n(d.MaxImages+1, img)), false},
		{"image URL at cap", "listing", patch(t, L, "images", []any{longURL(d.MaxURLBytes)}), true},
		{"image URL over cap", "listing", patch(t, L, "images", []any{longURL(d.MaxURLBytes + 1)}), false},
		{"image with user info", "listing", patch(t, L, "images", []any{"https://u@img.example.com/a.jpg"}), true},
		{"image with empty host after user info", "listing", patch(t, L, "images", []any{"https://u@/a.jpg"}), false},
		{"image query only", "listing", patch(t, L, "images", []any{"?id=3"}), true},
		{"image colon after slash", "listing", patch(t, L, "images", []any{"img/a:b.jpg"}), true},
		{"image mailto", "listing", patch(t, L, "images", []any{"mailto:a@example.com"}), false},
		{"image data URL", "listing", patch(t, L, "images", []any{"data:image/png;base64,AA"}), false},
		{"image blank", "listing", patch(t, L, "images", []any{"  "}), false},
		{"amount 32 digits", "listing", patch(t, L, "price", map[string]any{"amount": rep("9", 32), "currency": "USD"}), true},
		{"amount 33 digits", "listing", patch(t, L, "price", map[string]any{"amount": rep("9", 33), "currency": "USD"}), false},
		{"amount trailing dot", "listing", patch(t, L, "price", map[string]any{"amount": "12.", "currency": "USD"}), true},
		{"amount plus sign", "listing", patch(t, L, "price", map[string]any{"amount": "+1", "currency": "USD"}), false},
		{"currency digits", "listing", patch(t, L, "price", map[string]any{"amount": "1", "currency": "U5D"}), false},
		{"version zero", "listing", patch(t, L, "version", 0), true},
		{"version max int64", "listing", patch(t, L, "version", json.Number("9223372036854775807")), true},
		{"version over int64", "listing", patch(t, L, "version", json.Number("9223372036854775808")), false},
		{"created_at with offset", "listing", patch(t, L, "created_at", "2024-05-01T12:30:00.25-03:30"), true},
		{"created_at date only", "listing", patch(t, L, "created_at", "2024-05-01"), false},
		{"label only", "listing", patch(t, L, "label", map[string]any{"infringing": true}), true},
		{"label unknown field", "listing", patch(t, L, "label", map[string]any{"infringing": true, "why": "x"}), false},

		{"variants at cap", "mark", patch(t, M, "variants", n(d.MaxListItems, word)), true},
		{"variants over cap", "mark", patch(t, M, "variants", n(d.MaxListItems+1, word)), false},
		{"authorized sellers at cap", "mark", patch(t, M, "authorized_sellers", n(10*d.MaxListItems, word)), true},
		{"authorized sellers over cap", "mark", patch(t, M, "authorized_sellers", n(10*d.MaxListItems+1, word)), false},
		{"image hashes at cap", "mark", patch(t, M, "image_hashes", n(d.MaxListItems, imageHash)), true},
		{"image hashes over cap", "mark", patch(t, M, "image_hashes", n(d.MaxListItems+1, imageHash)), false},
		{"64 hashes", "mark", patch(t, M, "image_hashes", []any{map[string]any{"kind": "logo", "hashes": n(64, hash)}}), true},
		{"65 hashes", "mark", patch(t, M, "image_hashes", []any{map[string]any{"kind": "logo", "hashes": n(65, hash)}}), false},
		{"hash 15 hex digits", "mark", patch(t, M, "image_hashes", []any{map[string]any{"kind": "logo", "hashes": []any{rep("a", 15)}}}), false},
		{"hash 64 hex digits", "mark", patch(t, M, "image_hashes", []any{map[string]any{"kind": "logo", "hashes": []any{rep("a", 64)}}}), true},
		{"threshold 1", "mark", patch(t, M, "threshold", 1), true},
		{"threshold 0", "mark", patch(t, M, "threshold", 0), false},
		{"Nice class 45", "mark", patch(t, M, "registration", map[string]any{"classes": []any{45}}), true},
		{"Nice class 46", "mark", patch(t, M, "registration", map[string]any{"classes": []any{46}}), false},
		{"blank jurisdiction", "mark", patch(t, M, "registration", map[string]any{"jurisdictions": []any{""}}), false},
		{"reference price with category", "mark", patch(t, M, "reference_prices", []any{map[string]any{"category": "bags", "amount": "1500", "currency": "EUR"}}), true},
		{"reference price unknown field", "mark", patch(t, M, "reference_prices", []any{map[string]any{"amount": "1", "currency": "EUR", "vat": true}}), false},
		{"status suspended", "mark", patch(t, M, "status", "suspended"), true},
		{"status empty", "mark", patch(t, M, "status", ""), false},

		{"evidence at cap", "complaint", patch(t, C, "evidence", n(d.MaxEvidence, evidence)), true},
		{"evidence over cap", "complaint", patch(t, C, "evidence", n(d.MaxEvidence+1, evidence)), false},
		{"evidence blank matcher", "complaint", patch(t, C, "evidence", []any{map[string]any{"matcher": " ", "score": 1}}), false},
		{"explanation over cap", "complaint", patch(t, C, "explanation", rep("e", d.MaxDescriptionBytes+1)), false},
		{"holder_id over cap", "complaint", patch(t, C, "holder_id", rep("h", d.MaxIDBytes+1)), false},
		{"score 0", "complaint", patch(t, C, "score", 0), true},
		{"source auto", "complaint", patch(t, C, "source", "auto"), true},
		{"snapshot empty", "complaint", patch(t, C, "listing", map[string]any{}), true},
		{"snapshot images over cap", "complaint", patch(t, C, "listing", map[string]any{"images": n(d.MaxImages+1, img)}), false},
		{"snapshot ftp image", "complaint", patch(t, C, "listing", map[string]any{"images": []any{"ftp://x/a.jpg"}}), false},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			_, goErr := decoders[tc.kind](tc.data, domain.Limits{})
			schemaErr := validate(schemas[tc.kind], tc.data)
			if (goErr == nil) != tc.ok {
				t.Errorf("Go codec: err = %v, want ok=%v", goErr, tc.ok)
			}
			if (schemaErr == nil) != tc.ok {
				t.Errorf("schema: err = %v, want ok=%v", schemaErr, tc.ok)
			}
		})
	}
}

// TestSchemaKnownDivergences pins the differences the schemas document in
// their descriptions: the Go codec is stricter in each. If one stops
// holding, update the schema description and move the case to
// TestSchemaAgreesWithCodec.
func TestSchemaKnownDivergences(t *testing.T) {
	schemas := loadSchemas(t)
	const L = "listing.minimal.good.json"
	cases := []struct {
		name string
		data []byte
	}{
		{"integer written as 1.0", patch(t, L, "schema_version", json.Number("1.0"))},
		{"cap in bytes, not characters", patch(t, L, "title", strings.Repeat("耐", domain.DefaultLimits.MaxTitleBytes/3+1))},
		{"Unicode space is blank", patch(t, L, "title", "\u3000")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := domain.DecodeListing(tc.data, domain.Limits{}); err == nil {
				t.Errorf("Go codec accepts it")
			}
			if err := validate(schemas["listing"], tc.data); err != nil {
				t.Errorf("schema refuses it now: %v", err)
			}
		})
	}
	// null for an optional field: Go accepts (zero value), the schema does not.
	nullBrand := patch(t, L, "brand", json.RawMessage("null"))
	if _, err := domain.DecodeListing(nullBrand, domain.Limits{}); err != nil {
		t.Errorf("Go codec refuses null brand: %v", err)
	}
	if err := validate(schemas["listing"], nullBrand); err == nil {
		t.Errorf("schema accepts null brand")
	}
}

func TestSchemaScoreResult(t *testing.T) {
	sch := loadSchemas(t)["score-result"]
	good := []struct {
		name string
		v    domain.ScoreResult
	}{
		{"flagged", domain.ScoreResult{
			ListingID: "etsy-999", Version: 2, Flagged: true, Score: 0.93,
			Complaints: []domain.ComplaintSummary{{
				ComplaintID: domain.ComplaintID("etsy-999", 2, "m-nike", "r1"), MarkID: "m-nike", Score: 0.93,
				Explanation: "leet spelling of Nike",
				Evidence:    []domain.Evidence{{Matcher: "wordmark", Score: 0.9, Field: "title", Match: "N1KE", Kind: "leet"}},
			}},
			Warnings: []string{"images[0]: fetch failed"},
		}},
		{"clean, nil complaints", domain.ScoreResult{ListingID: "l1"}},
		{"complaint without evidence", domain.ScoreResult{ListingID: "l1", Complaints: []domain.ComplaintSummary{{ComplaintID: "c", MarkID: "m"}}}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, b); err != nil {
				t.Errorf("schema refuses what markwatch writes, %s: %v", b, err)
			}
		})
	}
	const S = "score-result.clean.good.json"
	bad := []struct {
		name string
		data []byte
	}{
		{"missing listing_id", patch(t, S, "listing_id", nil)},
		{"missing complaints", patch(t, S, "complaints", nil)},
		{"score over 1", patch(t, S, "score", 2)},
		{"flagged string", patch(t, S, "flagged", "yes")},
		{"unknown field", patch(t, S, "marks", []any{})},
		{"evidence without matcher", patch(t, S, "complaints", []any{map[string]any{
			"complaint_id": "c", "mark_id": "m", "score": 1, "explanation": "", "evidence": []any{map[string]any{"score": 1}}}})},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := validate(sch, tc.data); err == nil {
				t.Errorf("schema accepts %s", tc.data)
			}
		})
	}
}

// TestSchemaMirrorsGo ties the numbers and enums in the schemas to the Go
// constants they copy, so changing one without the other fails here.
func TestSchemaMirrorsGo(t *testing.T) {
	docs := map[string]any{}
	for _, kind := range schemaKinds {
		var doc any
		if err := json.Unmarshal(readFile(t, filepath.Join(schemaDir(t), kind+".schema.json")), &doc); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		docs[kind] = doc
	}
	d := domain.DefaultLimits
	cases := []struct {
		kind, pointer string
		want          any
	}{
		{"listing", "/$defs/schemaVersion/maximum", domain.SchemaVersion},
		{"listing", "/$defs/id/maxLength", d.MaxIDBytes},
		{"listing", "/$defs/shortText/maxLength", d.MaxShortFieldBytes},
		{"listing", "/$defs/imageRef/maxLength", d.MaxURLBytes},
		{"listing", "/properties/title/maxLength", d.MaxTitleBytes},
		{"listing", "/properties/description/maxLength", d.MaxDescriptionBytes},
		{"listing", "/properties/images/maxItems", d.MaxImages},
		{"listing", "/properties/label/properties/mark_id/maxLength", d.MaxIDBytes},
		{"mark", "/properties/name/maxLength", d.MaxShortFieldBytes},
		{"mark", "/$defs/listItem/maxLength", d.MaxShortFieldBytes},
		{"mark", "/properties/variants/maxItems", d.MaxListItems},
		{"mark", "/properties/logos/maxItems", d.MaxListItems},
		{"mark", "/properties/image_hashes/maxItems", d.MaxListItems},
		{"mark", "/properties/authorized_sellers/maxItems", 10 * d.MaxListItems},
		{"mark", "/properties/authorized_sellers/items/maxLength", d.MaxIDBytes},
		{"mark", "/properties/status/enum", []any{domain.MarkActive, domain.MarkPending, domain.MarkSuspended, domain.MarkRemoved}},
		{"complaint", "/properties/source/enum", []any{domain.SourceAuto, domain.SourceRightsHolder, domain.SourceSweep, domain.SourceBuyer}},
		{"buyer-report", "/properties/listing_brand/maxLength", d.MaxShortFieldBytes},
		{"buyer-report", "/properties/listing_title/maxLength", d.MaxTitleBytes},
		{"listing-photos", "/properties/photos/maxItems", d.MaxImages},
		{"listing-photos", "/$defs/id/maxLength", d.MaxIDBytes},
		{"complaint", "/properties/evidence/maxItems", d.MaxEvidence},
		{"complaint", "/properties/explanation/maxLength", d.MaxDescriptionBytes},
		{"complaint", "/properties/listing/properties/images/maxItems", d.MaxImages},
		{"complaint", "/$defs/evidence/properties/match/maxLength", d.MaxTitleBytes},
	}
	for _, tc := range cases {
		t.Run(tc.kind+tc.pointer, func(t *testing.T) {
			got, ok := lookup(docs[tc.kind], tc.pointer)
			if !ok {
				t.Fatalf("no %s in %s.schema.json", tc.pointer, tc.kind)
			}
			want := tc.want
			if n, isInt := want.(int); isInt {
				want = float64(n)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %v, want %v", tc.pointer, got, want)
			}
		})
	}

	// A $defs entry copied into several schemas must be the same in each.
	seen := map[string]any{}
	from := map[string]string{}
	for _, kind := range schemaKinds {
		defs, _ := lookup(docs[kind], "/$defs")
		for name, def := range defs.(map[string]any) {
			if prev, ok := seen[name]; ok && !reflect.DeepEqual(prev, def) {
				t.Errorf("$defs/%s differs between %s and %s", name, from[name], kind)
			}
			seen[name], from[name] = def, kind
		}
	}
}

// lookup resolves a JSON pointer (without ~ escapes) in a decoded document.
func lookup(doc any, pointer string) (any, bool) {
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return doc, true
}
