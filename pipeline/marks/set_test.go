package marks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

// markValue is the JSON of a minimal valid mark.
func markValue(t testing.TB, id, name, status string) []byte {
	t.Helper()
	b, err := json.Marshal(domain.Mark{
		SchemaVersion: domain.SchemaVersion,
		MarkID:        id,
		HolderID:      "h-" + id,
		Name:          name,
		Status:        status,
	})
	if err != nil {
		t.Fatalf("marshal mark %s: %v", id, err)
	}
	return b
}

// record is one message of the marks topic.
type record struct {
	key, value []byte
}

func TestDecodeUpdate(t *testing.T) {
	tests := []struct {
		name       string
		key, value []byte
		wantKind   updateKind
		wantReason string
		wantErr    string // part of the error, for invalid records
	}{
		{name: "active mark", key: []byte("m-a"), value: markValue(t, "m-a", "Acme", domain.MarkActive), wantKind: kindUpsert},
		{name: "nil value is a tombstone", key: []byte("m-a"), value: nil, wantKind: kindRemove},
		{name: "empty value is a tombstone", key: []byte("m-a"), value: []byte{}, wantKind: kindRemove},
		{name: "suspended", key: []byte("m-a"), value: markValue(t, "m-a", "Acme", domain.MarkSuspended), wantKind: kindRemove},
		{name: "pending", key: []byte("m-a"), value: markValue(t, "m-a", "Acme", domain.MarkPending), wantKind: kindRemove},
		{name: "removed", key: []byte("m-a"), value: markValue(t, "m-a", "Acme", domain.MarkRemoved), wantKind: kindRemove},
		{name: "bad JSON", key: []byte("m-a"), value: []byte(`{"mark_id":`), wantKind: kindInvalid, wantReason: reasonDecode, wantErr: "decode mark"},
		{name: "whitespace value is not a tombstone", key: []byte("m-a"), value: []byte(" "), wantKind: kindInvalid, wantReason: reasonDecode},
		{name: "unknown field", key: []byte("m-a"), value: []byte(`{"schema_version":1,"mark_id":"m-a","holder_id":"h","name":"A","status":"active","x":1}`),
			wantKind: kindInvalid, wantReason: reasonDecode, wantErr: "x"},
		{name: "unknown status", key: []byte("m-a"), value: markValue(t, "m-a", "Acme", "paused"), wantKind: kindInvalid, wantReason: reasonDecode, wantErr: "status"},
		{name: "key is not mark_id", key: []byte("m-b"), value: markValue(t, "m-a", "Acme", domain.MarkActive),
			wantKind: kindInvalid, wantReason: reasonKey, wantErr: `"m-b" is not the id "m-a"`},
		{name: "key mismatch on a suspension", key: []byte("m-b"), value: markValue(t, "m-a", "Acme", domain.MarkSuspended),
			wantKind: kindInvalid, wantReason: reasonKey},
		{name: "empty key", key: nil, value: markValue(t, "m-a", "Acme", domain.MarkActive), wantKind: kindInvalid, wantReason: reasonKey, wantErr: "empty key"},
		{name: "empty key tombstone", key: []byte{}, value: nil, wantKind: kindInvalid, wantReason: reasonKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := decodeUpdate(tt.key, tt.value, domain.DefaultLimits)
			if u.kind != tt.wantKind {
				t.Fatalf("kind %s (err %v), want %s", u.kind, u.err, tt.wantKind)
			}
			if u.key != string(tt.key) {
				t.Errorf("key %q, want %q", u.key, tt.key)
			}
			if u.reason != tt.wantReason {
				t.Errorf("reason %q, want %q", u.reason, tt.wantReason)
			}
			switch {
			case tt.wantKind == kindInvalid && u.err == nil:
				t.Errorf("invalid record without an error")
			case tt.wantKind != kindInvalid && u.err != nil:
				t.Errorf("unexpected error %v", u.err)
			case u.err != nil && !strings.Contains(u.err.Error(), tt.wantErr):
				t.Errorf("error %q does not mention %q", u.err, tt.wantErr)
			}
			if (u.value != nil) != (tt.wantKind == kindUpsert) {
				t.Errorf("mark %v for kind %s", u.value, u.kind)
			}
		})
	}
}

// TestMarkSet applies record sequences to an empty set and checks what each
// record did and what the set holds at the end, names included, so that a
// kept or replaced version is told apart.
func TestMarkSet(t *testing.T) {
	active := func(id, name string) record { return record{[]byte(id), markValue(t, id, name, domain.MarkActive)} }
	status := func(id, status string) record { return record{[]byte(id), markValue(t, id, "X", status)} }
	tomb := func(id string) record { return record{[]byte(id), nil} }
	raw := func(id, v string) record { return record{[]byte(id), []byte(v)} }

	tests := []struct {
		name        string
		records     []record
		wantKinds   []updateKind
		wantChanged []bool
		want        map[string]string // mark_id -> name
	}{
		{name: "upserts add", records: []record{active("m-b", "B"), active("m-a", "A")},
			wantKinds: []updateKind{kindUpsert, kindUpsert}, wantChanged: []bool{true, true},
			want: map[string]string{"m-a": "A", "m-b": "B"}},
		{name: "later version replaces", records: []record{active("m-a", "A1"), active("m-a", "A2")},
			wantKinds: []updateKind{kindUpsert, kindUpsert}, wantChanged: []bool{true, true},
			want: map[string]string{"m-a": "A2"}},
		{name: "identical republish changes nothing", records: []record{active("m-a", "A"), active("m-a", "A")},
			wantKinds: []updateKind{kindUpsert, kindUpsert}, wantChanged: []bool{true, false},
			want: map[string]string{"m-a": "A"}},
		{name: "tombstone removes", records: []record{active("m-a", "A"), active("m-b", "B"), tomb("m-a")},
			wantKinds: []updateKind{kindUpsert, kindUpsert, kindRemove}, wantChanged: []bool{true, true, true},
			want: map[string]string{"m-b": "B"}},
		{name: "tombstone of an unknown mark changes nothing", records: []record{tomb("m-a")},
			wantKinds: []updateKind{kindRemove}, wantChanged: []bool{false}, want: map[string]string{}},
		{name: "suspension removes", records: []record{active("m-a", "A"), status("m-a", domain.MarkSuspended)},
			wantKinds: []updateKind{kindUpsert, kindRemove}, wantChanged: []bool{true, true}, want: map[string]string{}},
		{name: "reactivation after suspension", records: []record{active("m-a", "A"), status("m-a", domain.MarkSuspended), active("m-a", "A2")},
			wantKinds: []updateKind{kindUpsert, kindRemove, kindUpsert}, wantChanged: []bool{true, true, true},
			want: map[string]string{"m-a": "A2"}},
		{name: "invalid keeps the last good version", records: []record{active("m-a", "A1"), raw("m-a", `{"broken`)},
			wantKinds: []updateKind{kindUpsert, kindInvalid}, wantChanged: []bool{true, false},
			want: map[string]string{"m-a": "A1"}},
		{name: "valid after invalid replaces", records: []record{active("m-a", "A1"), raw("m-a", `nope`), active("m-a", "A3")},
			wantKinds: []updateKind{kindUpsert, kindInvalid, kindUpsert}, wantChanged: []bool{true, false, true},
			want: map[string]string{"m-a": "A3"}},
		{name: "invalid after tombstone stays removed", records: []record{active("m-a", "A"), tomb("m-a"), raw("m-a", `{}`)},
			wantKinds: []updateKind{kindUpsert, kindRemove, kindInvalid}, wantChanged: []bool{true, true, false},
			want: map[string]string{}},
		{name: "invalid first adds nothing", records: []record{raw("m-a", `[]`)},
			wantKinds: []updateKind{kindInvalid}, wantChanged: []bool{false}, want: map[string]string{}},
		{name: "mismatched key touches neither mark", records: []record{active("m-a", "A"), active("m-b", "B"),
			{[]byte("m-a"), markValue(t, "m-b", "B2", domain.MarkActive)}, {[]byte("m-b"), markValue(t, "m-a", "A", domain.MarkSuspended)}},
			wantKinds: []updateKind{kindUpsert, kindUpsert, kindInvalid, kindInvalid}, wantChanged: []bool{true, true, false, false},
			want: map[string]string{"m-a": "A", "m-b": "B"}},
		{name: "non-active first is a no-op remove", records: []record{status("m-a", domain.MarkPending)},
			wantKinds: []updateKind{kindRemove}, wantChanged: []bool{false}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := markSet{}
			for i, r := range tt.records {
				u := decodeUpdate(r.key, r.value, domain.DefaultLimits)
				if u.kind != tt.wantKinds[i] {
					t.Errorf("record %d: kind %s (err %v), want %s", i, u.kind, u.err, tt.wantKinds[i])
				}
				if got := s.apply(u); got != tt.wantChanged[i] {
					t.Errorf("record %d (%s): changed %v, want %v", i, u.kind, got, tt.wantChanged[i])
				}
			}
			got := make(map[string]string, len(s))
			var ids []string
			for _, m := range s.active() {
				got[m.MarkID] = m.Name
				ids = append(ids, m.MarkID)
			}
			if !slices.IsSorted(ids) {
				t.Errorf("active() not in mark_id order: %v", ids)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("set %v, want %v", got, tt.want)
			}
			for id, name := range tt.want {
				if got[id] != name {
					t.Errorf("mark %s: name %q, want %q (set %v)", id, got[id], name, got)
				}
			}
		})
	}
}
