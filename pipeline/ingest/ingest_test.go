package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// memIngester stores complaints in a map, failing while fail is set.
type memIngester struct {
	got  map[string]*domain.Complaint
	fail error
}

func (m *memIngester) Ingest(_ context.Context, c *domain.Complaint) (bool, error) {
	if m.fail != nil {
		return false, m.fail
	}
	if _, ok := m.got[c.ComplaintID]; ok {
		return false, nil
	}
	m.got[c.ComplaintID] = c
	return true, nil
}

var errInvalid = errors.New("invalid")

func complaint(id, listing string) []byte {
	b, _ := json.Marshal(domain.Complaint{
		SchemaVersion: 1, ComplaintID: id, Source: domain.SourceAuto, ListingID: listing,
		MarkID: "m1", Score: 0.9, Explanation: "because",
	})
	return b
}

func TestHandler(t *testing.T) {
	m := &memIngester{got: map[string]*domain.Complaint{}}
	h := Handler(m, domain.Limits{}, func(err error) bool { return errors.Is(err, errInvalid) })
	ctx := context.Background()
	for range 2 { // a redelivery stores nothing new
		if out, err := h(ctx, kafka.Message{Key: []byte("l1"), Value: complaint("c1", "l1")}); err != nil || out != nil {
			t.Fatalf("out %v err %v", out, err)
		}
	}
	if len(m.got) != 1 {
		t.Fatalf("%d stored", len(m.got))
	}
	cases := []struct {
		name  string
		msg   kafka.Message
		class string
	}{
		{"bad json", kafka.Message{Value: []byte("{")}, pipeline.ClassDecode},
		{"missing source", kafka.Message{Value: []byte(`{"schema_version":1,"complaint_id":"c","listing_id":"l","mark_id":"m","score":1,"explanation":""}`)}, pipeline.ClassValidation},
		{"key differs", kafka.Message{Key: []byte("other"), Value: complaint("c2", "l2")}, pipeline.ClassValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h(ctx, tc.msg)
			var pe *pipeline.PermanentError
			if !errors.As(err, &pe) || pe.Class != tc.class {
				t.Fatalf("err %v, want permanent %s", err, tc.class)
			}
		})
	}
	m.fail = errors.New("database is down")
	if _, err := h(ctx, kafka.Message{Value: complaint("c3", "l3")}); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("a store failure must be transient, got %v", err)
	}
	m.fail = errInvalid
	if _, err := h(ctx, kafka.Message{Value: complaint("c4", "l4")}); !pipeline.IsPermanent(err) {
		t.Fatalf("an invalid complaint must be permanent, got %v", err)
	}
	// A refusal by a rule (the review service's InvalidError with a Rule)
	// is dead-lettered under its own class.
	m.fail = fmt.Errorf("ingest: %w", refused{rule: "mark_not_active"})
	var pe *pipeline.PermanentError
	if _, err := h(ctx, kafka.Message{Value: complaint("c5", "l5")}); !errors.As(err, &pe) || pe.Class != ClassRefused {
		t.Fatalf("a refused complaint: %v, want permanent %s", err, ClassRefused)
	}
}

// refused is an invalid error naming a rule, as review.InvalidError does.
type refused struct{ rule string }

func (r refused) Error() string     { return "refused by " + r.rule }
func (r refused) RefusedBy() string { return r.rule }
func (r refused) Unwrap() error     { return errInvalid }

func FuzzHandler(f *testing.F) {
	f.Add([]byte("l1"), complaint("c1", "l1"))
	f.Add([]byte(""), []byte("{}"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		m := &memIngester{got: map[string]*domain.Complaint{}}
		_, err := Handler(m, domain.Limits{}, nil)(context.Background(), kafka.Message{Key: key, Value: value})
		if err != nil && !pipeline.IsPermanent(err) {
			t.Fatalf("bad input gave a transient error: %v", err)
		}
	})
}
