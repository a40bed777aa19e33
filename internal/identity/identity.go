// Package identity authenticates the review service's callers: it makes API
// tokens, hashes them for storage and resolves an Authorization header to a
// user with a role.
//
// A token is "mw_" followed by 32 random bytes in unpadded base64url. Only
// its SHA-256, in hex, is stored: a leaked database does not leak working
// credentials, and because the token carries 256 bits of entropy a plain
// (unsalted, fast) hash is enough: there is nothing to guess.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/markwatch/markwatch/internal/store"
)

// TokenPrefix starts every API token, so that a token is recognisable in a
// secret scanner and a mistyped credential fails fast.
const TokenPrefix = "mw_"

// tokenBytes is the token's entropy in bytes.
const tokenBytes = 32

// tokenLen is the length of a well-formed token.
var tokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// Role is what a user may do.
type Role string

// Roles. Their values are the store's.
const (
	// RoleAdmin manages holders, verifies marks and reads the audit log.
	RoleAdmin Role = store.RoleAdmin
	// RoleReviewer decides complaints.
	RoleReviewer Role = store.RoleReviewer
	// RoleBrandOwner acts for exactly one rights holder (its tenant).
	RoleBrandOwner Role = store.RoleBrandOwner
	// RoleMarketplace is a marketplace's service account.
	RoleMarketplace Role = store.RoleMarketplace
)

// Roles lists every role, for tests and for validating input.
func Roles() []Role { return []Role{RoleAdmin, RoleReviewer, RoleBrandOwner, RoleMarketplace} }

// ErrUnauthenticated is returned (wrapped) when a request carries no
// credentials, malformed ones or a token that belongs to nobody.
var ErrUnauthenticated = errors.New("unauthenticated")

// NewToken returns a fresh API token and the hash to store for it. The token
// is shown to its owner once and never stored.
func NewToken() (token, hash string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("identity: new token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of token: what the store keeps and looks
// users up by.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate resolves an Authorization header value ("Bearer mw_...") to
// its user. A missing or malformed header or an unknown token is
// ErrUnauthenticated; a database failure is returned as such, so that the
// caller can answer 500 rather than 401.
func Authenticate(ctx context.Context, st *store.Store, bearerHeader string) (*store.User, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(bearerHeader), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, fmt.Errorf("identity: authenticate: %w: want Authorization: Bearer <token>", ErrUnauthenticated)
	}
	token = strings.TrimSpace(token)
	// The shape check keeps junk away from the database; the lookup is by
	// hash, so its timing says nothing about any stored token.
	if len(token) != tokenLen || !strings.HasPrefix(token, TokenPrefix) {
		return nil, fmt.Errorf("identity: authenticate: %w: malformed token", ErrUnauthenticated)
	}
	u, err := st.UserByTokenHash(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("identity: authenticate: %w: unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: authenticate: %w", err)
	}
	if !u.DisabledAt.IsZero() {
		return nil, fmt.Errorf("identity: authenticate: %w: user disabled", ErrUnauthenticated)
	}
	return &u, nil
}
