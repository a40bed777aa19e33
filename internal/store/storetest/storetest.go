// Package storetest gives the tests of packages built on the store a fresh
// database on each engine the store supports, and a canonical dump of one, so
// that they run on SQLite always and on PostgreSQL when it is configured
// (see internal/testenv), as the store's own suite does.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/markwatch/markwatch/internal/testenv"
)

// Engine names a database engine and makes fresh, empty databases on it.
type Engine struct {
	Name string
	// NewDSN returns the DSN of a fresh, empty database (a file for
	// SQLite, a schema of its own for PostgreSQL) that is removed when t
	// ends.
	NewDSN func(t *testing.T) string
}

// Run runs fn as a subtest per engine: "sqlite" always and "postgres", which
// skips (or fails, under MARKWATCH_REQUIRE_INTEGRATION) when
// MARKWATCH_POSTGRES_URL is unset.
func Run(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, Engine{Name: "sqlite", NewDSN: SQLiteDSN})
	})
	t.Run("postgres", func(t *testing.T) {
		base := testenv.PostgresURL(t)
		fn(t, Engine{Name: "postgres", NewDSN: func(t *testing.T) string { return PostgresDSN(t, base) }})
	})
}

// SQLiteDSN returns the DSN of a new SQLite file in t's temporary directory.
func SQLiteDSN(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "markwatch.db")
}

// PostgresDSN creates a schema of its own on the server at base, drops it
// when t ends, and returns a DSN whose search_path is that schema.
func PostgresDSN(t *testing.T, base string) string {
	t.Helper()
	return PostgresDSNFor(t, base)
}

// PostgresDSNFor is PostgresDSN for a test or a benchmark.
func PostgresDSNFor(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "markwatch_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by the time cleanups run.
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: parse postgres URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// Dump returns every row of every table of the database at dsn (made by
// NewDSN, after the store has migrated it) as text, tables by name and rows
// sorted, so that two dumps are equal exactly when the contents are.
func Dump(t *testing.T, dsn string) string {
	t.Helper()
	ctx := t.Context()
	var (
		db         *sql.DB
		err        error
		listTables string
	)
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", path+"?_query_only=1")
		listTables = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	} else {
		db, err = sql.Open("pgx", dsn)
		listTables = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	if err != nil {
		t.Fatalf("storetest: dump: %v", err)
	}
	defer db.Close()
	tables, err := strings1(ctx, db, listTables)
	if err != nil {
		t.Fatalf("storetest: dump: list tables: %v", err)
	}
	sort.Strings(tables)
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("storetest: dump %s: %v", table, err)
			}
			var line strings.Builder
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&line, "%s=%v ", cols[i], v)
			}
			lines = append(lines, line.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&out, "== %s (%d rows)\n", table, len(lines))
		for _, l := range lines {
			out.WriteString(l + "\n")
		}
	}
	return out.String()
}

// strings1 returns the first column of every row of query.
func strings1(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
