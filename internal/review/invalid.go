package review

import (
	"errors"

	"github.com/markwatch/markwatch/internal/domain"
)

// InvalidError is a request the review flow refuses. It wraps ErrInvalid,
// so errors.Is(err, ErrInvalid) holds for every one; callers that answer a
// person (the API, the console) take Field, Reason and Rule with errors.As
// instead of cutting the message.
type InvalidError struct {
	// Field is the request field at fault, by its JSON name ("decision",
	// "reason_code", "mark_id"); empty when the request as a whole is
	// wrong.
	Field string
	// Reason says what is wrong with it, for a person.
	Reason string
	// Rule, when set, names the rule of the review flow that was broken
	// (RuleMarkUnknown, ...): the field is well formed, but what it names
	// may not be used this way. Empty for a malformed value.
	Rule string
}

// Rules an InvalidError may name. They are stable: the API answers with
// them as error codes, and the dead letters of refused complaints carry
// them.
const (
	// RuleMarkUnknown: the complaint names a mark that does not exist or,
	// for a brand owner, that is not its holder's (the two answer alike,
	// so that other holders' mark ids cannot be probed).
	RuleMarkUnknown = "mark_unknown"
	// RuleMarkNotActive: the mark exists but is pending (not verified),
	// suspended or removed; only an active mark backs a complaint.
	RuleMarkNotActive = "mark_not_active"
	// RuleHolderMismatch: the complaint's holder is not the mark's holder.
	RuleHolderMismatch = "holder_mismatch"
)

// Rules lists every rule an InvalidError may name, for metrics and
// documentation.
func Rules() []string { return []string{RuleMarkUnknown, RuleMarkNotActive, RuleHolderMismatch} }

// Error reads "invalid request: [rule: ][field: ]reason".
func (e *InvalidError) Error() string {
	msg := ErrInvalid.Error() + ": "
	if e.Rule != "" {
		// The rule leads, so that a dead letter's reason can be grepped.
		msg += e.Rule + ": "
	}
	if e.Field != "" {
		msg += e.Field + ": "
	}
	return msg + e.Reason
}

// Unwrap makes every InvalidError an ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// invalid returns an InvalidError for field with no rule.
func invalid(field, reason string) *InvalidError {
	return &InvalidError{Field: field, Reason: reason}
}

// RefusedBy is the rule broken, "" for a malformed value: the complaints
// consumer dead-letters a refusal under its own class (ingest.ClassRefused).
func (e *InvalidError) RefusedBy() string { return e.Rule }

// invalidComplaint is the InvalidError of a complaint (or a buyer report)
// that fails its Validate, whose errors are *domain.FieldError.
func invalidComplaint(err error) *InvalidError {
	var fe *domain.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, fe.Reason)
	}
	return invalid("", err.Error())
}
