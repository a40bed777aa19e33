package marks

import (
	"cmp"
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
	reasonDecode = "decode" // the value is not a valid domain.Mark
	reasonKey    = "key"    // the key is empty or is not the mark's mark_id
)

// update is one decoded record of the marks topic.
type update struct {
	partition int
	offset    int64
	key       string
	kind      updateKind
	mark      *domain.Mark // set for kindUpsert only
	reason    string       // set for kindInvalid only
	err       error        // set for kindInvalid only
}

// decodeUpdate classifies one record. kafka-go returns a nil Value for both a
// null and an empty value, and an empty value cannot be a mark anyway, so any
// empty value is a tombstone. A record is only acted on when its key is the
// mark's id: a mismatch would leave the compacted topic holding the mark under
// a key that a later tombstone for mark_id does not delete.
func decodeUpdate(key, value []byte, lim domain.Limits) update {
	u := update{key: string(key)}
	if len(key) == 0 {
		u.kind, u.reason, u.err = kindInvalid, reasonKey, errors.New("empty key")
		return u
	}
	if len(value) == 0 {
		u.kind = kindRemove
		return u
	}
	m, err := domain.DecodeMark(value, lim)
	if err != nil {
		u.kind, u.reason, u.err = kindInvalid, reasonDecode, fmt.Errorf("decode mark: %w", err)
		return u
	}
	if m.MarkID != u.key {
		u.kind, u.reason, u.err = kindInvalid, reasonKey, fmt.Errorf("key %q is not the mark_id %q", u.key, m.MarkID)
		return u
	}
	if !m.Active() {
		u.kind = kindRemove
		return u
	}
	u.kind, u.mark = kindUpsert, m
	return u
}

// markSet is the set of active marks by mark_id, as the records read so far
// leave it. It is owned by the follower's loop and never shared.
type markSet map[string]*domain.Mark

// apply applies u and reports whether the set changed, so that an identical
// re-publish (a registry that re-sends every mark periodically) or a
// tombstone for a mark never seen does not cost a rebuild. An invalid update
// changes nothing: the last good version of the mark stays.
func (s markSet) apply(u update) bool {
	switch u.kind {
	case kindUpsert:
		if old, ok := s[u.key]; ok && reflect.DeepEqual(old, u.mark) {
			return false
		}
		s[u.key] = u.mark
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

// active returns the marks in mark_id order, so that the same set always
// builds the same engine. The marks are shared with the set, not copied:
// decoded marks are never modified, and Build must not modify them either.
func (s markSet) active() []*domain.Mark {
	out := make([]*domain.Mark, 0, len(s))
	for _, m := range s {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *domain.Mark) int { return cmp.Compare(a.MarkID, b.MarkID) })
	return out
}
