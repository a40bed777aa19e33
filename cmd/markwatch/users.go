package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// runUsers manages users: `markwatch users create` and `markwatch users
// set-password`.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "set-password" {
		return runSetPassword(ctx, args[1:], os.Stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: markwatch users create -role ROLE [-holder HOLDER] -name NAME [-db DSN]")
		return errUsage
	}
	fs := flag.NewFlagSet("markwatch users create", flag.ContinueOnError)
	var f streamFlags
	f.register(fs)
	role := fs.String("role", "", "admin, reviewer, brand_owner or marketplace (required)")
	holder := fs.String("holder", "", "the rights holder a brand_owner acts for (required for brand_owner)")
	name := fs.String("name", "", "a name people recognise (required)")
	username := fs.String("username", "", "the username to log in to the console with (with -password-stdin)")
	passwordStdin := fs.Bool("password-stdin", false, "read a console password from the first line of stdin (needs -username)")
	f.registerDB(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch users create -role ROLE [-holder HOLDER] -name NAME [-db DSN]\n\nCreates an API user and prints its token once; only its hash is stored.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	roles := make([]string, 0, 4)
	for _, r := range identity.Roles() {
		roles = append(roles, string(r))
	}
	switch {
	case !slices.Contains(roles, *role):
		fmt.Fprintf(stderr, "-role %q: want one of %v\n", *role, roles)
		return errUsage
	case *name == "":
		fmt.Fprintln(stderr, "-name is required")
		return errUsage
	case (*role == string(identity.RoleBrandOwner)) != (*holder != ""):
		fmt.Fprintln(stderr, "-holder is required for brand_owner and only for it")
		return errUsage
	case *passwordStdin != (*username != ""):
		fmt.Fprintln(stderr, "-username and -password-stdin go together")
		return errUsage
	}
	var pwHash string
	if *passwordStdin {
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if pwHash, err = identity.HashPassword(pw); err != nil {
			return err
		}
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.Store.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	token, hash, err := identity.NewToken()
	if err != nil {
		return err
	}
	var u store.User
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = tx.CreateUser(ctx, store.User{Name: *name, Role: *role, HolderID: *holder, Username: *username}, hash)
		if err != nil || pwHash == "" {
			return err
		}
		return tx.SetPassword(ctx, u.ID, "", pwHash)
	})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\ntoken (shown once, keep it secret): %s\n", u.Role, u.ID, u.Name, token)
	return nil
}
