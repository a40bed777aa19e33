package sweep

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/pipeline/detect"
)

func TestDecodeRecord(t *testing.T) {
	good := `{"schema_version":1,"pass_id":"p1","started_at":"2026-01-02T03:04:05Z","marks":[{"mark_id":"m1","fingerprint":"f"}],"partitions":[{"partition":0,"start":1,"end":9,"next":5}]}`
	cases := []struct {
		name, key, value string
		want             string // "" for a valid record, else part of the error
		pass, mark       bool
	}{
		{"pass", "pass", good, "", true, false},
		{"pass tombstone", "pass", "", "", false, false},
		{"mark", "mark/m1", `{"schema_version":1,"mark_id":"m1","fingerprint":"f","swept_at":"2026-01-02T03:04:05Z","pass_id":"p1"}`, "", false, true},
		{"mark tombstone", "mark/m1", "", "", false, false},
		{"mark of another key", "mark/m2", `{"schema_version":1,"mark_id":"m1","fingerprint":"f","swept_at":"2026-01-02T03:04:05Z","pass_id":"p1"}`, "not the key's", false, false},
		{"mark without fingerprint", "mark/m1", `{"schema_version":1,"mark_id":"m1","swept_at":"2026-01-02T03:04:05Z","pass_id":"p1"}`, "fingerprint", false, false},
		{"unknown key", "other", `{}`, "unknown key", false, false},
		{"empty mark id", "mark/", `{}`, "unknown key", false, false},
		{"unknown field", "pass", strings.Replace(good, `"pass_id"`, `"colour":1,"pass_id"`, 1), "unknown field", false, false},
		{"trailing data", "pass", good + `{}`, "after the value", false, false},
		{"next before start", "pass", strings.Replace(good, `"next":5`, `"next":0`, 1), "start <= next <= end", false, false},
		{"next after end", "pass", strings.Replace(good, `"next":5`, `"next":10`, 1), "start <= next <= end", false, false},
		{"no marks", "pass", strings.Replace(good, `[{"mark_id":"m1","fingerprint":"f"}]`, `[]`, 1), "marks", false, false},
		{"repeated partition", "pass", strings.Replace(good, `"next":5}]`, `"next":5},{"partition":0,"start":1,"end":9,"next":5}]`, 1), "repeated", false, false},
		{"schema version", "pass", strings.Replace(good, `"schema_version":1`, `"schema_version":2`, 1), "schema_version", false, false},
		{"not JSON", "pass", `{`, "decode", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeRecord([]byte(tc.key), []byte(tc.value))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (r.pass != nil) != tc.pass || (r.mark != nil) != tc.mark {
				t.Errorf("pass %v mark %v, want %v %v", r.pass != nil, r.mark != nil, tc.pass, tc.mark)
			}
		})
	}
}

// FuzzDecodeRecord: no input panics, and whatever is accepted is a record
// the sweeper can act on safely and writes back the same.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte("pass"), []byte(`{"schema_version":1,"pass_id":"p","started_at":"2026-01-02T03:04:05Z","marks":[{"mark_id":"m","fingerprint":"f"}],"partitions":[{"partition":0,"start":0,"end":3,"next":1}]}`))
	f.Add([]byte("mark/m"), []byte(`{"schema_version":1,"mark_id":"m","fingerprint":"f","swept_at":"2026-01-02T03:04:05Z","pass_id":"p"}`))
	f.Add([]byte("mark/m"), []byte{})
	f.Add([]byte("\xff"), []byte(`{}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := decodeRecord(key, value)
		if err != nil {
			return
		}
		if r.pass != nil {
			if err := r.pass.validate(); err != nil {
				t.Fatalf("accepted an invalid pass: %v", err)
			}
			if r.pass.left() < 0 || r.pass.left() > r.pass.total() {
				t.Fatalf("left %d of %d", r.pass.left(), r.pass.total())
			}
			again, err := json.Marshal(r.pass)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeRecord(key, again); err != nil {
				t.Fatalf("re-encoded pass refused: %v", err)
			}
		}
		if r.mark != nil && "mark/"+r.mark.MarkID != string(key) {
			t.Fatalf("mark %q under key %q", r.mark.MarkID, key)
		}
	})
}

func TestFingerprint(t *testing.T) {
	base := quillora()
	same := Fingerprint(base)
	th := 0.4
	cases := []struct {
		name    string
		edit    func(m *domain.Mark)
		changes bool
	}{
		{"variant", func(m *domain.Mark) { m.Variants = []string{"奎洛拉"} }, true},
		{"logo", func(m *domain.Mark) { m.Logos = []string{"https://x/logo.png"} }, true},
		{"official image", func(m *domain.Mark) { m.OfficialImages = []string{"https://x/p.jpg"} }, true},
		{"image hash", func(m *domain.Mark) {
			m.ImageHashes = []domain.ImageHash{{Kind: "logo", URL: "u", Hashes: []string{"0123456789abcdef"}}}
		}, true},
		{"threshold", func(m *domain.Mark) { m.Threshold = &th }, true},
		{"name", func(m *domain.Mark) { m.Name = "Quilora" }, true},
		{"reference price", func(m *domain.Mark) { m.ReferencePrices[0].Amount = "950.00" }, false},
		{"authorized seller", func(m *domain.Mark) { m.AuthorizedSellers = []string{"s-1"} }, false},
		{"registration", func(m *domain.Mark) { m.Registration.Number = "1" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := quillora()
			tc.edit(m)
			if got := Fingerprint(m) != same; got != tc.changes {
				t.Errorf("fingerprint changed %v, want %v", got, tc.changes)
			}
		})
	}
}

func TestStateDiff(t *testing.T) {
	q, v := quillora(), veltaro()
	st := &state{swept: map[string]string{"m-quillora": Fingerprint(q), "m-gone": "x"}}
	pending, removed := st.diff([]*domain.Mark{q, v})
	if len(pending) != 1 || pending[0].MarkID != "m-veltaro" {
		t.Errorf("pending %v, want m-veltaro only", pending)
	}
	if !slices.Equal(removed, []string{"m-gone"}) {
		t.Errorf("removed %v, want m-gone", removed)
	}
	// A mark in the pass under way with the same fingerprint is not pending
	// twice; with another fingerprint it is.
	st.pass = &passRecord{Marks: []passMark{{MarkID: "m-veltaro", Fingerprint: Fingerprint(v)}}}
	if pending, _ := st.diff([]*domain.Mark{q, v}); len(pending) != 0 {
		t.Errorf("pending %v while its pass runs", pending)
	}
	v2 := veltaro()
	v2.Variants = []string{"Velt4ro"}
	if pending, _ := st.diff([]*domain.Mark{q, v2}); len(pending) != 1 {
		t.Errorf("a mark changed during its pass is not pending: %v", pending)
	}
}

// TestLenientDecodeFilesTheSame: the sweep's plain decode, with the strict
// decode only before filing, files exactly the complaints that decoding
// every record strictly first would, on valid records and on each way a
// record can be invalid.
func TestLenientDecodeFilesTheSame(t *testing.T) {
	eng, err := detection.BuildDomain([]*domain.Mark{quillora()}, detection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	sc := &scorer{eng: eng, topic: "complaints", rule: eng.Options().RuleVersion, limits: domain.Limits{}.WithDefaults(), now: now}
	good := `{"schema_version":1,"listing_id":"l-1","version":2,"seller_id":"s","title":"Quillora bag replica 1:1","price":{"amount":"79.00","currency":"EUR"}}`
	records := map[string]string{
		"flagged":            good,
		"clean":              strings.Replace(good, "Quillora", "Brown", 1),
		"case-mismatch key":  strings.Replace(good, `"title"`, `"Title"`, 1),
		"duplicate key":      strings.Replace(good, `"title":`, `"title":"plain bag","title":`, 1),
		"invalid UTF-8":      strings.Replace(good, "bag", "b\xffg", 1),
		"unknown field":      strings.Replace(good, `"seller_id"`, `"colour":"red","seller_id"`, 1),
		"trailing data":      good + ` {}`,
		"negative version":   strings.Replace(good, `"version":2`, `"version":-2`, 1),
		"missing seller":     strings.Replace(good, `"seller_id":"s",`, ``, 1),
		"bad price":          strings.Replace(good, `"79.00"`, `"7,9"`, 1),
		"oversize":           strings.Replace(good, "replica 1:1", "replica 1:1 "+strings.Repeat("x", 300_000), 1),
		"not JSON":           `{"schema_version":1,`,
		"other key":          good, // produced under another key, below
		"nested unknown":     strings.Replace(good, `"currency":"EUR"`, `"currency":"EUR","tax":1`, 1),
		"title too long":     strings.Replace(good, "replica 1:1", "replica 1:1 "+strings.Repeat("y ", 1000), 1),
		"schema version 9":   strings.Replace(good, `"schema_version":1`, `"schema_version":9`, 1),
		"time not RFC 3339":  strings.Replace(good, `"seller_id"`, `"created_at":"yesterday","seller_id"`, 1),
		"fractional version": strings.Replace(good, `"version":2`, `"version":2.5`, 1),
	}
	for name, value := range records {
		t.Run(name, func(t *testing.T) {
			key := "l-1"
			if name == "other key" {
				key = "l-2"
			}
			m := kafka.Message{Key: []byte(key), Value: []byte(value)}
			_, got, err := sc.score(t.Context(), m)
			if err != nil {
				t.Fatal(err)
			}
			// The reference: strict decoding first, as the live detector does.
			var want []kafka.Message
			if l, err := domain.DecodeListing(m.Value, sc.limits); err == nil && l.ListingID == key {
				p := matchers.NewListing(l)
				results, err := eng.Score(t.Context(), p)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range results {
					if r.Flagged {
						msg, err := detect.ComplaintMessage(sc.topic, domain.SourceSweep, l, p, r, sc.rule, now())
						if err != nil {
							t.Fatal(err)
						}
						want = append(want, msg)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d complaints, want %d", len(got), len(want))
			}
			for i := range got {
				if string(got[i].Value) != string(want[i].Value) || string(got[i].Key) != string(want[i].Key) {
					t.Errorf("complaint %d:\n got %s\nwant %s", i, got[i].Value, want[i].Value)
				}
			}
		})
	}
	// The test proves something only if the valid record is flagged.
	if _, got, _ := sc.score(t.Context(), kafka.Message{Key: []byte("l-1"), Value: []byte(good)}); len(got) != 1 {
		t.Fatalf("the valid counterfeit listing filed %d complaints, want 1", len(got))
	}
}

// TestGathering: marks changed together wait for quiet; a mark joins a
// pass only after settle; a trickle of changes cannot postpone a pending
// mark beyond 3·settle; a mark changed again starts over.
func TestGathering(t *testing.T) {
	const settle = time.Second
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	st := &state{swept: map[string]string{}}
	q, v := quillora(), veltaro()
	var g gathering

	// Just changed: nothing yet, wake at t0+settle.
	ready, d := g.update(st, []*domain.Mark{q}, t0, t0, settle)
	if len(ready) != 0 || d != settle {
		t.Fatalf("at once: ready %d, wait %s", len(ready), d)
	}
	// Another mark changes half-way: q is not ready before quiet.
	ready, d = g.update(st, []*domain.Mark{q, v}, t0.Add(settle/2), t0.Add(settle/2), settle)
	if len(ready) != 0 || d != settle/2 {
		t.Fatalf("half-way: ready %d, wait %s", len(ready), d)
	}
	// Quiet for settle after the last change: both go, in one pass.
	ready, _ = g.update(st, []*domain.Mark{q, v}, t0.Add(settle/2), t0.Add(3*settle/2), settle)
	if len(ready) != 2 {
		t.Fatalf("after quiet: ready %d, want 2", len(ready))
	}

	// A trickle: v changes again every half settle; q, pending since t0,
	// goes at t0+3·settle without v, whose latest change is too young.
	g = gathering{}
	now := t0
	g.update(st, []*domain.Mark{q}, now, now, settle)
	for i := 1; ; i++ {
		now = t0.Add(time.Duration(i) * settle / 2)
		vi := veltaro()
		vi.Variants = []string{fmt.Sprint("v", i)}
		ready, _ = g.update(st, []*domain.Mark{q, vi}, now, now, settle)
		if len(ready) > 0 {
			break
		}
		if now.Sub(t0) > 3*settle {
			t.Fatal("a trickle of changes postponed the pending mark past 3·settle")
		}
	}
	if len(ready) != 1 || ready[0].MarkID != q.MarkID {
		t.Errorf("ready %v, want the quillora mark only", ready)
	}
}
