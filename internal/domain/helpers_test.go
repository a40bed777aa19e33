package domain_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// decoders maps a testdata file's kind (the name up to the first dot) to
// the decoder for it. score-result has no decoder: markwatch writes it and
// never reads it.
var decoders = map[string]func([]byte, domain.Limits) (any, error){
	"listing":      func(b []byte, l domain.Limits) (any, error) { return domain.DecodeListing(b, l) },
	"mark":         func(b []byte, l domain.Limits) (any, error) { return domain.DecodeMark(b, l) },
	"complaint":    func(b []byte, l domain.Limits) (any, error) { return domain.DecodeComplaint(b, l) },
	"buyer-report": func(b []byte, l domain.Limits) (any, error) { return domain.DecodeBuyerReport(b, l) },
	"negative-bank-entry": func(b []byte, l domain.Limits) (any, error) {
		return domain.DecodeBankEntry(b, l)
	},
	"listing-photos": func(b []byte, l domain.Limits) (any, error) { return domain.DecodeListingPhotos(b, l) },
}

// kindOf returns the message kind of a testdata file name.
func kindOf(name string) string {
	kind, _, _ := strings.Cut(filepath.Base(name), ".")
	return kind
}

// testdataFiles lists testdata files matching a glob such as "*.bad.json",
// sorted, failing the test when there are none.
func testdataFiles(t testing.TB, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no testdata files match %s", glob)
	}
	slices.Sort(files)
	return files
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patch loads a good testdata file and sets (or, for a nil value, deletes)
// top-level keys, so a case can state only what it changes.
func patch(t testing.TB, file string, kv ...any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join("testdata", file)), &m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
		} else {
			m[k] = kv[i+1]
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantFieldErr fails unless err is an ErrInvalid FieldError about field.
func wantFieldErr(t testing.TB, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("decoded fine, want an error about %q", field)
	}
	if !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var fe *domain.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("FieldError.Field = %q, want %q (error: %v)", fe.Field, field, err)
	}
	if fe.Reason == "" {
		t.Errorf("FieldError for %q has no reason", fe.Field)
	}
}

// normalize rewrites v in place into the form a JSON round trip yields:
// empty slices become nil (omitempty drops them) and times become UTC (an
// offset of +00:00 decodes as Local or a fixed zone but re-encodes as "Z";
// the instant is unchanged). Everything else must survive exactly.
func normalize(v any) {
	normalizeValue(reflect.ValueOf(v))
}

var timeType = reflect.TypeFor[time.Time]()

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalizeValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		for i := range v.Len() {
			normalizeValue(v.Index(i))
		}
	}
}
