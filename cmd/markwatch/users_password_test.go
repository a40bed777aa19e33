package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

func TestUsersSetPassword(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	token := createUser(t, db, "-role", "reviewer", "-name", "Rita")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByTokenHash(ctx, identity.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	set := func(stdin string, args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		err := runSetPassword(ctx, append([]string{"-db", db}, args...), strings.NewReader(stdin), &stdout, &stderr)
		switch {
		case err == nil:
			return 0, stdout.String()
		case errors.Is(err, errUsage):
			return 2, stderr.String()
		}
		return 1, err.Error()
	}
	if code, out := set("a long enough password\n", "-user", u.ID, "--password-stdin"); code != 2 || !strings.Contains(out, "no username") {
		t.Errorf("no username yet: %d %s", code, out)
	}
	if code, out := set("short\n", "-user", u.ID, "-username", "rita", "--password-stdin"); code != 1 || !strings.Contains(out, "password must be") {
		t.Errorf("short password: %d %s", code, out)
	}
	if code, out := set("a long enough password\n", "-user", u.ID, "-username", "rita", "--password-stdin"); code != 0 {
		t.Fatalf("set: %d %s", code, out)
	}
	if _, err := identity.CheckPassword(ctx, st, "rita", "a long enough password"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	// By username, without --password-stdin: refused; with it: changed.
	if code, _ := set("another password!\n", "-user", "rita"); code != 2 {
		t.Errorf("without --password-stdin: %d", code)
	}
	if code, out := set("another password!\r\n", "-user", "rita", "--password-stdin"); code != 0 {
		t.Fatalf("set by username: %d %s", code, out)
	}
	if _, err := identity.CheckPassword(ctx, st, "rita", "a long enough password"); !errors.Is(err, identity.ErrUnauthenticated) {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := identity.CheckPassword(ctx, st, "rita", "another password!"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if code, _ := set("a long enough password\n", "-user", "nobody", "--password-stdin"); code != 1 {
		t.Errorf("unknown user: %d", code)
	}
}
