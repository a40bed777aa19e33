package api

import (
	"errors"
	"reflect"

	"github.com/markwatch/markwatch/internal/domain"
)

// checkKeys judges a request body's shape with domain.CheckShape, the walk
// the wire codec uses (nesting depth, keys matched only by case, keys
// given twice, wrong JSON types, all with their path), and answers its
// verdict as a 400 naming the field. Malformed JSON is left to the
// decoder, which reports it with its position.
func checkKeys(data []byte, t reflect.Type) error {
	err := domain.CheckShape(data, t)
	var fe *domain.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe) && fe.Field == "":
		return badRequest("%s", fe.Reason)
	case errors.As(err, &fe):
		field := fe.Field
		if field == "(root)" {
			field = "(body)"
		}
		return badRequest("field %s: %s", field, fe.Reason)
	}
	return badRequest("%v", err)
}
