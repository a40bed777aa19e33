package api

// What decodeJSON checks beyond what encoding/json does, each the same way
// on every route, because encoding/json accepts what a strict reader of the
// OpenAPI document would refuse:
//
//   - a body of null, or one that leaves out a required field (or gives it
//     as null, or as a blank string), decodes without error into zero
//     values: checkRequired refuses both;
//   - invalid UTF-8 becomes U+FFFD silently: invalidUTF8Field finds the
//     field that carries it, for a 400 that names it;
//   - a closed set (enum) is only a string to it: checkEnums refuses what
//     is not in the set.
//
// What is required is what the OpenAPI document says is required
// (requiredField), and the enums are the document's (enumValues), so the
// two cannot disagree.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// requiredField tells whether a request must carry f: a field without
// omitempty or omitzero that is not a pointer. The OpenAPI document lists
// the same fields as required.
func requiredField(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	for _, o := range strings.Split(opts, ",") {
		if o == "omitempty" || o == "omitzero" {
			return false
		}
	}
	return f.Type.Kind() != reflect.Pointer
}

// jsonName is the JSON name of f, or "" when it is not encoded.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// joinPath appends name to the JSON path of its parent.
func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// checkRequired refuses data, already decoded without error into a value of
// type t, when it is null where t is a struct, or when it leaves out a
// required field of t or of a struct nested in it (requiredField), gives
// one as null, or gives a required string as blank. It descends only where
// t does, so its depth is the type's, whatever the input's.
func checkRequired(data []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType || t == rawType:
		return nil
	case t.Kind() == reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return badRequest("field %s: want a JSON object", orBody(path))
		}
		if obj == nil {
			return badRequest("field %s: want a JSON object, got null", orBody(path))
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			field := joinPath(path, name)
			raw, present := obj[name]
			null := present && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
			if !requiredField(f) {
				if present && !null {
					if err := checkRequired(raw, f.Type, field); err != nil {
						return err
					}
				}
				continue
			}
			if !present || null {
				return badRequest("field %s: required", field)
			}
			if f.Type.Kind() == reflect.String {
				var s string
				if err := json.Unmarshal(raw, &s); err == nil && strings.TrimSpace(s) == "" {
					return badRequest("field %s: required, and must not be blank", field)
				}
			}
			if err := checkRequired(raw, f.Type, field); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		elem := t.Elem()
		for elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		if elem.Kind() != reflect.Struct || elem == timeType {
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil // null: an absent list, which requiredness judged
		}
		for i, raw := range items {
			if err := checkRequired(raw, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func orBody(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// invalidUTF8Field returns the JSON path of the first string in data, key
// or value, that is not valid UTF-8, and false when there is none or data
// is not JSON. The walk keeps one frame per open container, not a path
// string per level, so its memory is linear in data.
func invalidUTF8Field(data []byte) (string, bool) {
	type frame struct {
		object    bool
		expectKey bool   // object: the next token is a key
		key       string // object: the key of the current value
		index     int    // array: the index of the current element
	}
	var stack []frame
	render := func(frames []frame) string {
		var b strings.Builder
		for _, f := range frames {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		return orBody(b.String())
	}
	// valueDone moves the innermost container past a finished value.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var start int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		// encoding/json replaces invalid UTF-8 in the token it returns;
		// the raw bytes it consumed for it tell.
		end := dec.InputOffset()
		bad := !utf8.Valid(data[start:end])
		start = end
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			if key, ok := tok.(string); ok {
				if bad {
					return render(stack[:n-1]) + " (a key of it)", true
				}
				stack[n-1].key, stack[n-1].expectKey = key, false
				continue
			}
			// '}': the object ends.
			stack = stack[:n-1]
			valueDone()
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, expectKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			if bad {
				return render(stack), true
			}
			valueDone()
		}
	}
}

// firstInvalidUTF8 is the offset of the first byte of data that does not
// start a valid UTF-8 sequence, or -1.
func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// checkEnums refuses a string field of v tagged with an enum (enumValues)
// whose value is not in the set; an optional one may be empty. It walks v
// where its type leads: structs, pointers and slices.
func checkEnums(v reflect.Value, path string) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return nil
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			field := joinPath(path, name)
			if set := enumValues(f); set != nil && f.Type.Kind() == reflect.String {
				s := v.Field(i).String()
				if (s != "" || requiredField(f)) && !slices.Contains(set, s) {
					return badRequest("field %s: %q is not one of %s", field, s, strings.Join(set, ", "))
				}
				continue
			}
			if err := checkEnums(v.Field(i), field); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := checkEnums(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}
