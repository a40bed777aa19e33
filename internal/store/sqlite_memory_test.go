package store

import (
	"database/sql"
	"testing"
)

// TestSQLiteMemoryParams checks that a file store's connections, the
// writer and the readers, get the page cache and memory map of Options,
// the defaults when zero and SQLite's own when negative.
func TestSQLiteMemoryParams(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cache, mmap int64
		wantCache   int64 // PRAGMA cache_size: negative is KiB, positive pages
		wantMmap    int64
	}{
		{"defaults", 0, 0, -(64 << 10), 1 << 30},
		{"set", 8 << 20, 16 << 20, -(8 << 10), 16 << 20},
		{"off", -1, -1, -2000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenOptions(t.Context(), Options{
				DSN: "sqlite:" + t.TempDir() + "/m.db", SQLiteCacheBytes: tc.cache, SQLiteMmapBytes: tc.mmap,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for name, db := range map[string]*sql.DB{"writer": s.writer, "reader": s.reader} {
				var cache, mmap int64
				if err := db.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&cache); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRowContext(t.Context(), "PRAGMA mmap_size").Scan(&mmap); err != nil {
					t.Fatal(err)
				}
				if cache != tc.wantCache || mmap != tc.wantMmap {
					t.Errorf("%s: cache_size %d, mmap_size %d; want %d, %d", name, cache, mmap, tc.wantCache, tc.wantMmap)
				}
			}
		})
	}
}
