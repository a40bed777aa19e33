package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

// apiError is an error with the status and code it answers with. Its message
// is shown to the caller, so it never carries internal detail.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// envelope is the body of every error response.
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var (
	errUnauthenticated = &apiError{status: http.StatusUnauthorized, code: "unauthenticated", msg: "a valid API token is required: Authorization: Bearer <token>"}
	errForbidden       = &apiError{status: http.StatusForbidden, code: "forbidden", msg: "your role may not do this"}
	errRateLimited     = &apiError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many requests for this token; slow down"}
	errHolderThrottled = &apiError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "most of this holder's complaints were rejected; its manual complaints are rate-limited"}
	errNoRoute         = &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such route"}
	errInternal        = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "internal error"}
)

func notFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "not_found", msg: what + " not found"}
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", msg: fmt.Sprintf(format, args...)}
}

// toAPIError maps an error from a handler or the layers below to its
// response. Unknown errors are 500 with a generic message; the caller logs
// the real one.
func (a *API) toAPIError(err error) *apiError {
	var ae *apiError
	var fe *domain.FieldError
	var ie *review.InvalidError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &tooBig):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large", msg: fmt.Sprintf("request body over the %d-byte cap", tooBig.Limit)}
	case errors.Is(err, store.ErrNotFound):
		return notFound("object")
	case errors.Is(err, store.ErrConflict):
		return &apiError{status: http.StatusConflict, code: "conflict", msg: "the object is not in a state that allows this, or already exists"}
	case errors.Is(err, review.ErrForbidden):
		return errForbidden
	case errors.As(err, &fe):
		return badRequest("%s", fe.Error())
	case errors.As(err, &ie) && ie.Rule != "":
		// Well formed, but naming what may not be used so: the code is
		// the rule broken.
		return &apiError{status: http.StatusUnprocessableEntity, code: ie.Rule, msg: fieldMessage(ie.Field, ie.Reason)}
	case errors.As(err, &ie):
		return badRequest("%s", fieldMessage(ie.Field, ie.Reason))
	case errors.Is(err, review.ErrInvalid), errors.Is(err, domain.ErrInvalid):
		// Every invalid error of the layers below is one of the typed
		// ones above; this keeps a future untyped one a 400, without
		// its internal prefixes.
		return badRequest("invalid request")
	}
	return errInternal
}

// fieldMessage is the envelope's message for a refused field.
func fieldMessage(field, reason string) string {
	if field == "" {
		return reason
	}
	return "field " + field + ": " + reason
}

// writeError writes the envelope for e. Its message is not HTML-escaped:
// it is JSON for programs and people ("Bearer <token>"), served with
// nosniff, never HTML.
func writeError(w http.ResponseWriter, e *apiError) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(envelope{Error: envelopeError{Code: e.code, Message: e.msg}}); err != nil {
		// Two strings always encode; this is the envelope of last resort.
		body.Reset()
		body.WriteString(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
	}
	writeBody(w, e.status, body.Bytes())
}

// writeJSON writes v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only the API's own response types reach here; they marshal.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeBody(w, status, append(body, '\n'))
}

// writeBody writes a JSON body with status.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// decodeBody strictly decodes the request body, already capped by the
// wrapper, into v: exactly one JSON object, no unknown fields, no trailing
// data. Errors are 400s naming the field, or 413 past the cap.
func decodeBody(r *request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badRequest("reading the body: %v", err)
	}
	return decodeJSON(data, v)
}

// decodeJSON is decodeBody on bytes, the part the fuzz tests drive. Beyond
// encoding/json's checks it refuses, naming the field, invalid UTF-8, a
// body that is not an object, a required field left out, null or blank,
// and a value outside its closed set (body.go).
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("empty body: want a JSON object")
	}
	if !utf8.Valid(data) {
		if field, ok := invalidUTF8Field(data); ok {
			return badRequest("field %s: invalid UTF-8", field)
		}
		return badRequest("invalid UTF-8 at byte %d", firstInvalidUTF8(data))
	}
	if err := checkKeys(data, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "(body)"
			}
			return badRequest("field %s: expected %s, got JSON %s", field, typeErr.Type, typeErr.Value)
		case errors.As(err, &syntaxErr):
			return badRequest("malformed JSON at byte %d", syntaxErr.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return badRequest("truncated JSON")
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest("field %s: unknown field", name)
		}
		return badRequest("bad JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("trailing data after the JSON object")
	}
	if err := checkRequired(data, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	return checkEnums(reflect.ValueOf(v), "")
}
