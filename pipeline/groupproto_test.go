package pipeline

import (
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestSubscriptionRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		owned      map[string][]int32
		generation int32
	}{
		{"nothing owned", map[string][]int32{}, noGeneration},
		{"owned", map[string][]int32{"listings": {5, 1, 3}}, 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := decodeSubscription(encodeSubscription([]string{"listings"}, tt.owned, tt.generation))
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != 1 || !slices.Equal(s.Topics, []string{"listings"}) || s.Generation != tt.generation {
				t.Errorf("decoded %+v", s)
			}
			for topic, ps := range tt.owned {
				if !slices.Equal(s.Owned[topic], slices.Sorted(slices.Values(ps))) {
					t.Errorf("owned %v, want %v", s.Owned, tt.owned)
				}
			}
		})
	}
}

// TestSubscriptionKafkaBytes decodes subscriptions as Java clients write
// them: v0 (no owned partitions), v2 (generation field), v3 (rack).
func TestSubscriptionKafkaBytes(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		topics  []string
		owned   []int32
		gen     int32
		rack    string
		wantErr bool
	}{
		// v0: topics [t], user data null.
		{"v0", "0000" + "00000001" + "0001" + "74" + "ffffffff", []string{"t"}, nil, noGeneration, "", false},
		// v2: topics [t], null user data, owned [t:[0,2]], generation 7.
		{"v2", "0002" + "00000001" + "000174" + "ffffffff" + "00000001" + "000174" + "00000002" + "00000000" + "00000002" + "00000007",
			[]string{"t"}, []int32{0, 2}, 7, "", false},
		// v3: as v2 plus rack "r1", plus trailing bytes of a later version.
		{"v3 with trailing bytes", "0003" + "00000001" + "000174" + "ffffffff" + "00000000" + "00000003" + "00027231" + "cafe",
			[]string{"t"}, nil, 3, "r1", false},
		{"truncated", "0001" + "00000001" + "0001", nil, nil, 0, "", true},
		{"negative version", "ffff", nil, nil, 0, "", true},
		{"forged array length", "0001" + "7fffffff", nil, nil, 0, "", true},
		{"negative string length", "0001" + "00000001" + "fffe", nil, nil, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := hex.DecodeString(tt.hex)
			if err != nil {
				t.Fatal(err)
			}
			s, err := decodeSubscription(b)
			if tt.wantErr {
				if !errors.Is(err, errProtocol) {
					t.Fatalf("error %v, want errProtocol", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Topics, tt.topics) || !slices.Equal(s.Owned["t"], tt.owned) || s.Generation != tt.gen || s.Rack != tt.rack {
				t.Errorf("decoded %+v", s)
			}
		})
	}
}

// TestRangeSubscription: the range protocol's metadata is version 0 with
// nothing after its fields, which kafka-go's ConsumerGroup requires.
func TestRangeSubscription(t *testing.T) {
	b := encodeRangeSubscription([]string{"listings"})
	s, err := decodeSubscription(b)
	if err != nil || s.Version != 0 || !slices.Equal(s.Topics, []string{"listings"}) || s.UserData != nil {
		t.Fatalf("decoded %+v, %v", s, err)
	}
	if want := 2 + 4 + 2 + len("listings") + 4; len(b) != want {
		t.Errorf("%d bytes, want exactly the v0 fields (%d)", len(b), want)
	}
}

func TestAssignmentRoundTrip(t *testing.T) {
	want := map[string][]int32{"listings": {0, 4}, "other": {}}
	a, err := decodeAssignment(encodeAssignment(want, true))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Partitions["listings"], want["listings"]) || len(a.Partitions["other"]) != 0 || !a.inTransit() {
		t.Errorf("decoded %+v", a)
	}
	if a, err := decodeAssignment(encodeAssignment(want, false)); err != nil || a.inTransit() {
		t.Errorf("without partitions in transit: %+v, %v", a, err)
	}
	if a, err := decodeAssignment(nil); err != nil || len(a.Partitions) != 0 {
		t.Errorf("empty assignment: %+v, %v", a, err)
	}
}

// FuzzDecodeSubscription: another member's metadata never panics the
// decoder, and what decodes encodes back to the same claims.
func FuzzDecodeSubscription(f *testing.F) {
	f.Add(encodeSubscription([]string{"listings"}, map[string][]int32{"listings": {0, 1, 2}}, 3))
	f.Add(encodeSubscription([]string{"a", "b"}, map[string][]int32{}, noGeneration))
	f.Add([]byte{0, 3, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
	f.Add([]byte{0, 1, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSubscription(b)
		if err != nil {
			if !errors.Is(err, errProtocol) {
				t.Fatalf("error %v does not wrap errProtocol", err)
			}
			return
		}
		again, err := decodeSubscription(encodeSubscription(s.Topics, s.Owned, s.Generation))
		if err != nil {
			t.Fatalf("re-encoded subscription does not decode: %v", err)
		}
		if !slices.Equal(again.Topics, s.Topics) || again.Generation != s.Generation || len(again.Owned) != len(s.Owned) {
			t.Fatalf("round trip: %+v, then %+v", s, again)
		}
		for topic, ps := range s.Owned {
			if !slices.Equal(again.Owned[topic], slices.Sorted(slices.Values(ps))) {
				t.Fatalf("round trip of %s: %v, then %v", topic, ps, again.Owned[topic])
			}
		}
	})
}

// FuzzDecodeAssignment: the leader's assignment never panics the decoder,
// and what decodes encodes back to the same partitions.
func FuzzDecodeAssignment(f *testing.F) {
	f.Add(encodeAssignment(map[string][]int32{"listings": {0, 1}}, false))
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 1, 't', 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAssignment(b)
		if err != nil {
			if !errors.Is(err, errProtocol) {
				t.Fatalf("error %v does not wrap errProtocol", err)
			}
			return
		}
		again, err := decodeAssignment(encodeAssignment(a.Partitions, a.inTransit()))
		if err != nil {
			t.Fatalf("re-encoded assignment does not decode: %v", err)
		}
		if again.inTransit() != a.inTransit() {
			t.Fatalf("round trip of the in-transit flag: %v, then %v", a.inTransit(), again.inTransit())
		}
		if !maps.EqualFunc(again.Partitions, a.Partitions, func(x, y []int32) bool {
			return slices.Equal(x, slices.Sorted(slices.Values(y)))
		}) {
			t.Fatalf("round trip: %v, then %v", a.Partitions, again.Partitions)
		}
	})
}
