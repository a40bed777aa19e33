package marks

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/markwatch/markwatch/internal/domain"
)

// updateKind is what one record of the marks topic does to the mark set.
type updateKind int

const (
	// kindUpsert adds or replaces an active mark.
	kindUpsert updateKind = iota
	// kindRemove stops watching a mark: a tombstone or a non-active status.
	kindRemove
	// kindInvalid changes nothing: the record could not be used.
	kindInvalid
)

// String is the value of the kind label of markwatch_marks_updates_total.
func (k updateKind) String() string {
	switch k {
	case kindUpsert:
		return "upsert"
	case kindRemove:
		return "remove"
	case kindInvalid:
		return "invalid"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Reasons a record is invalid: the reason label of markwatch_marks_invalid_total.
const (
	reasonDecode = "decode" // the value is not a valid record
	reasonKey    = "key"    // the key is empty or is not the record's id
)

// update is one decoded record of the topic.
type update[V any] struct {
	partition int
	offset    int64
	key       string
	kind      updateKind
	value     V      // set for kindUpsert only
	reason    string // set for kindInvalid only
	err       error  // set for kindInvalid only
}

// decodeMark is the Decode of the marks topic.
func decodeMark(value []byte, lim domain.Limits) (*domain.Mark, string, bool, error) {
	m, err := domain.DecodeMark(value, lim)
	if err != nil {
		return nil, "", false, fmt.Errorf("decode mark: %w", err)
	}
	return m, m.MarkID, m.Active(), nil
}

// decodeUpdate classifies one record of the marks topic.
func decodeUpdate(key, value []byte, lim domain.Limits) update[*domain.Mark] {
	return decodeRecord(key, value, lim, decodeMark)
}

// decodeRecord classifies one record. kafka-go returns a nil Value for both
// a null and an empty value, and an empty value cannot be a record anyway,
// so any empty value is a tombstone. A record is only acted on when its key
// is the record's id: a mismatch would leave the compacted topic holding
// the record under a key that a later tombstone for the id does not delete.
func decodeRecord[V any](key, value []byte, lim domain.Limits, decode func([]byte, domain.Limits) (V, string, bool, error)) update[V] {
	u := update[V]{key: string(key)}
	if len(key) == 0 {
		u.kind, u.reason, u.err = kindInvalid, reasonKey, errors.New("empty key")
		return u
	}
	if len(value) == 0 {
		u.kind = kindRemove
		return u
	}
	v, id, live, err := decode(value, lim)
	if err != nil {
		u.kind, u.reason, u.err = kindInvalid, reasonDecode, err
		return u
	}
	if id != u.key {
		u.kind, u.reason, u.err = kindInvalid, reasonKey, fmt.Errorf("key %q is not the id %q", u.key, id)
		return u
	}
	if !live {
		u.kind = kindRemove
		return u
	}
	u.kind, u.value = kindUpsert, v
	return u
}

// recordSet is the set of live records by key, as the records read so far
// leave it. It is owned by the follower's loop and never shared.
type recordSet[V any] map[string]V

// markSet is the record set of the marks topic.
type markSet = recordSet[*domain.Mark]

// apply applies u and reports whether the set changed, so that an identical
// re-publish (a registry that re-sends every mark periodically) or a
// tombstone for a record never seen does not cost a rebuild. An invalid
// update changes nothing: the last good version of the record stays.
func (s recordSet[V]) apply(u update[V]) bool {
	switch u.kind {
	case kindUpsert:
		if old, ok := s[u.key]; ok && reflect.DeepEqual(old, u.value) {
			return false
		}
		s[u.key] = u.value
		return true
	case kindRemove:
		if _, ok := s[u.key]; !ok {
			return false
		}
		delete(s, u.key)
		return true
	}
	return false
}

// active returns the records in key order, so that the same set always
// builds the same engine. The records are shared with the set, not copied:
// decoded records are never modified, and Build must not modify them either.
func (s recordSet[V]) active() []V {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = s[k]
	}
	return out
}
