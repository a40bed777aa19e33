package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// runSetPassword sets a user's console password, read from stdin, and
// optionally its username: `markwatch users set-password -user ID|USERNAME
// [-username NEW] --password-stdin`. The user's sessions end.
func runSetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch users set-password", flag.ContinueOnError)
	var f streamFlags
	fs.StringVar(&f.config, "config", "", "YAML configuration file whose store.dsn names the database")
	user := fs.String("user", "", "the user's id or username (required)")
	username := fs.String("username", "", "a new username to log in with (required when the user has none)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (required)")
	fs.StringVar(&f.db, "db", "", "database: sqlite:PATH or postgres://... (overrides store.dsn and MARKWATCH_STORE_DSN; default "+devStoreDSN+", where markwatch dev keeps its users)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: echo PASSWORD | markwatch users set-password -user ID|USERNAME [-username NAME] --password-stdin [-db DSN]\n\nSets a user's console password (10 to 72 bytes), stored as a bcrypt hash,\nand ends its sessions.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *user == "" || !*fromStdin {
		fmt.Fprintln(stderr, "-user and --password-stdin are required")
		return errUsage
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := identity.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := f.defaultToDevStore(); err != nil {
		return err
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
	u, err := st.GetUser(ctx, *user)
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.UserByUsername(ctx, *user)
	}
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if u.Username == "" && *username == "" {
		fmt.Fprintf(stderr, "user %s has no username yet: give one with -username\n", u.ID)
		return errUsage
	}
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, *username, hash); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: "cli", Action: "user.set_password", ObjectType: "user", ObjectID: u.ID})
		return err
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	name := u.Username
	if *username != "" {
		name = *username
	}
	fmt.Fprintf(stdout, "password set for %s (%s) in %s; log in to the console as %s\n", u.ID, u.Name, redactDSN(cfg.Store.DSN), name)
	return nil
}
