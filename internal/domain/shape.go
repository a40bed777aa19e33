package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// MaxJSONDepth is how deeply objects and arrays may nest in any JSON that
// markwatch decodes strictly (wire messages, API bodies). The deepest
// document it reads nests four levels; 64 leaves room for every future
// one, while a hostile body nested thousands of levels deep is refused in
// one pass over its bytes, before anything is allocated for it.
const MaxJSONDepth = 64

// errStopShape ends a shape check early without a verdict: the input is
// malformed JSON or has a type mismatch the decoder itself reports.
var errStopShape = errors.New("stop shape check")

var (
	timeType        = reflect.TypeFor[time.Time]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// CheckShape walks the JSON in data alongside the Go type t (pointers are
// followed) and refuses what encoding/json would quietly accept or report
// without a precise path:
//
//   - nesting deeper than MaxJSONDepth, checked first in one pass over the
//     bytes, so that no later step (this walk, encoding/json) spends memory
//     on a hostile body;
//   - keys that match a field only case-insensitively ("Title" for "title"),
//     which encoding/json accepts even with DisallowUnknownFields, so a
//     message the JSON Schemas refuse would pass here;
//   - keys given twice, where encoding/json silently keeps the last;
//   - unknown keys in nested objects, reported with their full path
//     ("price.colour") instead of the bare key;
//   - values of the wrong JSON type, reported with their full path
//     ("images[3]") instead of the slice's name;
//   - times that are not RFC 3339 strings, reported with their path.
//
// Errors are *FieldError (wrapping ErrInvalid). Malformed JSON ends the
// walk with no error: the caller's decoder reports it with its position.
// The walk recurses only along the Go type, and values of types it does
// not look into (maps, interfaces, json.RawMessage and other
// json.Unmarshalers) are skipped without recursion. A field's path is
// built only when an error names it: the walk keeps one small frame per
// level, so its memory is linear in the body and bounded by the depth cap.
//
// It costs a second pass through json.Decoder.Token, which allocates per
// token (a typical listing decodes in about 4x the time without it).
// encoding/json/v2 matches names case-sensitively and refuses duplicates by
// default; once it is out of GOEXPERIMENT this check can go.
//
// Both the wire codec (DecodeListing, DecodeMark, DecodeComplaint) and the
// HTTP API's body decoder use it, so a body is judged the same way
// wherever it arrives.
func CheckShape(data []byte, t reflect.Type) error {
	if err := checkDepth(data, MaxJSONDepth); err != nil {
		return err
	}
	w := shapeWalker{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	err := w.value(t)
	if errors.Is(err, errStopShape) {
		return nil
	}
	return err
}

// checkDepth refuses data whose objects and arrays nest deeper than max,
// reading it once and allocating nothing. Brackets inside strings do not
// count; malformed JSON is left to the decoder.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fieldErr("", "JSON nested more than %d levels deep (at byte %d): at most %d levels of objects and arrays are accepted", max, i, max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// pathStep is one level of the walk's position: an object key or, when
// key is empty and index >= 0, an array index.
type pathStep struct {
	key   string
	index int
}

// shapeWalker holds the decoder and the current path, one step per level,
// from which an error's field name is built.
type shapeWalker struct {
	dec  *json.Decoder
	path []pathStep
}

// field renders the current path ("images[3]", "price.amount").
func (w *shapeWalker) field() string {
	var b strings.Builder
	for _, s := range w.path {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

func (w *shapeWalker) fail(format string, args ...any) error {
	return fieldErr(w.field(), format, args...)
}

func (w *shapeWalker) typeErr(want string, tok json.Token) error {
	field := w.field()
	if field == "" {
		field = "(root)"
	}
	return fieldErr(field, "want %s, got JSON %s", want, tokenKind(tok))
}

func (w *shapeWalker) value(t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		// Decode the raw bytes so the check is exactly Time.UnmarshalJSON's.
		var raw json.RawMessage
		if err := w.dec.Decode(&raw); err != nil {
			return errStopShape
		}
		var tm time.Time
		if err := tm.UnmarshalJSON(raw); err != nil {
			if len(raw) > 0 && raw[0] == '"' {
				return w.fail("not an RFC 3339 time: %s", raw)
			}
			return w.fail("want an RFC 3339 time string, got JSON %s", jsonKind(raw[0]))
		}
		return nil
	}
	if opaque(t) {
		// Read past the value in one Decode, which keeps its bytes once,
		// rather than token by token, which allocates per token.
		var raw json.RawMessage
		if err := w.dec.Decode(&raw); err != nil {
			return errStopShape
		}
		return nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		return errStopShape
	}
	if tok == nil {
		// null leaves the Go zero value, as encoding/json does; required
		// fields are caught by Validate.
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.typeErr("an object", tok)
		}
		return w.object(t)
	case reflect.Slice, reflect.Array:
		if tok != json.Delim('[') {
			return w.typeErr("an array", tok)
		}
		w.path = append(w.path, pathStep{index: 0})
		for i := 0; w.dec.More(); i++ {
			w.path[len(w.path)-1].index = i
			if err := w.value(t.Elem()); err != nil {
				return err
			}
		}
		w.path = w.path[:len(w.path)-1]
		if _, err := w.dec.Token(); err != nil { // ']'
			return errStopShape
		}
		return nil
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.typeErr("a string", tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.typeErr("true or false", tok)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.typeErr("an integer", tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return w.fail("want an integer that fits %d bits, got %s", t.Bits(), n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.typeErr("a non-negative integer", tok)
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return w.fail("want a non-negative integer that fits %d bits, got %s", t.Bits(), n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.typeErr("a number", tok)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return w.fail("number %s out of range", n)
		}
	default:
		// Channels, funcs and the like: encoding/json refuses them.
		return skipRest(w.dec, tok)
	}
	return nil
}

// opaque reports whether values of t are left whole to encoding/json:
// maps, interfaces, and json.RawMessage and other types that read any
// JSON themselves.
func opaque(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Map, reflect.Interface:
		return true
	}
	return reflect.PointerTo(t).Implements(unmarshalerType)
}

// object checks the members of an object whose '{' has been read.
func (w *shapeWalker) object(t reflect.Type) error {
	fields := jsonFields(t)
	seen := make(map[string]bool, len(fields))
	w.path = append(w.path, pathStep{index: -1})
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return errStopShape
		}
		key, _ := tok.(string)
		w.path[len(w.path)-1].key = key
		ft, ok := fields[key]
		if !ok {
			for name := range fields {
				if strings.EqualFold(name, key) {
					return w.fail("unknown field (names are case-sensitive: did you mean %q?)", name)
				}
			}
			return w.fail("unknown field")
		}
		if seen[key] {
			return w.fail("given more than once")
		}
		seen[key] = true
		if err := w.value(ft); err != nil {
			return err
		}
	}
	w.path = w.path[:len(w.path)-1]
	if _, err := w.dec.Token(); err != nil { // '}'
		return errStopShape
	}
	return nil
}

// jsonFields maps the JSON names of t's fields to their types, following
// encoding/json's tag rules for the subset the wire types use (no embedding
// conflicts, no string option).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ft := range jsonFields(et) {
					if _, dup := fields[n]; !dup {
						fields[n] = ft
					}
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields[name] = sf.Type
	}
	return fields
}

// skipRest consumes the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return errStopShape
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func tokenKind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number " + string(tok)
	}
	return "null"
}

func jsonKind(first byte) string {
	switch first {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
