package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// errBadUsername refuses a username that could not be typed or shown
// safely.
var errBadUsername = errors.New("want 1 to 64 of a-z 0-9 _ . - @, starting with a letter or digit")

// usernameRE is what a username may look like: lower case so that "Alice"
// and "alice" cannot be two people.
var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.@-]{0,63}$`)

func validUsername(s string) bool { return usernameRE.MatchString(s) }

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, name, role, holder_id, created_at, username, disabled_at`

// scanUser reads one row of userColumns into u.
func scanUser(row rowScanner, u *User) error {
	var (
		holder, username sql.NullString
		at               int64
		disabled         sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &holder, &at, &username, &disabled); err != nil {
		return err
	}
	u.HolderID = holder.String
	u.CreatedAt = fromMillis(at)
	u.Username = username.String
	u.DisabledAt = fromNullMillis(disabled)
	return nil
}

// Users returns every user, in order of creation then id.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.read().query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := scanUser(rows, &u); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// UserByUsername returns the user who logs in as username, or ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (User, error) {
	return s.read().userBy(ctx, "username", username)
}

// PasswordHash returns the stored password hash of the user who logs in as
// username, with the user; ErrNotFound when there is no such user or it
// has no password.
func (s *Store) PasswordHash(ctx context.Context, username string) (User, string, error) {
	var (
		u    User
		hash sql.NullString
	)
	row := s.read().queryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE username = ?`, username)
	err := scanUser(extraScanner{row: row, after: []any{&hash}}, &u)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hash.Valid) {
		return User{}, "", fmt.Errorf("store: password of %s: %w", username, ErrNotFound)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("store: password of %s: %w", username, err)
	}
	return u, hash.String, nil
}

// SetPassword gives the user a username (when username is not empty) and
// the password hash passwordHash, and ends all its sessions: a reset
// password must lock out whoever knew the old one. An unknown user is
// ErrNotFound; a username another user has is ErrConflict.
func (tx *Tx) SetPassword(ctx context.Context, userID, username, passwordHash string) error {
	if passwordHash == "" {
		return errors.New("store: set password: empty hash")
	}
	if username != "" && !validUsername(username) {
		return fmt.Errorf("store: set password of %s: username %q: %w", userID, username, errBadUsername)
	}
	res, err := tx.r.exec(ctx, `UPDATE users SET password_hash = ?, username = COALESCE(?, username) WHERE id = ?`,
		passwordHash, sql.NullString{String: username, Valid: username != ""}, userID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: set password of %s: username %s: %w", userID, username, ErrConflict)
	}
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("store: set password of %s: %w", userID, err)
	}
	if _, err := tx.r.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("store: set password of %s: end sessions: %w", userID, err)
	}
	return nil
}

// SetUserDisabled disables (or enables again) a user. Disabling ends its
// sessions.
func (tx *Tx) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	at := sql.NullInt64{Int64: millis(tx.now), Valid: disabled}
	res, err := tx.r.exec(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, at, userID)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("store: disable user %s: %w", userID, err)
	}
	if disabled {
		if _, err := tx.r.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("store: disable user %s: end sessions: %w", userID, err)
		}
	}
	return nil
}

// SetTokenHash replaces the user's API token hash: the old token stops
// working at once.
func (tx *Tx) SetTokenHash(ctx context.Context, userID, tokenHash string) error {
	if tokenHash == "" {
		return errors.New("store: rotate token: empty hash")
	}
	res, err := tx.r.exec(ctx, `UPDATE users SET token_hash = ? WHERE id = ?`, tokenHash, userID)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("store: rotate token of %s: %w", userID, err)
	}
	return nil
}

// oneRow turns an update that touched no row into ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Session is a console login. The cookie's value is never stored, only its
// hash (IDHash), like API tokens.
type Session struct {
	IDHash string
	User   User
	// CSRF is the token every state-changing request of the session must
	// carry.
	CSRF      string
	CreatedAt time.Time
	// SeenAt is the last request; the session ends when it is older than
	// the idle timeout.
	SeenAt time.Time
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time
}

// CreateSession stores a new session for sess.User.ID, created and seen now.
func (tx *Tx) CreateSession(ctx context.Context, sess Session) (Session, error) {
	if sess.IDHash == "" || sess.User.ID == "" || sess.CSRF == "" {
		return Session{}, errors.New("store: create session: id hash, user and csrf token are required")
	}
	sess.CreatedAt = fromMillis(millis(tx.now))
	sess.SeenAt = sess.CreatedAt
	sess.ExpiresAt = fromMillis(millis(sess.ExpiresAt))
	_, err := tx.r.exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		sess.IDHash, sess.User.ID, sess.CSRF, millis(sess.CreatedAt), millis(sess.SeenAt), millis(sess.ExpiresAt))
	if err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", err)
	}
	return sess, nil
}

// SessionByHash returns the session stored under idHash with its user, or
// ErrNotFound. Expiry is the caller's to judge: it knows the idle timeout.
func (s *Store) SessionByHash(ctx context.Context, idHash string) (Session, error) {
	var (
		sess                     Session
		created, seen, expiresAt int64
	)
	row := s.read().queryRow(ctx, `SELECT s.csrf, s.created_at, s.seen_at, s.expires_at,
		u.id, u.name, u.role, u.holder_id, u.created_at, u.username, u.disabled_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, idHash)
	err := scanUser(extraScanner{row: row, before: []any{&sess.CSRF, &created, &seen, &expiresAt}}, &sess.User)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: get session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: get session: %w", err)
	}
	sess.IDHash = idHash
	sess.CreatedAt, sess.SeenAt, sess.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expiresAt)
	return sess, nil
}

// extraScanner scans columns before and after the ones the caller of Scan
// reads, so that scanUser serves queries that read more than a user.
type extraScanner struct {
	row           rowScanner
	before, after []any
}

func (e extraScanner) Scan(dest ...any) error {
	all := make([]any, 0, len(e.before)+len(dest)+len(e.after))
	all = append(append(append(all, e.before...), dest...), e.after...)
	return e.row.Scan(all...)
}

// TouchSession records a request in the session now.
func (tx *Tx) TouchSession(ctx context.Context, idHash string) error {
	if _, err := tx.r.exec(ctx, `UPDATE sessions SET seen_at = ? WHERE id_hash = ?`, millis(tx.now), idHash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session; ending one that does not exist is not an
// error (a double logout). Sessions that expired before now are removed
// too, so the table does not grow without bound.
func (tx *Tx) DeleteSession(ctx context.Context, idHash string, idleBefore time.Time) error {
	if _, err := tx.r.exec(ctx, `DELETE FROM sessions WHERE id_hash = ? OR expires_at <= ? OR seen_at < ?`,
		idHash, millis(tx.now), millis(idleBefore)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
