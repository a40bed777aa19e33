package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/web"
)

// newConsole builds the web console over the review service's parts. Its
// image proxy fetches with the detector's image settings (hosts, caps,
// timeout), so that it reaches exactly the hosts detection does.
func newConsole(cfg config.Config, st *store.Store, svc *review.Service, a *api.API, log *slog.Logger) (*web.Console, error) {
	fetch, err := listingImageFetcher(cfg)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return web.New(web.Options{Store: st, Review: svc, API: a, Images: fetch, Logger: log})
}

// readPassword reads one line from r (the --password-stdin convention of
// docker login and friends: the password never appears in argv or the
// shell history).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("read password from stdin: empty")
	}
	return pw, nil
}

// devLogin is one demo user's console login.
type devLogin struct{ Role, Username, Password string }

// demoLogins gives the demo users usernames and passwords on the first
// start and keeps them in path (dev only, like demo-tokens.txt), as lines
// role<TAB>username<TAB>password.
func demoLogins(ctx context.Context, st *store.Store, toks []devToken, path string) ([]devLogin, error) {
	if b, err := os.ReadFile(path); err == nil {
		var out []devLogin
		for line := range strings.Lines(string(b)) {
			p := strings.Split(strings.TrimRight(line, "\n"), "\t")
			if len(p) != 3 {
				return nil, fmt.Errorf("%s: malformed line; delete it and the database to recreate the demo users", path)
			}
			out = append(out, devLogin{Role: p[0], Username: p[1], Password: p[2]})
		}
		return out, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	usernames := map[string]string{
		string(identity.RoleAdmin): "admin", string(identity.RoleReviewer): "reviewer",
		string(identity.RoleBrandOwner): "veltaro", string(identity.RoleMarketplace): "marketplace",
	}
	users := make([]store.User, 0, len(toks))
	for _, t := range toks {
		u, err := st.UserByTokenHash(ctx, identity.HashToken(t.Token))
		if err != nil {
			return nil, fmt.Errorf("demo logins: %w", err)
		}
		users = append(users, u)
	}
	var out []devLogin
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		for i, t := range toks {
			u := users[i]
			var b [12]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			pw := base64.RawURLEncoding.EncodeToString(b[:])
			hash, err := identity.HashPassword(pw)
			if err != nil {
				return err
			}
			name := usernames[t.Role]
			if name == "" {
				name = t.Role
			}
			if err := tx.SetPassword(ctx, u.ID, name, hash); err != nil {
				return err
			}
			out = append(out, devLogin{Role: t.Role, Username: name, Password: pw})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo logins: %w", err)
	}
	var b strings.Builder
	for _, l := range out {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", l.Role, l.Username, l.Password)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("demo logins: %w", err)
	}
	return out, nil
}

// printLogins shows the console's address and the demo logins.
func printLogins(w io.Writer, httpAddr string, logins []devLogin) {
	fmt.Fprintf(w, "Console on http://%s/ (log in as):\n", httpAddr)
	for _, l := range logins {
		fmt.Fprintf(w, "  %-12s %-12s %s\n", l.Role, l.Username, l.Password)
	}
	fmt.Fprintln(w)
}
