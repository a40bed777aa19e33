package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

func testMark(id, holder string) *domain.Mark {
	th := 0.8
	return &domain.Mark{
		SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: holder, Name: "Acme",
		Variants:     []string{"ACME"},
		Registration: domain.Registration{Office: "EUIPO", Number: "0001", Jurisdictions: []string{"EU"}, Classes: []int{25}},
		Threshold:    &th, Status: domain.MarkPending,
	}
}

func testMarks(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if err := s.WithTx(ctx, func(tx *Tx) error {
		for _, h := range []string{"h_1", "h_2"} {
			if _, err := tx.CreateHolder(ctx, Holder{ID: h, Name: h}); err != nil {
				return err
			}
		}
		for _, m := range []*domain.Mark{testMark("m_1", "h_1"), testMark("m_2", "h_2"), testMark("m_3", "h_1")} {
			if _, err := tx.CreateMark(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	got, err := s.GetMark(ctx, "m_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := testMark("m_1", "h_1"); !reflect.DeepEqual(&got.Body, want) {
		t.Errorf("got %+v, want %+v", got.Body, want)
	}
	if got.Version != 1 || !got.CreatedAt.Equal(testNow) {
		t.Errorf("version %d created %v", got.Version, got.CreatedAt)
	}
	if _, err := s.GetMark(ctx, "m_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing mark: %v, want ErrNotFound", err)
	}

	create := func(m *domain.Mark) error {
		return s.WithTx(ctx, func(tx *Tx) error { _, err := tx.CreateMark(ctx, m); return err })
	}
	if err := create(testMark("m_1", "h_1")); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate mark: %v, want ErrConflict", err)
	}
	if err := create(testMark("m_9", "h_missing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown holder: %v, want ErrNotFound", err)
	}

	list := []struct {
		name string
		q    MarkQuery
		want []string
	}{
		{"all", MarkQuery{}, []string{"m_1", "m_2", "m_3"}},
		{"one holder", MarkQuery{HolderID: "h_1"}, []string{"m_1", "m_3"}},
		{"cursor", MarkQuery{HolderID: "h_1", AfterID: "m_1"}, []string{"m_3"}},
		{"limit", MarkQuery{Limit: 2}, []string{"m_1", "m_2"}},
		{"no such holder", MarkQuery{HolderID: "h_x"}, nil},
	}
	for _, tc := range list {
		t.Run(tc.name, func(t *testing.T) {
			marks, err := s.ListMarks(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range marks {
				ids = append(ids, m.Body.MarkID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}

	setStatus := func(from, to string) (Mark, error) {
		var m Mark
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			m, err = tx.SetMarkStatus(ctx, "m_1", from, to)
			return err
		})
		return m, err
	}
	m, err := setStatus(domain.MarkPending, domain.MarkActive)
	if err != nil {
		t.Fatal(err)
	}
	if m.Body.Status != domain.MarkActive || m.Version != 2 {
		t.Errorf("after verify: status %s version %d", m.Body.Status, m.Version)
	}
	if _, err := setStatus(domain.MarkPending, domain.MarkActive); !errors.Is(err, ErrConflict) {
		t.Errorf("stale from: %v, want ErrConflict", err)
	}
	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.SetMarkStatus(ctx, "m_missing", domain.MarkPending, domain.MarkActive)
		return err
	}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing mark: %v, want ErrNotFound", err)
	}
	if got, _ := s.GetMark(ctx, "m_1"); got.Body.Status != domain.MarkActive {
		t.Errorf("stored status %s", got.Body.Status)
	}

	add := func(hashes ...domain.ImageHash) Mark {
		t.Helper()
		var m Mark
		if err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			m, err = tx.AddMarkImages(ctx, "m_1", hashes)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	logo := domain.ImageHash{Kind: "logo", URL: "upload:aa", Hashes: []string{"00000000000000ff"}}
	photo := domain.ImageHash{Kind: "official", URL: "upload:bb", Hashes: []string{"ff00000000000000"}}
	m = add(logo)
	if m.Version != 3 || !reflect.DeepEqual(m.Body.ImageHashes, []domain.ImageHash{logo}) {
		t.Errorf("after first add: version %d hashes %+v", m.Version, m.Body.ImageHashes)
	}
	m = add(logo, photo)
	if m.Version != 4 || !reflect.DeepEqual(m.Body.ImageHashes, []domain.ImageHash{logo, photo}) {
		t.Errorf("after second add: version %d hashes %+v", m.Version, m.Body.ImageHashes)
	}
	m = add(photo)
	if m.Version != 4 || len(m.Body.ImageHashes) != 2 {
		t.Errorf("re-adding changed the mark: version %d hashes %+v", m.Version, m.Body.ImageHashes)
	}
	stored, err := s.GetMark(ctx, "m_1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, m) {
		t.Errorf("stored %+v, returned %+v", stored, m)
	}
}
