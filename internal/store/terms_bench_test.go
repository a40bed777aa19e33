package store

import (
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTermsBackfill measures migrations 24 and 25 on a SQLite file
// loaded by an earlier run of the scale benchmark
// (MARKWATCH_BENCH_SQLITE_PATH, see docs/BENCHMARKS.md): a copy of it is
// taken back to schema 23 (the terms' tables and triggers dropped) and
// opened, which fills complaint_term_keys from every complaint and counts
// its terms. Skipped without the file.
func BenchmarkTermsBackfill(b *testing.B) {
	src := os.Getenv("MARKWATCH_BENCH_SQLITE_PATH")
	if src == "" {
		b.Skip("MARKWATCH_BENCH_SQLITE_PATH is not set")
	}
	for b.Loop() {
		b.StopTimer()
		dst := filepath.Join(b.TempDir(), "backfill.db")
		copyFile(b, src, dst)
		db, err := sql.Open("sqlite", dst)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{
			`DROP TRIGGER IF EXISTS complaint_term_counts_insert`, `DROP TRIGGER IF EXISTS complaint_term_counts_delete`,
			`DROP TABLE IF EXISTS complaint_term_counts`,
			`DROP TRIGGER IF EXISTS complaint_term_keys_delete`, `DROP TRIGGER IF EXISTS complaint_term_keys_rekey`,
			`DROP TABLE IF EXISTS complaint_term_keys`,
			`DELETE FROM schema_version WHERE version >= 24`,
			`VACUUM`,
		} {
			if _, err := db.ExecContext(b.Context(), q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
		}
		var n int
		if err := db.QueryRowContext(b.Context(), `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		s, err := Open(b.Context(), "sqlite:"+dst)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.StopTimer()
		var rows int64
		if err := s.read().queryRow(b.Context(), `SELECT COALESCE(SUM(n), 0) FROM complaint_term_counts`).Scan(&rows); err != nil {
			b.Fatal(err)
		}
		b.Logf("migrations 24 and 25 on %d complaints: %v, %d term rows", n, took.Round(time.Millisecond), rows)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// copyFile copies the file src to dst.
func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
