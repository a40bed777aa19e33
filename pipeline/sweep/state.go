package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
)

// Keys of the sweeps topic.
const (
	// keyPass holds the pass under way; a tombstone once it is done.
	keyPass = "pass"
	// keyMarkPrefix + mark_id holds the fingerprint the mark was last
	// swept at; a tombstone once the mark is no longer active.
	keyMarkPrefix = "mark/"
	// recordVersion is the schema_version of the records this build writes.
	recordVersion = 1
	// maxRecordBytes caps one record of the sweeps topic.
	maxRecordBytes = 1 << 20
)

// passRecord is the value under keyPass: one pass's marks and range, and
// how far each partition has been swept.
type passRecord struct {
	SchemaVersion int       `json:"schema_version"`
	PassID        string    `json:"pass_id"`
	StartedAt     time.Time `json:"started_at"`
	// Since is the look-back start the range was looked up for (zero:
	// the first offset retained).
	Since      time.Time           `json:"since,omitzero"`
	Marks      []passMark          `json:"marks"`
	Partitions []partitionProgress `json:"partitions"`
}

// passMark is one mark of a pass, with the fingerprint it had when the
// pass started: that is what is recorded as swept when the pass ends.
type passMark struct {
	MarkID      string `json:"mark_id"`
	Fingerprint string `json:"fingerprint"`
}

// partitionProgress is one partition's range [Start, End) of a pass and
// Next, the first offset not yet swept: every complaint of the records
// before Next has been acknowledged.
type partitionProgress struct {
	Partition int   `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
	Next      int64 `json:"next"`
}

// markRecord is the value under keyMarkPrefix+mark_id.
type markRecord struct {
	SchemaVersion int       `json:"schema_version"`
	MarkID        string    `json:"mark_id"`
	Fingerprint   string    `json:"fingerprint"`
	SweptAt       time.Time `json:"swept_at"`
	PassID        string    `json:"pass_id"`
}

// left is the number of offsets of the pass not yet swept.
func (p *passRecord) left() int64 {
	var n int64
	for _, pp := range p.Partitions {
		n += pp.End - pp.Next
	}
	return n
}

// total is the number of offsets in the pass's range.
func (p *passRecord) total() int64 {
	var n int64
	for _, pp := range p.Partitions {
		n += pp.End - pp.Start
	}
	return n
}

// markIDs lists the pass's mark ids, for logs.
func (p *passRecord) markIDs() []string {
	out := make([]string, len(p.Marks))
	for i, m := range p.Marks {
		out[i] = m.MarkID
	}
	return out
}

// Fingerprint identifies what of a mark decides which listings it finds:
// its name, variants, logos, official images, their hashes and its
// threshold. A mark whose fingerprint changes is swept again; other edits
// (prices, categories, sellers, look-alikes, registration) are not, since
// they mostly narrow what is found and the live stream applies them from
// then on.
func Fingerprint(m *domain.Mark) string {
	v := struct {
		Name           string             `json:"n"`
		Variants       []string           `json:"v"`
		Logos          []string           `json:"l"`
		OfficialImages []string           `json:"o"`
		ImageHashes    []domain.ImageHash `json:"h"`
		Threshold      *float64           `json:"t"`
	}{m.Name, m.Variants, m.Logos, m.OfficialImages, m.ImageHashes, m.Threshold}
	b, _ := json.Marshal(v) // plain strings, numbers and slices: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// record is one decoded record of the sweeps topic: a pass, a mark, or a
// tombstone of either (both nil).
type record struct {
	key  string
	pass *passRecord
	mark *markRecord
}

// decodeRecord decodes one record of the sweeps topic strictly: unknown
// fields, trailing data, a wrong key or an inconsistent range are errors.
// The topic is written by markwatch only, but a bad record must never make
// the sweeper skip listings it has not swept, so anything odd is refused
// and the caller starts that state afresh.
func decodeRecord(key, value []byte) (record, error) {
	r := record{key: string(key)}
	if !utf8.Valid(key) {
		return r, errors.New("key is not UTF-8")
	}
	if len(value) > maxRecordBytes {
		return r, fmt.Errorf("value of %d bytes is over the %d-byte cap", len(value), maxRecordBytes)
	}
	switch {
	case r.key == keyPass:
		if len(value) == 0 {
			return r, nil
		}
		var p passRecord
		if err := strictJSON(value, &p); err != nil {
			return r, err
		}
		if err := p.validate(); err != nil {
			return r, err
		}
		r.pass = &p
	case strings.HasPrefix(r.key, keyMarkPrefix) && len(r.key) > len(keyMarkPrefix):
		if len(value) == 0 {
			return r, nil
		}
		var m markRecord
		if err := strictJSON(value, &m); err != nil {
			return r, err
		}
		switch {
		case m.SchemaVersion != recordVersion:
			return r, fmt.Errorf("schema_version %d, want %d", m.SchemaVersion, recordVersion)
		case m.MarkID != strings.TrimPrefix(r.key, keyMarkPrefix):
			return r, fmt.Errorf("mark_id %q is not the key's", m.MarkID)
		case m.Fingerprint == "":
			return r, errors.New("fingerprint: required")
		}
		r.mark = &m
	default:
		return r, fmt.Errorf("unknown key %q", truncate(r.key))
	}
	return r, nil
}

func (p *passRecord) validate() error {
	switch {
	case p.SchemaVersion != recordVersion:
		return fmt.Errorf("schema_version %d, want %d", p.SchemaVersion, recordVersion)
	case p.PassID == "":
		return errors.New("pass_id: required")
	case len(p.Marks) == 0:
		return errors.New("marks: at least one is required")
	}
	for i, m := range p.Marks {
		if m.MarkID == "" || m.Fingerprint == "" {
			return fmt.Errorf("marks[%d]: mark_id and fingerprint are required", i)
		}
	}
	seen := map[int]bool{}
	for i, pp := range p.Partitions {
		switch {
		case pp.Partition < 0 || seen[pp.Partition]:
			return fmt.Errorf("partitions[%d]: partition %d is negative or repeated", i, pp.Partition)
		case pp.Start < 0 || pp.Start > pp.Next || pp.Next > pp.End:
			return fmt.Errorf("partitions[%d]: want 0 <= start <= next <= end, got %d, %d, %d", i, pp.Start, pp.Next, pp.End)
		}
		seen[pp.Partition] = true
	}
	return nil
}

// strictJSON decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return errors.New("decode: data after the value")
	}
	return nil
}

// truncate bounds an untrusted string before it is logged.
func truncate(s string) string {
	const maxLogged = 200
	if len(s) > maxLogged {
		return s[:maxLogged] + "…"
	}
	return s
}

// state is what the sweeps topic says: the fingerprint each mark was last
// swept at, and the pass under way, if any.
type state struct {
	swept   map[string]string // mark_id -> fingerprint
	pass    *passRecord
	records int // records read from the topic, tombstones and bad ones included
	// fps memoizes Fingerprint by mark: marks are immutable and shared
	// from one Observe to the next, so each is hashed once.
	fps map[*domain.Mark]string
}

// fingerprint is Fingerprint through the memo.
func (s *state) fingerprint(m *domain.Mark) string {
	if fp, ok := s.fps[m]; ok {
		return fp
	}
	if s.fps == nil {
		s.fps = map[*domain.Mark]string{}
	}
	fp := Fingerprint(m)
	s.fps[m] = fp
	return fp
}

// empty reports whether the sweeps topic held no record at all: a
// deployment's first start.
func (s *state) empty() bool { return s.records == 0 }

// apply folds one decoded record into the state.
func (s *state) apply(r record) {
	switch {
	case r.key == keyPass:
		s.pass = r.pass
	case r.mark != nil:
		s.swept[r.mark.MarkID] = r.mark.Fingerprint
	default:
		delete(s.swept, strings.TrimPrefix(r.key, keyMarkPrefix))
	}
}

// diff compares the active marks with what was swept: the marks to sweep
// (new, or changed since they were swept, and not in the pass under way
// with the same fingerprint), and the swept marks no longer active.
func (s *state) diff(active []*domain.Mark) (pending []*domain.Mark, removed []string) {
	inPass := map[string]string{}
	if s.pass != nil {
		for _, m := range s.pass.Marks {
			inPass[m.MarkID] = m.Fingerprint
		}
	}
	ids := make(map[string]bool, len(active))
	fps := make(map[*domain.Mark]string, len(active))
	for _, m := range active {
		ids[m.MarkID] = true
		fp := s.fingerprint(m)
		fps[m] = fp
		if s.swept[m.MarkID] == fp || inPass[m.MarkID] == fp {
			continue
		}
		pending = append(pending, m)
	}
	s.fps = fps // forget the marks of earlier sets
	for id := range s.swept {
		if !ids[id] {
			removed = append(removed, id)
		}
	}
	slices.Sort(removed)
	return pending, removed
}
