package api

import (
	"encoding/json"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestRegisterVerified: a fixture mark registered as verified creates its
// holder, is stored active, reaches the marks topic through the outbox
// like a verification, and a second registration changes nothing.
func TestRegisterVerified(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		m := &domain.Mark{
			SchemaVersion: domain.SchemaVersion, MarkID: "mk-fixture", HolderID: "h-fixture", Name: "Fixtura",
			Registration: domain.Registration{Office: "EUIPO", Number: "017000001"},
			Status:       domain.MarkPending, // registered active whatever it says
			ImageHashes:  []domain.ImageHash{{URL: "images/marks/mk-fixture/logo.png", Kind: "logo", Hashes: []string{"8000000000000000"}}},
		}
		created, err := e.api.RegisterVerified(t.Context(), m, "Fixtura S.A.", "markwatch-dev")
		if err != nil || !created {
			t.Fatalf("RegisterVerified: %v, %v", created, err)
		}
		h, err := e.store.GetHolder(t.Context(), "h-fixture")
		if err != nil || h.Name != "Fixtura S.A." {
			t.Fatalf("holder %+v, %v", h, err)
		}
		stored, err := e.store.GetMark(t.Context(), "mk-fixture")
		if err != nil || stored.Body.Status != domain.MarkActive {
			t.Fatalf("mark %+v, %v; want active", stored, err)
		}
		events := markEvents(t, e)
		if len(events) != 1 || events[0].Key != "mk-fixture" || events[0].EventID != "mark:mk-fixture:1" {
			t.Fatalf("marks events %+v, want one for mk-fixture at version 1", events)
		}
		var published domain.Mark
		if err := json.Unmarshal(events[0].Payload, &published); err != nil || !published.Active() || len(published.ImageHashes) != 1 {
			t.Errorf("published %+v, %v; want the active mark with its image hashes", published, err)
		}
		created, err = e.api.RegisterVerified(t.Context(), m, "Fixtura S.A.", "markwatch-dev")
		if err != nil || created {
			t.Errorf("second RegisterVerified: %v, %v; want nothing created", created, err)
		}
		if n := len(markEvents(t, e)); n != 1 {
			t.Errorf("%d marks events after the second registration, want 1", n)
		}
	})
}
