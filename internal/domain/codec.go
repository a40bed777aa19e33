package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every decoding and validation error, so callers
// can tell bad input (dead-letter it, answer 400) from other failures.
var ErrInvalid = errors.New("invalid message")

// FieldError says which field of a message is wrong and why.
type FieldError struct {
	// Field is a JSON path such as "title", "price.amount" or "images[3]";
	// empty when the message as a whole is wrong.
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every FieldError.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits caps the size of untrusted fields. Zero values take the defaults of
// DefaultLimits.
type Limits struct {
	MaxMessageBytes     int `yaml:"max_message_bytes"`
	MaxIDBytes          int `yaml:"max_id_bytes"`
	MaxTitleBytes       int `yaml:"max_title_bytes"`
	MaxDescriptionBytes int `yaml:"max_description_bytes"`
	MaxShortFieldBytes  int `yaml:"max_short_field_bytes"`
	MaxURLBytes         int `yaml:"max_url_bytes"`
	MaxImages           int `yaml:"max_images"`
	MaxListItems        int `yaml:"max_list_items"`
	MaxEvidence         int `yaml:"max_evidence"`
}

// DefaultLimits are generous for real listings and small enough that one
// message cannot exhaust a detector.
var DefaultLimits = Limits{
	MaxMessageBytes:     256 << 10,
	MaxIDBytes:          200,
	MaxTitleBytes:       1000,
	MaxDescriptionBytes: 20000,
	MaxShortFieldBytes:  200,
	MaxURLBytes:         2048,
	MaxImages:           20,
	MaxListItems:        200,
	MaxEvidence:         100,
}

// WithDefaults returns l with every unset cap taken from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxMessageBytes, d.MaxMessageBytes)
	set(&l.MaxIDBytes, d.MaxIDBytes)
	set(&l.MaxTitleBytes, d.MaxTitleBytes)
	set(&l.MaxDescriptionBytes, d.MaxDescriptionBytes)
	set(&l.MaxShortFieldBytes, d.MaxShortFieldBytes)
	set(&l.MaxURLBytes, d.MaxURLBytes)
	set(&l.MaxImages, d.MaxImages)
	set(&l.MaxListItems, d.MaxListItems)
	set(&l.MaxEvidence, d.MaxEvidence)
	return l
}

// decodeStrict decodes exactly one JSON object from data into v, refusing
// oversize input, invalid UTF-8, unknown fields and trailing data.
func decodeStrict(data []byte, v any, lim Limits) error {
	if len(data) > lim.MaxMessageBytes {
		return fieldErr("", "message is %d bytes, over the %d-byte cap", len(data), lim.MaxMessageBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fieldErr("", "message is empty")
	}
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; refuse it
	// instead so that what is stored is what was sent.
	if !utf8.Valid(data) {
		off := invalidUTF8Offset(data)
		return fieldErr("", "invalid UTF-8 at byte %d", off)
	}
	// encoding/json matches keys case-insensitively, keeps the last of
	// duplicate keys and reports nested errors without their path; the
	// shape check refuses and locates those first.
	if err := CheckShape(data, reflect.TypeOf(v).Elem()); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldErr("", "trailing data after the JSON object")
	}
	return nil
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// jsonErr turns encoding/json's errors into FieldErrors.
func jsonErr(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(root)"
		}
		return fieldErr(field, "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fieldErr("", "malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("", "truncated JSON")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fieldErr(strings.Trim(name, `"`), "unknown field")
	}
	var tErr *time.ParseError
	if errors.As(err, &tErr) {
		return fieldErr("created_at", "not an RFC 3339 time: %q", tErr.Value)
	}
	return fieldErr("", "%s", strings.TrimPrefix(msg, "json: "))
}

// validator collects the first error of a chain of field checks.
type validator struct {
	lim Limits
	err error
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = fieldErr(field, format, args...)
	}
}

func (v *validator) required(field, s string) {
	if strings.TrimSpace(s) == "" {
		v.fail(field, "required")
	}
}

func (v *validator) maxLen(field, s string, n int) {
	if len(s) > n {
		v.fail(field, "%d bytes, over the %d-byte cap", len(s), n)
	}
}

func (v *validator) id(field, s string) {
	v.required(field, s)
	v.maxLen(field, s, v.lim.MaxIDBytes)
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			v.fail(field, "contains a control character")
			return
		}
	}
}

func (v *validator) schema(got int) {
	switch {
	case got == 0:
		v.fail("schema_version", "required")
	case got < 0 || got > SchemaVersion:
		v.fail("schema_version", "unsupported version %d (this build reads up to %d)", got, SchemaVersion)
	}
}

func (v *validator) list(field string, items []string, maxItems, maxBytes int) {
	if len(items) > maxItems {
		v.fail(field, "%d items, over the cap of %d", len(items), maxItems)
		return
	}
	for i, s := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.required(f, s)
		v.maxLen(f, s, maxBytes)
	}
}

func (v *validator) money(field string, m *Money) {
	if m == nil {
		return
	}
	v.amount(field+".amount", m.Amount)
	v.currency(field+".currency", m.Currency)
}

func (v *validator) amount(field, s string) {
	if s == "" {
		v.fail(field, "required")
		return
	}
	if _, err := ParseAmount(s); err != nil {
		v.fail(field, "%v", err)
	}
}

func (v *validator) currency(field, s string) {
	if len(s) != 3 || strings.ToUpper(s) != s || strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		v.fail(field, "want a 3-letter ISO 4217 code such as \"USD\", got %q", s)
	}
}

// ParseAmount parses a non-negative decimal amount such as "12.50".
// Exponents, signs, NaN and infinities are refused.
func ParseAmount(s string) (float64, error) {
	if len(s) > 32 {
		return 0, fmt.Errorf("amount %q is too long", s)
	}
	dot := false
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !dot && i > 0:
			dot = true
		default:
			return 0, fmt.Errorf("not a decimal amount: %q", s)
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("not a decimal amount: %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("not a decimal amount: %q", s)
	}
	return f, nil
}
