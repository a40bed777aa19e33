package store

import (
	"errors"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

func testConsole(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	tx := func(fn func(tx *Tx) error) error { return s.WithTx(ctx, fn) }
	var alice, bob User
	if err := tx(func(tx *Tx) error {
		var err error
		if alice, err = tx.CreateUser(ctx, User{Name: "Alice", Role: RoleReviewer, Username: "alice"}, "tok-a"); err != nil {
			return err
		}
		bob, err = tx.CreateUser(ctx, User{Name: "Bob", Role: RoleAdmin}, "tok-b")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx(func(tx *Tx) error {
		_, err := tx.CreateUser(ctx, User{Name: "x", Role: RoleAdmin, Username: "Bad Name"}, "tok-x")
		return err
	}); err == nil {
		t.Error("a username with a space and capitals was accepted")
	}
	if _, _, err := s.PasswordHash(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("password of a user without one = %v, want ErrNotFound", err)
	}
	if err := tx(func(tx *Tx) error { return tx.SetPassword(ctx, alice.ID, "", "hash-a") }); err != nil {
		t.Fatal(err)
	}
	if err := tx(func(tx *Tx) error { return tx.SetPassword(ctx, bob.ID, "alice", "hash-b") }); !errors.Is(err, ErrConflict) {
		t.Errorf("taking another's username = %v, want ErrConflict", err)
	}
	if err := tx(func(tx *Tx) error { return tx.SetPassword(ctx, bob.ID, "bob", "hash-b") }); err != nil {
		t.Fatal(err)
	}
	u, hash, err := s.PasswordHash(ctx, "bob")
	if err != nil || u.ID != bob.ID || hash != "hash-b" || u.Username != "bob" {
		t.Fatalf("PasswordHash(bob) = %+v, %q, %v", u, hash, err)
	}
	if err := tx(func(tx *Tx) error { return tx.SetPassword(ctx, "u_none", "", "h") }); !errors.Is(err, ErrNotFound) {
		t.Errorf("password of unknown user = %v, want ErrNotFound", err)
	}
	// Sessions: created, read with the user, touched, ended by logout,
	// by a password reset and by disabling the user.
	newSession := func(id string, user User) {
		t.Helper()
		if err := tx(func(tx *Tx) error {
			_, err := tx.CreateSession(ctx, Session{IDHash: id, User: user, CSRF: "csrf-" + id, ExpiresAt: testNow.Add(time.Hour)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	newSession("s1", alice)
	sess, err := s.SessionByHash(ctx, "s1")
	if err != nil || sess.User.ID != alice.ID || sess.User.Username != "alice" || sess.CSRF != "csrf-s1" ||
		!sess.SeenAt.Equal(testNow.Truncate(time.Millisecond)) || !sess.ExpiresAt.Equal(testNow.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("SessionByHash = %+v, %v", sess, err)
	}
	if err := tx(func(tx *Tx) error { return tx.TouchSession(ctx, "s1") }); err != nil {
		t.Fatal(err)
	}
	if err := tx(func(tx *Tx) error { return tx.DeleteSession(ctx, "s1", time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByHash(ctx, "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after logout = %v, want ErrNotFound", err)
	}
	newSession("s2", alice)
	if err := tx(func(tx *Tx) error { return tx.SetPassword(ctx, alice.ID, "", "hash-a2") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByHash(ctx, "s2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after password reset = %v, want ErrNotFound", err)
	}
	newSession("s3", bob)
	if err := tx(func(tx *Tx) error { return tx.SetUserDisabled(ctx, bob.ID, true) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByHash(ctx, "s3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a disabled user = %v, want ErrNotFound", err)
	}
	if u, err := s.GetUser(ctx, bob.ID); err != nil || u.DisabledAt.IsZero() {
		t.Errorf("disabled user = %+v, %v", u, err)
	}
	if err := tx(func(tx *Tx) error { return tx.SetTokenHash(ctx, bob.ID, "tok-b2") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByTokenHash(ctx, "tok-b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old token after rotation = %v, want ErrNotFound", err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("Users = %v, %v", users, err)
	}
	// Claims: one holder at a time, renewable by it, free after expiry.
	if err := tx(func(tx *Tx) error {
		_, err := tx.InsertComplaint(ctx, &domain.Complaint{ComplaintID: "c_1", Source: domain.SourceAuto, ListingID: "l", MarkID: "m", HolderID: "h"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	claim := func(user string, until time.Time) Claim {
		t.Helper()
		var c Claim
		if err := tx(func(tx *Tx) error {
			var err error
			c, err = tx.ClaimComplaint(ctx, "c_1", user, until)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := claim("u_a", testNow.Add(time.Minute)); c.UserID != "u_a" {
		t.Fatalf("first claim went to %s", c.UserID)
	}
	if c := claim("u_b", testNow.Add(time.Minute)); c.UserID != "u_a" {
		t.Fatalf("a running claim was taken by %s", c.UserID)
	}
	if c := claim("u_a", testNow.Add(2*time.Minute)); c.UserID != "u_a" || !c.ExpiresAt.Equal(testNow.Add(2*time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("renewal = %+v", c)
	}
	if m, err := s.Claims(ctx, []string{"c_1"}, testNow.Add(3*time.Minute)); err != nil || len(m) != 0 {
		t.Fatalf("Claims after expiry = %v, %v", m, err)
	}
	if err := tx(func(tx *Tx) error { return tx.ReleaseClaim(ctx, "c_1", "u_a") }); err != nil {
		t.Fatal(err)
	}
	if c := claim("u_b", testNow.Add(time.Minute)); c.UserID != "u_b" {
		t.Fatalf("claim after release went to %s", c.UserID)
	}
}
