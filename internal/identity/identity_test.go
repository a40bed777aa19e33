package identity

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestNewToken(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != tokenLen {
		t.Errorf("token %q: want prefix %q and length %d", tok, TokenPrefix, tokenLen)
	}
	if hash != HashToken(tok) || len(hash) != 64 {
		t.Errorf("hash %q is not the hex SHA-256 of the token", hash)
	}
	tok2, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if tok == tok2 {
		t.Error("two tokens are equal")
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	var want store.User
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		want, err = tx.CreateUser(ctx, store.User{Name: "rev", Role: store.RoleReviewer}, hash)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"valid", "Bearer " + tok, true},
		{"scheme case-insensitive", "bearer " + tok, true},
		{"empty", "", false},
		{"no scheme", tok, false},
		{"basic", "Basic " + tok, false},
		{"unknown token", "Bearer " + other, false},
		{"truncated", "Bearer " + tok[:len(tok)-1], false},
		{"hash as token", "Bearer " + hash, false},
		{"no prefix", "Bearer xx" + tok[3:], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Authenticate(ctx, st, tc.header)
			if tc.ok {
				if err != nil || u.ID != want.ID || Role(u.Role) != RoleReviewer {
					t.Fatalf("Authenticate = %+v, %v; want user %s", u, err, want.ID)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Authenticate = %+v, %v; want ErrUnauthenticated", u, err)
			}
		})
	}
}
