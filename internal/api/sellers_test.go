package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// suspendedSeller records a fresh suspended seller and returns its id.
func (e *env) suspendedSeller(t testing.TB) string {
	t.Helper()
	id := fmt.Sprintf("s_susp_%d", e.seq.Add(1))
	err := e.store.WithTx(t.Context(), func(tx *store.Tx) error {
		_, err := tx.SetSellerStatus(t.Context(), id, store.SellerSuspended)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLiftSuspension(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.suspendedSeller(t)
		path := "/v1/sellers/" + id + "/lift-suspension"
		if w := e.do("POST", path, `{}`, identity.RoleAdmin); w.Code != http.StatusBadRequest {
			t.Errorf("no reason: %d %s", w.Code, w.Body)
		}
		w := e.do("POST", path, `{"reason":"appeal upheld"}`, identity.RoleAdmin)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"active"`) {
			t.Fatalf("lift: %d %s", w.Code, w.Body)
		}
		if w := e.do("POST", path, `{"reason":"again"}`, identity.RoleAdmin); w.Code != http.StatusConflict {
			t.Errorf("second lift: %d %s, want 409", w.Code, w.Body)
		}
		entries, err := e.store.AuditLog(t.Context(), store.AuditQuery{ObjectType: "seller", ObjectID: id})
		if err != nil || len(entries) != 1 || entries[0].Action != "seller.suspension_lifted" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})
}
