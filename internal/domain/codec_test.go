package domain_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// badFiles names the field each testdata/*.bad.json must be refused for.
// TestBadFilesListed keeps it and the directory in step.
var badFiles = map[string]string{
	"listing.unknown-field.bad.json":           "colour",
	"listing.case-mismatch.bad.json":           "Title",
	"listing.nested-unknown-field.bad.json":    "price.tax",
	"listing.duplicate-key.bad.json":           "title",
	"listing.missing-listing-id.bad.json":      "listing_id",
	"listing.missing-seller-id.bad.json":       "seller_id",
	"listing.missing-title.bad.json":           "title",
	"listing.blank-title.bad.json":             "title",
	"listing.missing-schema-version.bad.json":  "schema_version",
	"listing.schema-version-0.bad.json":        "schema_version",
	"listing.schema-version-99.bad.json":       "schema_version",
	"listing.title-number.bad.json":            "title",
	"listing.image-number.bad.json":            "images[1]",
	"listing.image-javascript.bad.json":        "images[0]",
	"listing.image-ftp.bad.json":               "images[1]",
	"listing.image-no-host.bad.json":           "images[0]",
	"listing.image-blank.bad.json":             "images[0]",
	"listing.too-many-images.bad.json":         "images",
	"listing.price-exponent.bad.json":          "price.amount",
	"listing.price-negative.bad.json":          "price.amount",
	"listing.price-nan.bad.json":               "price.amount",
	"listing.price-comma.bad.json":             "price.amount",
	"listing.price-empty.bad.json":             "price.amount",
	"listing.price-leading-dot.bad.json":       "price.amount",
	"listing.price-spaces.bad.json":            "price.amount",
	"listing.price-number.bad.json":            "price.amount",
	"listing.price-missing-amount.bad.json":    "price.amount",
	"listing.currency-lower.bad.json":          "price.currency",
	"listing.currency-long.bad.json":           "price.currency",
	"listing.currency-missing.bad.json":        "price.currency",
	"listing.negative-version.bad.json":        "version",
	"listing.fractional-version.bad.json":      "version",
	"listing.created-at-text.bad.json":         "created_at",
	"listing.created-at-number.bad.json":       "created_at",
	"listing.id-control-char.bad.json":         "listing_id",
	"listing.label-infringing-string.bad.json": "label.infringing",

	"mark.missing-mark-id.bad.json":            "mark_id",
	"mark.missing-holder-id.bad.json":          "holder_id",
	"mark.missing-name.bad.json":               "name",
	"mark.missing-status.bad.json":             "status",
	"mark.status-unknown.bad.json":             "status",
	"mark.status-case.bad.json":                "status",
	"mark.schema-version-99.bad.json":          "schema_version",
	"mark.threshold-zero.bad.json":             "threshold",
	"mark.threshold-high.bad.json":             "threshold",
	"mark.threshold-negative.bad.json":         "threshold",
	"mark.nice-class-0.bad.json":               "registration.classes[0]",
	"mark.nice-class-46.bad.json":              "registration.classes[1]",
	"mark.nice-class-string.bad.json":          "registration.classes[0]",
	"mark.registration-unknown-field.bad.json": "registration.country",
	"mark.hash-uppercase.bad.json":             "image_hashes[0].hashes[0]",
	"mark.hash-short.bad.json":                 "image_hashes[0].hashes[1]",
	"mark.hash-not-hex.bad.json":               "image_hashes[0].hashes[0]",
	"mark.hashes-empty.bad.json":               "image_hashes[0].hashes",
	"mark.hash-kind.bad.json":                  "image_hashes[0].kind",
	"mark.logo-javascript.bad.json":            "logos[0]",
	"mark.official-image-ftp.bad.json":         "official_images[1]",
	"mark.reference-price-amount.bad.json":     "reference_prices[0].amount",
	"mark.reference-price-currency.bad.json":   "reference_prices[0].currency",
	"mark.blank-variant.bad.json":              "variants[1]",
	"mark.name-number.bad.json":                "name",

	"complaint.missing-complaint-id.bad.json":      "complaint_id",
	"complaint.missing-source.bad.json":            "source",
	"complaint.source-unknown.bad.json":            "source",
	"buyer-report.reason-unknown.bad.json":         "reason",
	"listing-photos.missing-hashed-at.bad.json":    "hashed_at",
	"listing-photos.missing-seller-id.bad.json":    "seller_id",
	"listing-photos.negative-version.bad.json":     "version",
	"listing-photos.photo-short.bad.json":          "photos[0]",
	"listing-photos.photo-upper-case.bad.json":     "photos[0]",
	"listing-photos.too-many-photos.bad.json":      "photos",
	"listing-photos.unknown-field.bad.json":        "phash_kind",
	"buyer-report.missing-buyer-id.bad.json":       "buyer_id",
	"buyer-report.missing-created-at.bad.json":     "created_at",
	"buyer-report.photo-javascript.bad.json":       "photos[0]",
	"buyer-report.unknown-field.bad.json":          "rating",
	"complaint.missing-listing-id.bad.json":        "listing_id",
	"complaint.missing-mark-id.bad.json":           "mark_id",
	"complaint.auto-empty-mark.bad.json":           "mark_id",
	"complaint.schema-version-0.bad.json":          "schema_version",
	"complaint.score-high.bad.json":                "score",
	"complaint.score-string.bad.json":              "score",
	"complaint.negative-listing-version.bad.json":  "listing_version",
	"complaint.evidence-no-matcher.bad.json":       "evidence[0].matcher",
	"complaint.evidence-score.bad.json":            "evidence[1].score",
	"complaint.evidence-unknown-field.bad.json":    "evidence[0].confidence",
	"complaint.snapshot-image-javascript.bad.json": "listing.images[0]",
	"complaint.snapshot-price.bad.json":            "listing.price.amount",
	"complaint.created-at-text.bad.json":           "created_at",

	"negative-bank-entry.image-no-hashes.bad.json":    "hashes",
	"negative-bank-entry.kind-unknown.bad.json":       "kind",
	"negative-bank-entry.phrase-with-hashes.bad.json": "hashes",
	"negative-bank-entry.hash-uppercase.bad.json":     "hashes[0]",
	"negative-bank-entry.unknown-field.bad.json":      "extra",
	"mark.quarantine-kind.bad.json":                   "quarantines[0].kind",
}

func TestBadFilesListed(t *testing.T) {
	onDisk := map[string]bool{}
	for _, f := range testdataFiles(t, "*.bad.json") {
		name := filepath.Base(f)
		onDisk[name] = true
		if _, ok := badFiles[name]; !ok {
			t.Errorf("testdata/%s has no expected field in badFiles", name)
		}
	}
	for name := range badFiles {
		if !onDisk[name] {
			t.Errorf("badFiles lists %s, which is not in testdata", name)
		}
	}
}

func TestDecodeBadFiles(t *testing.T) {
	for _, f := range testdataFiles(t, "*.bad.json") {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			decode, ok := decoders[kindOf(name)]
			if !ok {
				t.Fatalf("no decoder for kind %q", kindOf(name))
			}
			v, err := decode(readFile(t, f), domain.Limits{})
			if err == nil {
				t.Fatalf("decoded to %+v, want an error", v)
			}
			wantFieldErr(t, err, badFiles[name])
		})
	}
}

func TestDecodeGoodFilesRoundTrip(t *testing.T) {
	for _, f := range testdataFiles(t, "*.good.json") {
		name := filepath.Base(f)
		decode, ok := decoders[kindOf(name)]
		if !ok {
			continue // score-result: covered by the schema test
		}
		t.Run(name, func(t *testing.T) {
			v, err := decode(readFile(t, f), domain.Limits{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			again, err := decode(b, domain.Limits{})
			if err != nil {
				t.Fatalf("decode re-encoded %s: %v", b, err)
			}
			normalize(v)
			normalize(again)
			if !reflect.DeepEqual(v, again) {
				t.Errorf("round trip changed the value:\n got %+v\nwant %+v", again, v)
			}
		})
	}
}

func TestDecodeListingGood(t *testing.T) {
	l, err := domain.DecodeListing(readFile(t, "testdata/listing.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &domain.Listing{
		SchemaVersion: 1, ListingID: "etsy-123456", Version: 3, SellerID: "seller-42",
		Marketplace: "etsy", Locale: "en-US", Title: "Vintage leather handbag, brown",
		Description: "Genuine leather, gently used. Ships from Lyon.", Brand: "Longchamp", Category: "bags",
		Price:     &domain.Money{Amount: "129.00", Currency: "EUR"},
		Images:    []string{"https://img.example.com/l/123456/1.jpg", "images/123456-2.jpg", "file:///srv/fixtures/3.png"},
		CreatedAt: time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC),
		Label:     &domain.Label{Infringing: false, Kind: "resale"},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("DecodeListing:\n got %+v\nwant %+v", l, want)
	}

	cjk, err := domain.DecodeListing(readFile(t, "testdata/listing.cjk.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cjk.Title != "耐克 Air Max 90 高仿 1:1 复刻" || cjk.SellerID != "店铺-7" {
		t.Errorf("CJK text changed in decoding: title %q, seller %q", cjk.Title, cjk.SellerID)
	}
	if wantAt := time.Date(2024, 5, 1, 12, 30, 0, 5e8, time.UTC); !cjk.CreatedAt.Equal(wantAt) {
		t.Errorf("created_at = %v, want %v", cjk.CreatedAt, wantAt)
	}
}

func TestDecodeMarkGood(t *testing.T) {
	m, err := domain.DecodeMark(readFile(t, "testdata/mark.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Nike" || !m.Active() || m.Threshold == nil || *m.Threshold != 0.8 {
		t.Errorf("mark = %+v", m)
	}
	if got := m.Registration.Classes; !reflect.DeepEqual(got, []int{18, 25, 28}) {
		t.Errorf("classes = %v", got)
	}
	if len(m.ImageHashes) != 2 || m.ImageHashes[0].Hashes[1] != "0f1e2d3c4b5a6978" {
		t.Errorf("image hashes = %+v", m.ImageHashes)
	}
	minimal, err := domain.DecodeMark(readFile(t, "testdata/mark.minimal.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if minimal.Active() || minimal.Threshold != nil {
		t.Errorf("pending mark without threshold decoded as %+v", minimal)
	}
}

func TestDecodeComplaintGood(t *testing.T) {
	c, err := domain.DecodeComplaint(readFile(t, "testdata/complaint.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != domain.SourceAuto || c.Score != 0.93 || len(c.Evidence) != 2 || c.Listing == nil {
		t.Fatalf("complaint = %+v", c)
	}
	if c.CreatedAt.Nanosecond() != 123456789 {
		t.Errorf("created_at lost precision: %v", c.CreatedAt)
	}
	if c.Listing.Price == nil || c.Listing.Price.Amount != "19.99" {
		t.Errorf("snapshot price = %+v", c.Listing.Price)
	}
	rh, err := domain.DecodeComplaint(readFile(t, "testdata/complaint.rights-holder.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if rh.Source != domain.SourceRightsHolder || rh.Listing != nil || rh.Evidence != nil {
		t.Errorf("rights-holder complaint = %+v", rh)
	}
}

// decodeCase is one inline message and the field its error must name; an
// empty field with ok set means the message must decode.
type decodeCase struct {
	name  string
	data  []byte
	lim   domain.Limits
	field string
	ok    bool
}

func runDecodeCases(t *testing.T, kind string, cases []decodeCase) {
	t.Helper()
	decode := decoders[kind]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decode(tc.data, tc.lim)
			if tc.ok {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("decoded to %+v, want an error about %q", v, tc.field)
			}
			if !reflect.ValueOf(v).IsNil() {
				t.Errorf("decoder returned a value (%+v) with its error", v)
			}
			wantFieldErr(t, err, tc.field)
		})
	}
}

func TestDecodeListing(t *testing.T) {
	const base = "listing.minimal.good.json"
	good := patch(t, base)
	// Splice raw bytes in, since json.Marshal would repair invalid UTF-8.
	withRawTitle := func(raw string) []byte {
		return []byte(`{"schema_version":1,"listing_id":"l1","seller_id":"s1","title":"` + raw + `"}`)
	}
	images := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = "img/" + strings.Repeat("x", i) + ".jpg"
		}
		return out
	}
	cases := []decodeCase{
		{name: "minimal", data: good, ok: true},
		{name: "price null is no price", data: patch(t, base, "price", json.RawMessage("null")), ok: true},
		{name: "surrogate escape", data: withRawTitle(`mug \ud83d\ude00`), ok: true},
		{name: "empty input", data: nil, field: ""},
		{name: "whitespace only", data: []byte(" \n\t "), field: ""},
		{name: "invalid UTF-8 in value", data: withRawTitle("caf\xe9 mug"), field: ""},
		{name: "invalid UTF-8 in key", data: []byte("{\"ti\xfftle\":\"x\"}"), field: ""},
		{name: "overlong UTF-8 encoding", data: withRawTitle("\xc0\xafetc"), field: ""},
		{name: "trailing object", data: append(append([]byte{}, good...), " {}"...), field: ""},
		{name: "trailing garbage", data: append(append([]byte{}, good...), "x"...), field: ""},
		{name: "trailing brace", data: append(append([]byte{}, good...), "}"...), field: ""},
		{name: "truncated", data: good[:len(good)-1], field: ""},
		{name: "syntax error", data: []byte(`{"schema_version":1,,}`), field: ""},
		{name: "array at root", data: []byte(`[]`), field: "(root)"},
		{name: "string at root", data: []byte(`"listing"`), field: "(root)"},
		{name: "null at root", data: []byte(`null`), field: "schema_version"},
		{name: "empty object", data: []byte(`{}`), field: "schema_version"},
		{name: "title 5", data: patch(t, base, "title", 5), field: "title"},
		{name: "title object", data: patch(t, base, "title", map[string]any{}), field: "title"},
		{name: "images not an array", data: patch(t, base, "images", "a.jpg"), field: "images"},
		{name: "price not an object", data: patch(t, base, "price", "12.50 EUR"), field: "price"},
		{name: "schema_version string", data: patch(t, base, "schema_version", "1"), field: "schema_version"},
		{name: "schema_version negative", data: patch(t, base, "schema_version", -1), field: "schema_version"},
		{name: "version overflows int64", data: patch(t, base, "version", json.Number("9223372036854775808")), field: "version"},
		{name: "created_at month 13", data: patch(t, base, "created_at", "2024-13-01T00:00:00Z"), field: "created_at"},
		{name: "created_at without zone", data: patch(t, base, "created_at", "2024-05-01T12:30:00"), field: "created_at"},
		{name: "blank listing_id", data: patch(t, base, "listing_id", " "), field: "listing_id"},
		{name: "listing_id newline", data: patch(t, base, "listing_id", "l1\n"), field: "listing_id"},
		{name: "seller_id DEL", data: patch(t, base, "seller_id", "s\x7f"), field: "seller_id"},
		{name: "image protocol-relative ok", data: patch(t, base, "images", []any{"//cdn.example.com/a.jpg"}), ok: true},
		{name: "image data URL", data: patch(t, base, "images", []any{"data:image/png;base64,AAAA"}), field: "images[0]"},
		{name: "image vbscript", data: patch(t, base, "images", []any{"a.jpg", "b.jpg", "VBScript:msgbox"}), field: "images[2]"},
		{name: "image colon in first segment", data: patch(t, base, "images", []any{"1a:b"}), field: "images[0]"},
		{name: "image http without host", data: patch(t, base, "images", []any{"http:img.jpg"}), field: "images[0]"},
		{name: "image NUL in fragment", data: patch(t, base, "images", []any{"a.jpg#\x00"}), field: "images[0]"},
		{name: "image newline in fragment", data: patch(t, base, "images", []any{"https://img.example.com/a.jpg#x\ny"}), field: "images[0]"},
		{name: "image bad escape", data: patch(t, base, "images", []any{"img%zz.jpg"}), field: "images[0]"},
		{name: "lowercase currency code", data: patch(t, base, "price", map[string]any{"amount": "1", "currency": "Eur"}), field: "price.currency"},

		{name: "message over cap", data: good, lim: domain.Limits{MaxMessageBytes: len(good) - 1}, field: ""},
		{name: "message at cap", data: good, lim: domain.Limits{MaxMessageBytes: len(good)}, ok: true},
		{name: "title at cap", data: patch(t, base, "title", "0123456789"), lim: domain.Limits{MaxTitleBytes: 10}, ok: true},
		{name: "title over cap", data: patch(t, base, "title", "0123456789a"), lim: domain.Limits{MaxTitleBytes: 10}, field: "title"},
		{name: "title cap counts bytes", data: patch(t, base, "title", "耐克耐克"), lim: domain.Limits{MaxTitleBytes: 10}, field: "title"},
		{name: "title over default cap", data: patch(t, base, "title", strings.Repeat("x", domain.DefaultLimits.MaxTitleBytes+1)), field: "title"},
		{name: "description over cap", data: patch(t, base, "description", "01234567890"), lim: domain.Limits{MaxDescriptionBytes: 10}, field: "description"},
		{name: "listing_id over cap", data: patch(t, base, "listing_id", "abcde"), lim: domain.Limits{MaxIDBytes: 4}, field: "listing_id"},
		{name: "seller_id over cap", data: patch(t, base, "listing_id", "abcd", "seller_id", "abcde"), lim: domain.Limits{MaxIDBytes: 4}, field: "seller_id"},
		{name: "brand over cap", data: patch(t, base, "brand", "Longchamp"), lim: domain.Limits{MaxShortFieldBytes: 8}, field: "brand"},
		{name: "locale over cap", data: patch(t, base, "locale", "en-US-x-private"), lim: domain.Limits{MaxShortFieldBytes: 8}, field: "locale"},
		{name: "image URL over cap", data: patch(t, base, "images", []any{"https://img.example.com/1.jpg"}), lim: domain.Limits{MaxURLBytes: 16}, field: "images[0]"},
		{name: "images at cap", data: patch(t, base, "images", images(2)), lim: domain.Limits{MaxImages: 2}, ok: true},
		{name: "too many images", data: patch(t, base, "images", images(3)), lim: domain.Limits{MaxImages: 2}, field: "images"},
		{name: "label mark_id over cap", data: patch(t, base, "label", map[string]any{"infringing": true, "mark_id": "abcde"}), lim: domain.Limits{MaxIDBytes: 4}, field: "label.mark_id"},
	}
	runDecodeCases(t, "listing", cases)
}

func TestDecodeMark(t *testing.T) {
	const base = "mark.minimal.good.json"
	strs := func(n int, prefix string) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = prefix + strings.Repeat("a", i+1)
		}
		return out
	}
	hash := "f0e1d2c3b4a59687"
	cases := []decodeCase{
		{name: "minimal", data: patch(t, base), ok: true},
		{name: "full", data: readFile(t, "testdata/mark.good.json"), ok: true},
		{name: "every status", data: patch(t, base, "status", "suspended"), ok: true},
		{name: "removed", data: patch(t, base, "status", "removed"), ok: true},
		{name: "threshold 1", data: patch(t, base, "threshold", 1), ok: true},
		{name: "threshold tiny", data: patch(t, base, "threshold", 1e-9), ok: true},
		{name: "threshold string", data: patch(t, base, "threshold", "0.8"), field: "threshold"},
		{name: "Nice classes 1 and 45", data: patch(t, base, "registration", map[string]any{"office": "EUIPO", "number": "1", "classes": []any{1, 45}}), ok: true},
		{name: "Nice class negative", data: patch(t, base, "registration", map[string]any{"classes": []any{-3}}), field: "registration.classes[0]"},
		{name: "Nice class fraction", data: patch(t, base, "registration", map[string]any{"classes": []any{2.5}}), field: "registration.classes[0]"},
		{name: "64-hex hash", data: patch(t, base, "image_hashes", []any{map[string]any{"kind": "official", "hashes": []any{strings.Repeat("ab", 32)}}}), ok: true},
		{name: "hash too long", data: patch(t, base, "image_hashes", []any{map[string]any{"kind": "official", "hashes": []any{strings.Repeat("ab", 32) + "a"}}}), field: "image_hashes[0].hashes[0]"},
		{name: "65 hashes", data: patch(t, base, "image_hashes", []any{map[string]any{"kind": "logo", "hashes": strs(65, hash)}}), field: "image_hashes[0].hashes"},
		{name: "hashes missing", data: patch(t, base, "image_hashes", []any{map[string]any{"kind": "logo"}}), field: "image_hashes[0].hashes"},
		{name: "blank name", data: patch(t, base, "name", "\u3000"), field: "name"},
		{name: "name over cap", data: patch(t, base, "name", "Louis Vuitton"), lim: domain.Limits{MaxShortFieldBytes: 8}, field: "name"},
		{name: "mark_id over cap", data: patch(t, base, "mark_id", "m-12345"), lim: domain.Limits{MaxIDBytes: 4}, field: "mark_id"},
		{name: "variants at cap", data: patch(t, base, "variants", strs(2, "v")), lim: domain.Limits{MaxListItems: 2}, ok: true},
		{name: "too many variants", data: patch(t, base, "variants", strs(3, "v")), lim: domain.Limits{MaxListItems: 2}, field: "variants"},
		{name: "variant over cap", data: patch(t, base, "variants", []any{"LV", "Louis-Vuitton!"}), lim: domain.Limits{MaxShortFieldBytes: 13}, field: "variants[1]"},
		{name: "too many categories", data: patch(t, base, "categories", strs(3, "c")), lim: domain.Limits{MaxListItems: 2}, field: "categories"},
		{name: "authorized sellers cap is ten lists", data: patch(t, base, "authorized_sellers", strs(20, "s")), lim: domain.Limits{MaxListItems: 2, MaxIDBytes: 100}, ok: true},
		{name: "too many authorized sellers", data: patch(t, base, "authorized_sellers", strs(21, "s")), lim: domain.Limits{MaxListItems: 2, MaxIDBytes: 100}, field: "authorized_sellers"},
		{name: "too many reference images", data: patch(t, base, "logos", strs(2, "l"), "official_images", strs(1, "o")), lim: domain.Limits{MaxListItems: 2}, field: "official_images"},
		{name: "too many image hashes", data: patch(t, base, "image_hashes", []any{
			map[string]any{"kind": "logo", "hashes": []any{hash}},
			map[string]any{"kind": "logo", "hashes": []any{hash}},
			map[string]any{"kind": "logo", "hashes": []any{hash}},
		}), lim: domain.Limits{MaxListItems: 2}, field: "image_hashes"},
		{name: "too many reference prices", data: patch(t, base, "reference_prices", []any{
			map[string]any{"amount": "1", "currency": "USD"},
			map[string]any{"amount": "2", "currency": "USD"},
			map[string]any{"amount": "3", "currency": "USD"},
		}), lim: domain.Limits{MaxListItems: 2}, field: "reference_prices"},
		{name: "reference price missing amount", data: patch(t, base, "reference_prices", []any{map[string]any{"currency": "USD"}}), field: "reference_prices[0].amount"},
		{name: "unknown field", data: patch(t, base, "owner", "LVMH"), field: "owner"},
		{name: "schema_version 0", data: patch(t, base, "schema_version", 0), field: "schema_version"},
		{name: "trailing data", data: append(patch(t, base), `{"x":1}`...), field: ""},
		{name: "empty input", data: []byte{}, field: ""},
		{name: "invalid UTF-8", data: []byte("{\"schema_version\":1,\"mark_id\":\"m\",\"holder_id\":\"h\",\"name\":\"Ni\xe9e\",\"status\":\"active\"}"), field: ""},
	}
	runDecodeCases(t, "mark", cases)
}

func TestDecodeComplaint(t *testing.T) {
	const base = "complaint.rights-holder.good.json"
	ev := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"matcher": "wordmark", "score": 0.5}
		}
		return out
	}
	cases := []decodeCase{
		{name: "minimal", data: patch(t, base), ok: true},
		{name: "score 0", data: patch(t, base, "score", 0), ok: true},
		{name: "score 1", data: patch(t, base, "score", 1), ok: true},
		{name: "score negative", data: patch(t, base, "score", -0.01), field: "score"},
		{name: "score overflows float64", data: patch(t, base, "score", json.Number("1e400")), field: "score"},
		{name: "source case", data: patch(t, base, "source", "Auto"), field: "source"},
		{name: "blank complaint_id", data: patch(t, base, "complaint_id", ""), field: "complaint_id"},
		{name: "holder_id over cap", data: patch(t, base, "complaint_id", "c1", "listing_id", "l1", "mark_id", "m1", "holder_id", "h-lvmh"), lim: domain.Limits{MaxIDBytes: 4}, field: "holder_id"},
		{name: "explanation over cap", data: patch(t, base, "explanation", "0123456789a"), lim: domain.Limits{MaxDescriptionBytes: 10}, field: "explanation"},
		{name: "rule_version over cap", data: patch(t, base, "rule_version", "rules-2024"), lim: domain.Limits{MaxShortFieldBytes: 8}, field: "rule_version"},
		{name: "evidence at cap", data: patch(t, base, "evidence", ev(2)), lim: domain.Limits{MaxEvidence: 2}, ok: true},
		{name: "too much evidence", data: patch(t, base, "evidence", ev(3)), lim: domain.Limits{MaxEvidence: 2}, field: "evidence"},
		{name: "evidence match over cap", data: patch(t, base, "evidence", []any{map[string]any{"matcher": "m", "score": 1, "match": "0123456789a"}}), lim: domain.Limits{MaxTitleBytes: 10}, field: "evidence[0].match"},
		{name: "evidence not objects", data: patch(t, base, "evidence", []any{"wordmark"}), field: "evidence[0]"},
		{name: "snapshot title over cap", data: patch(t, base, "listing", map[string]any{"title": "0123456789a"}), lim: domain.Limits{MaxTitleBytes: 10}, field: "listing.title"},
		{name: "snapshot brand over cap", data: patch(t, base, "listing", map[string]any{"title": "t", "brand": "Longchamp"}), lim: domain.Limits{MaxShortFieldBytes: 8}, field: "listing.brand"},
		{name: "snapshot too many images", data: patch(t, base, "listing", map[string]any{"title": "t", "images": []any{"a.jpg", "b.jpg", "c.jpg"}}), lim: domain.Limits{MaxImages: 2}, field: "listing.images"},
		{name: "snapshot image ftp", data: patch(t, base, "listing", map[string]any{"title": "t", "images": []any{"a.jpg", "ftp://x/b.jpg"}}), field: "listing.images[1]"},
		{name: "snapshot bad currency", data: patch(t, base, "listing", map[string]any{"title": "t", "price": map[string]any{"amount": "1", "currency": "usd"}}), field: "listing.price.currency"},
		{name: "snapshot unknown field", data: patch(t, base, "listing", map[string]any{"title": "t", "seller_id": "s"}), field: "listing.seller_id"},
		{name: "created_at null", data: patch(t, base, "created_at", json.RawMessage("null")), ok: true},
		{name: "empty input", data: []byte("  "), field: ""},
		{name: "invalid UTF-8", data: []byte("{\"schema_version\":1,\"complaint_id\":\"c\xff\"}"), field: ""},
		{name: "trailing data", data: append(patch(t, base), "\n[]"...), field: ""},
		{name: "schema_version 99", data: patch(t, base, "schema_version", 99), field: "schema_version"},
	}
	runDecodeCases(t, "complaint", cases)
}

// TestValidateBuiltValues checks that Validate, the entry point for values
// built in Go rather than decoded, applies the same rules.
func TestValidateBuiltValues(t *testing.T) {
	good := func() *domain.Listing {
		return &domain.Listing{SchemaVersion: domain.SchemaVersion, ListingID: "l1", SellerID: "s1", Title: "mug"}
	}
	if err := good().Validate(domain.Limits{}); err != nil {
		t.Fatalf("valid listing: %v", err)
	}
	cases := []struct {
		name   string
		modify func(*domain.Listing)
		field  string
	}{
		{"no schema version", func(l *domain.Listing) { l.SchemaVersion = 0 }, "schema_version"},
		{"negative version", func(l *domain.Listing) { l.Version = -1 }, "version"},
		{"javascript image", func(l *domain.Listing) { l.Images = []string{"javascript:x"} }, "images[0]"},
		{"bad price", func(l *domain.Listing) { l.Price = &domain.Money{Amount: "1e5", Currency: "USD"} }, "price.amount"},
		{"label kind over cap", func(l *domain.Listing) { l.Label = &domain.Label{Kind: strings.Repeat("k", 201)} }, "label.kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := good()
			tc.modify(l)
			wantFieldErr(t, l.Validate(domain.Limits{}), tc.field)
		})
	}
}

func TestFieldErrorMessage(t *testing.T) {
	cases := []struct {
		name string
		err  domain.FieldError
		want string
	}{
		{"with field", domain.FieldError{Field: "price.amount", Reason: "required"}, "price.amount: required"},
		{"whole message", domain.FieldError{Reason: "message is empty"}, "message is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	got := domain.Limits{MaxTitleBytes: 7, MaxImages: -1}.WithDefaults()
	want := domain.DefaultLimits
	want.MaxTitleBytes = 7
	if got != want {
		t.Errorf("WithDefaults = %+v, want %+v", got, want)
	}
}

func TestSnapshot(t *testing.T) {
	l, err := domain.DecodeListing(readFile(t, "testdata/listing.good.json"), domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Snapshot()
	want := &domain.ListingSnapshot{
		Title: l.Title, Description: l.Description, Brand: l.Brand, Category: l.Category,
		Price: l.Price, Images: l.Images, Marketplace: l.Marketplace, Locale: l.Locale,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Snapshot = %+v, want %+v", s, want)
	}
	// A snapshot of a valid listing must make a valid complaint.
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: domain.ComplaintID(l.ListingID, l.Version, "m-nike", "r1"),
		Source: domain.SourceAuto, ListingID: l.ListingID, MarkID: "m-nike", Score: 0.9, Listing: s,
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		t.Errorf("complaint with snapshot: %v", err)
	}
}

var complaintIDFormat = regexp.MustCompile(`^c_[0-9a-f]{32}$`)

func TestComplaintID(t *testing.T) {
	type parts struct {
		listing string
		version int64
		mark    string
		rule    string
	}
	id := func(p parts) string { return domain.ComplaintID(p.listing, p.version, p.mark, p.rule) }
	base := parts{"etsy-999", 2, "m-nike", "rules-1"}

	if a, b := id(base), id(base); a != b {
		t.Fatalf("not deterministic: %s then %s", a, b)
	}
	if got := id(base); !complaintIDFormat.MatchString(got) {
		t.Errorf("ComplaintID = %q, want c_ and 32 lowercase hex digits", got)
	}

	cases := []struct {
		name string
		a, b parts
	}{
		{"listing id", base, parts{"etsy-998", 2, "m-nike", "rules-1"}},
		{"listing version", base, parts{"etsy-999", 3, "m-nike", "rules-1"}},
		{"negative version", base, parts{"etsy-999", -2, "m-nike", "rules-1"}},
		{"mark id", base, parts{"etsy-999", 2, "m-adidas", "rules-1"}},
		{"rule version", base, parts{"etsy-999", 2, "m-nike", "rules-2"}},
		{"empty rule version", base, parts{"etsy-999", 2, "m-nike", ""}},
		{"listing/mark boundary", parts{"ab", 1, "c", "r"}, parts{"a", 1, "bc", "r"}},
		{"mark/rule boundary", parts{"l", 1, "ab", "c"}, parts{"l", 1, "a", "bc"}},
		{"listing/version boundary", parts{"a1", 2, "m", "r"}, parts{"a", 12, "m", "r"}},
		{"separator in a part", parts{"a|1:b", 1, "m", "r"}, parts{"a", 1, "b", "r"}},
		{"swapped ids", parts{"x", 1, "y", "r"}, parts{"y", 1, "x", "r"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if a, b := id(tc.a), id(tc.b); a == b {
				t.Errorf("%+v and %+v share id %s", tc.a, tc.b, a)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true},
		{"12.50", 12.5, true},
		{"129", 129, true},
		{"007", 7, true},
		{"12.", 12, true}, // a trailing dot is tolerated; the schema pattern matches it too
		{"0.000001", 0.000001, true},
		{strings.Repeat("9", 32), 1e32, true},
		{"", 0, false},
		{".", 0, false},
		{".5", 0, false},
		{"1e5", 0, false},
		{"1E5", 0, false},
		{"-3", 0, false},
		{"+3", 0, false},
		{"-0", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"infinity", 0, false},
		{"12,50", 0, false},
		{"1,000.00", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1.2.3", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"١٢", 0, false}, // Arabic-Indic digits
		{"１２", 0, false}, // full-width digits
		{strings.Repeat("9", 33), 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := domain.ParseAmount(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseAmount(%q) = %v, %v; want ok=%v", tc.in, got, err, tc.ok)
			}
			if tc.ok && got != tc.want {
				t.Errorf("ParseAmount(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
