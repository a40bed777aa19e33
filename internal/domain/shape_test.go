package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

// open is a JSON type whose field takes any JSON, as API bodies with a
// json.RawMessage or map field do: the shape walk cannot refuse what lies
// inside by type, so only the depth cap bounds it.
type open struct {
	Name   string          `json:"name"`
	Detail json.RawMessage `json:"detail"`
	Extra  map[string]any  `json:"extra"`
	Any    any             `json:"any"`
}

// nested returns depth levels of arrays (or of objects with key k), the
// outermost first, around a 1.
func nested(depth int, key string) string {
	if key == "" {
		return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
	}
	return strings.Repeat(`{"`+key+`":`, depth) + "1" + strings.Repeat("}", depth)
}

func TestCheckShapeDepth(t *testing.T) {
	typ := reflect.TypeFor[open]()
	max := domain.MaxJSONDepth
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		// The body's own object is the first level.
		{"arrays at the cap", `{"detail":` + nested(max-1, "") + `}`, true},
		{"objects at the cap", `{"extra":` + nested(max-1, "k") + `}`, true},
		{"arrays past the cap", `{"detail":` + nested(max, "") + `}`, false},
		{"objects past the cap", `{"any":` + nested(max, "k") + `}`, false},
		{"brackets in a string do not count", `{"name":"` + strings.Repeat("[{", 10*max) + `"}`, true},
		{"escaped quote keeps the string open", `{"name":"\"` + strings.Repeat("[", 10*max) + `"}`, true},
		{"10000 levels under a string field", `{"name":` + nested(10000, "") + `}`, false},
		{"10000 levels at the root", nested(10000, ""), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.CheckShape([]byte(tc.body), typ)
			if tc.ok {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			var fe *domain.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("want an ErrInvalid *FieldError, got %v", err)
			}
			if !strings.Contains(fe.Reason, strconv.Itoa(max)+" levels") {
				t.Errorf("error %q does not name the depth cap", err)
			}
		})
	}
}

// TestStrictDecodersRefuseDeepNesting: every wire decoder, as the detector,
// the review service and `score` run it, refuses hostile nesting by its
// depth, whatever field it hides under.
func TestStrictDecodersRefuseDeepNesting(t *testing.T) {
	body := []byte(`{"schema_version":1,"title":` + nested(10000, "") + `}`)
	for kind, decode := range decoders {
		t.Run(kind, func(t *testing.T) {
			_, err := decode(body, domain.Limits{})
			if err == nil || !strings.Contains(err.Error(), "nested more than 64 levels") {
				t.Fatalf("want the depth refusal, got %v", err)
			}
		})
	}
}

// TestCheckShapeMemoryLinear checks that the walk's allocations stay a
// small multiple of the body, for bodies built to make a per-level path
// (or anything per level) quadratic: 10,000 levels of arrays or objects,
// and wide arrays of long keys at the deepest allowed level.
func TestCheckShapeMemoryLinear(t *testing.T) {
	typ := reflect.TypeFor[open]()
	longKey := strings.Repeat("k", 2000)
	cases := map[string]string{
		"deep arrays":           `{"detail":` + nested(10000, "") + `}`,
		"deep objects":          `{"extra":` + nested(5000, "k") + `}`,
		"deep under a string":   `{"name":` + nested(10000, "") + `}`,
		"long keys at the cap":  `{"any":` + nested(domain.MaxJSONDepth-1, longKey) + `}`,
		"wide arrays at depth":  `{"detail":` + strings.Repeat("[", 60) + strings.Repeat("[1],", 5000) + "[1]" + strings.Repeat("]", 60) + `}`,
		"long unknown key path": `{"name":"x",` + strings.Repeat(`"`+longKey+`":1,`, 20) + `"z":1}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			data := []byte(body)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_ = domain.CheckShape(data, typ)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			// json.Decoder.Token allocates per token; 16 bytes of
			// garbage per body byte plus a fixed 64 KiB is generous
			// for linear and far below what a quadratic walk spends.
			if limit := 16*uint64(len(data)) + 64<<10; alloc > limit {
				t.Errorf("%d-byte body: walk allocated %d bytes, over %d", len(data), alloc, limit)
			}
		})
	}
}

// TestCheckShapePaths checks that errors still name the full path now that
// it is built only on error.
func TestCheckShapePaths(t *testing.T) {
	type inner struct {
		Tags []string `json:"tags"`
	}
	type outer struct {
		Items []inner `json:"items"`
		Name  string  `json:"name"`
	}
	typ := reflect.TypeFor[outer]()
	cases := []struct{ body, field, reason string }{
		{`{"items":[{"tags":["a"]},{"tags":["b",2]}]}`, "items[1].tags[1]", "want a string"},
		{`{"items":[{"tags":[]},{"Tags":[]}]}`, "items[1].Tags", "case-sensitive"},
		{`{"name":"a","name":"b"}`, "name", "more than once"},
		{`{"items":[{"x":1}]}`, "items[0].x", "unknown field"},
		{`[]`, "(root)", "want an object"},
	}
	for _, tc := range cases {
		err := domain.CheckShape([]byte(tc.body), typ)
		var fe *domain.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
			t.Errorf("%s: got %v, want field %s: ...%s...", tc.body, err, tc.field, tc.reason)
		}
	}
}
