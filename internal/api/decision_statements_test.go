package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestDecisionStatementsExplore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		for _, c := range []struct{ name, id, body string }{
			{"uphold open", e.ingest(t, ownHolder), `{"decision":"uphold","reason_code":"counterfeit"}`},
			{"reject open", e.ingest(t, ownHolder), `{"decision":"reject","reason_code":"genuine"}`},
			{"reject contested", e.contested(t, ownHolder), `{"decision":"reject","reason_code":"genuine"}`},
			{"uphold contested", e.contested(t, ownHolder), `{"decision":"uphold","reason_code":"counterfeit"}`},
		} {
			// warm up a connection's statement cache and the auth cache
			e.do("GET", "/v1/complaints/"+c.id, "", identity.RoleReviewer)
			ctx, st := store.WithStatements(context.Background())
			w := e.doContext(ctx, "POST", "/v1/complaints/"+c.id+"/decision", c.body, identity.RoleReviewer)
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", c.name, w.Code, w.Body)
			}
			t.Logf("%s: %d statements:\n%s", c.name, st.Len(), strings.Join(st.List(), "\n"))
		}
	})
}
