package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User roles.
const (
	// RoleAdmin manages holders, verifies marks and reads the audit log.
	RoleAdmin = "admin"
	// RoleReviewer decides complaints.
	RoleReviewer = "reviewer"
	// RoleBrandOwner acts for exactly one rights holder.
	RoleBrandOwner = "brand_owner"
	// RoleMarketplace is a marketplace's service account.
	RoleMarketplace = "marketplace"
)

// User is a person or service account that calls the API.
type User struct {
	ID   string
	Name string
	Role string
	// HolderID is the holder a brand owner acts for; empty for other roles.
	HolderID  string
	CreatedAt time.Time
	// Username is what the user logs in to the console with; empty for a
	// user that only has an API token.
	Username string
	// DisabledAt is when an admin disabled the user; zero while enabled.
	// A disabled user's token and sessions are refused.
	DisabledAt time.Time
}

// CreateUser stores a new user with the hash of its API token and returns it
// with its id (generated when u.ID is empty) and creation time. The store
// never sees the token itself; tokenHash is whatever the caller's
// authenticator derives from it, compared for equality by UserByTokenHash.
// A brand owner must name an existing holder and no other role may name one.
// A duplicate id or token hash is ErrConflict; an unknown holder is
// ErrNotFound.
func (tx *Tx) CreateUser(ctx context.Context, u User, tokenHash string) (User, error) {
	switch u.Role {
	case RoleAdmin, RoleReviewer, RoleMarketplace:
		if u.HolderID != "" {
			return User{}, fmt.Errorf("store: create user: role %s cannot belong to a holder", u.Role)
		}
	case RoleBrandOwner:
		if u.HolderID == "" {
			return User{}, errors.New("store: create user: a brand owner needs a holder")
		}
	default:
		return User{}, fmt.Errorf("store: create user: unknown role %q", u.Role)
	}
	if u.Name == "" || tokenHash == "" {
		return User{}, errors.New("store: create user: empty name or token hash")
	}
	if u.HolderID != "" {
		if _, err := tx.GetHolder(ctx, u.HolderID); err != nil {
			return User{}, fmt.Errorf("store: create user: %w", err)
		}
	}
	if u.ID == "" {
		id, err := newID("u_")
		if err != nil {
			return User{}, fmt.Errorf("store: create user: %w", err)
		}
		u.ID = id
	}
	if u.Username != "" && !validUsername(u.Username) {
		return User{}, fmt.Errorf("store: create user: username %q: %w", u.Username, errBadUsername)
	}
	u.CreatedAt = fromMillis(millis(tx.now))
	_, err := tx.r.exec(ctx, `INSERT INTO users (id, name, role, holder_id, token_hash, created_at, username) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Name, u.Role, sql.NullString{String: u.HolderID, Valid: u.HolderID != ""}, tokenHash, millis(u.CreatedAt),
		sql.NullString{String: u.Username, Valid: u.Username != ""})
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("store: create user %s: %w", u.ID, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user %s: %w", u.ID, err)
	}
	return u, nil
}

// UserByTokenHash returns the user whose token hashes to tokenHash, or
// ErrNotFound.
func (s *Store) UserByTokenHash(ctx context.Context, tokenHash string) (User, error) {
	return s.read().userBy(ctx, "token_hash", tokenHash)
}

// GetUser returns the user with the given id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	return s.read().userBy(ctx, "id", id)
}

// GetUser returns the user with the given id, or ErrNotFound.
func (tx *Tx) GetUser(ctx context.Context, id string) (User, error) {
	return tx.r.userBy(ctx, "id", id)
}

// userBy looks a user up by a unique column; column is one of the
// constants above, never input.
func (r runner) userBy(ctx context.Context, column, value string) (User, error) {
	var u User
	err := scanUser(r.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+column+` = ?`, value), &u)
	// The token hash is a credential: it stays out of error messages.
	what := "user " + value
	if column == "token_hash" {
		what = "user by token"
	}
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: get %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: get %s: %w", what, err)
	}
	return u, nil
}
