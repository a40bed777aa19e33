package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// errStopShape ends a shape check early without a verdict: the input is
// malformed JSON or has a type mismatch the decoder itself reports.
var errStopShape = errors.New("stop shape check")

var timeType = reflect.TypeFor[time.Time]()

// checkShape walks the JSON in data alongside the Go type t and refuses what
// encoding/json would quietly accept or report without a precise path:
//
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
// Malformed JSON ends the walk with no error: decodeStrict's decoder reports
// it. The walk recurses only along the Go type, never deeper than the wire
// types nest, so hostile nesting cannot exhaust the stack.
//
// It costs a second pass through json.Decoder.Token, which allocates per
// token (a typical listing decodes in about 4x the time without it).
// encoding/json/v2 matches names case-sensitively and refuses duplicates by
// default; once it is out of GOEXPERIMENT this check can go.
func checkShape(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := shapeValue(dec, t, "")
	if errors.Is(err, errStopShape) {
		return nil
	}
	return err
}

func shapeValue(dec *json.Decoder, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		// Decode the raw bytes so the check is exactly Time.UnmarshalJSON's.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errStopShape
		}
		var tm time.Time
		if err := tm.UnmarshalJSON(raw); err != nil {
			if len(raw) > 0 && raw[0] == '"' {
				return fieldErr(path, "not an RFC 3339 time: %s", raw)
			}
			return fieldErr(path, "want an RFC 3339 time string, got JSON %s", jsonKind(raw[0]))
		}
		return nil
	}
	tok, err := dec.Token()
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
			return typeErr(path, "an object", tok)
		}
		return shapeObject(dec, t, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return typeErr(path, "an array", tok)
		}
		for i := 0; dec.More(); i++ {
			if err := shapeValue(dec, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return errStopShape
		}
		return nil
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return typeErr(path, "a string", tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return typeErr(path, "true or false", tok)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return typeErr(path, "an integer", tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return fieldErr(path, "want an integer that fits %d bits, got %s", t.Bits(), n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return typeErr(path, "a number", tok)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return fieldErr(path, "number %s out of range", n)
		}
	default:
		// The wire types hold nothing else; leave any other kind to the
		// decoder, skipping its value without descending into it.
		return skipRest(dec, tok)
	}
	return nil
}

// shapeObject checks the members of an object whose '{' has been read.
func shapeObject(dec *json.Decoder, t reflect.Type, path string) error {
	fields := jsonFields(t)
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errStopShape
		}
		key, _ := tok.(string)
		f := key
		if path != "" {
			f = path + "." + key
		}
		ft, ok := fields[key]
		if !ok {
			for name := range fields {
				if strings.EqualFold(name, key) {
					return fieldErr(f, "unknown field (names are case-sensitive: did you mean %q?)", name)
				}
			}
			return fieldErr(f, "unknown field")
		}
		if seen[key] {
			return fieldErr(f, "duplicate field")
		}
		seen[key] = true
		if err := shapeValue(dec, ft, f); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
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

func typeErr(path, want string, tok json.Token) error {
	field := path
	if field == "" {
		field = "(root)"
	}
	return fieldErr(field, "want %s, got JSON %s", want, tokenKind(tok))
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
