package identity

import (
	"errors"
	"slices"

	"github.com/markwatch/markwatch/internal/store"
)

// ErrForbidden is returned by Authorize when the caller's role may not do
// what it asks.
var ErrForbidden = errors.New("forbidden")

// ErrHidden is returned by Authorize when the object belongs to another
// tenant. Callers answer it exactly like a missing object (404), so that
// one holder cannot probe for another's ids.
var ErrHidden = errors.New("not found")

// Scope is the rights holder an object belongs to, as far as tenant
// isolation is concerned.
type Scope struct {
	holder string
	owned  bool
}

// Unowned is the scope of an action that touches no holder's object, or
// acts for the caller's own holder (taken from its credentials).
func Unowned() Scope { return Scope{} }

// OwnedBy is the scope of an object of the holder holderID.
func OwnedBy(holderID string) Scope { return Scope{holder: holderID, owned: true} }

// Authorize is the one authorization decision of the review service: the
// API and the console both call it, so that the console can never be a
// second, laxer path. u may act when its role is in allow and, for a brand
// owner, the object in scope is its own holder's. A disabled user may do
// nothing. A role not in allow is ErrForbidden; another tenant's object is
// ErrHidden.
func Authorize(u *store.User, allow []Role, scope Scope) error {
	if u == nil || !u.DisabledAt.IsZero() {
		return ErrUnauthenticated
	}
	if !slices.Contains(allow, Role(u.Role)) {
		return ErrForbidden
	}
	if Role(u.Role) != RoleBrandOwner {
		return nil
	}
	if u.HolderID == "" {
		// The store refuses such a user; this guards the invariant.
		return ErrForbidden
	}
	if scope.owned && scope.holder != u.HolderID {
		return ErrHidden
	}
	return nil
}
