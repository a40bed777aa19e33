package identity

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/markwatch/markwatch/internal/store"
)

// Password bounds. bcrypt reads at most 72 bytes; a longer password would
// be silently cut, so it is refused instead.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// ErrWeakPassword is returned by HashPassword for a password out of bounds.
var ErrWeakPassword = fmt.Errorf("password must be %d to %d bytes of UTF-8", MinPasswordLen, MaxPasswordLen)

// passwordCost is bcrypt's work factor: about 50 ms a check on a laptop,
// slow enough to make a stolen hash expensive to guess, fast enough for a
// login.
const passwordCost = 11

// HashPassword returns the bcrypt hash to store for password.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen || !utf8.ValidString(password) {
		return "", ErrWeakPassword
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), passwordCost)
	if err != nil {
		return "", fmt.Errorf("identity: hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when a username is unknown, so that an
// unknown user takes as long to refuse as a wrong password and usernames
// cannot be found by timing.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("markwatch-no-such-user"), passwordCost)

// CheckPassword returns the user who logs in as username with password, or
// ErrUnauthenticated for an unknown user, a wrong password or a disabled
// user; a database failure is returned as such.
func CheckPassword(ctx context.Context, st *store.Store, username, password string) (*store.User, error) {
	u, hash, err := st.PasswordHash(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, fmt.Errorf("identity: login %s: %w", username, ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !u.DisabledAt.IsZero() {
		return nil, fmt.Errorf("identity: login %s: %w", username, ErrUnauthenticated)
	}
	return &u, nil
}
