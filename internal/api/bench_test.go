package api

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
)

// BenchmarkGetComplaint measures one authenticated, tenant-checked read
// through the whole handler on SQLite: token lookup, complaint load, JSON.
func BenchmarkGetComplaint(b *testing.B) {
	e := newEnv(b, benchDSN(b), Options{})
	id := e.ingest(b, ownHolder)
	b.ResetTimer()
	for b.Loop() {
		if w := e.do("GET", "/v1/complaints/"+id, "", identity.RoleBrandOwner); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkDecision measures an uphold through the handler on SQLite:
// decode, compare-and-set, takedown and strike in one transaction.
func BenchmarkDecision(b *testing.B) {
	e := newEnv(b, benchDSN(b), Options{})
	ids := make([]string, 0, 1024)
	b.StopTimer()
	for range 1024 {
		ids = append(ids, e.ingest(b, ownHolder))
	}
	b.StartTimer()
	i := 0
	for b.Loop() {
		if i == len(ids) {
			b.StopTimer()
			ids, i = ids[:0], 0
			for range 1024 {
				ids = append(ids, e.ingest(b, ownHolder))
			}
			b.StartTimer()
		}
		w := e.do("POST", "/v1/complaints/"+ids[i]+"/decision", `{"decision":"uphold","reason_code":"counterfeit"}`, identity.RoleReviewer)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		i++
	}
}

func benchDSN(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "markwatch.db") }
