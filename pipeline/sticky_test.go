package pipeline

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

func seq(from, to int) []int {
	var out []int
	for p := from; p < to; p++ {
		out = append(out, p)
	}
	return out
}

func TestStickyAssign(t *testing.T) {
	tests := []struct {
		name    string
		members []groupMember
		parts   []int
		want    map[string][]int
	}{
		{"fresh group, even", []groupMember{{ID: "b", InstanceID: "d2"}, {ID: "a", InstanceID: "d1"}}, seq(0, 6),
			map[string][]int{"a": {0, 1, 2}, "b": {3, 4, 5}}},
		{"fresh group, uneven", []groupMember{{ID: "a"}, {ID: "b"}, {ID: "c"}}, seq(0, 7),
			map[string][]int{"a": {0, 1, 2}, "b": {3, 4}, "c": {5, 6}}},
		{"a member joins: the owner keeps its share, the rest is held back",
			[]groupMember{{ID: "a", Owned: seq(0, 6), Generation: 3}, {ID: "b"}}, seq(0, 6),
			map[string][]int{"a": {0, 1, 2}, "b": {}}},
		{"second rebalance after the revocation: the joiner gets what was revoked",
			[]groupMember{{ID: "a", Owned: seq(0, 3), Generation: 4}, {ID: "b"}}, seq(0, 6),
			map[string][]int{"a": {0, 1, 2}, "b": {3, 4, 5}}},
		{"a member leaves: only its partitions move, at once (nobody owns them)",
			[]groupMember{{ID: "a", Owned: []int{0, 1}, Generation: 2}, {ID: "b", Owned: []int{2, 3}, Generation: 2}}, seq(0, 6),
			map[string][]int{"a": {0, 1, 4}, "b": {2, 3, 5}}},
		{"unchanged membership revokes nothing",
			[]groupMember{{ID: "a", Owned: []int{1, 4, 5}, Generation: 9}, {ID: "b", Owned: []int{0, 2, 3}, Generation: 9}}, seq(0, 6),
			map[string][]int{"a": {1, 4, 5}, "b": {0, 2, 3}}},
		{"the extra partition stays with the member that owns more",
			[]groupMember{{ID: "a", Owned: []int{0, 1}, Generation: 2}, {ID: "b", Owned: []int{2, 3, 4}, Generation: 2}}, seq(0, 5),
			map[string][]int{"a": {0, 1}, "b": {2, 3, 4}}},
		{"a double claim goes to the later generation",
			[]groupMember{{ID: "a", Owned: []int{0, 1}, Generation: 5}, {ID: "b", Owned: []int{1, 2}, Generation: 7}}, seq(0, 4),
			map[string][]int{"a": {0, 3}, "b": {1, 2}}},
		{"claims of partitions the topic lacks are ignored",
			[]groupMember{{ID: "a", Owned: []int{0, 7, -1}, Generation: 1}, {ID: "b"}}, seq(0, 2),
			map[string][]int{"a": {0}, "b": {1}}},
		{"more members than partitions", []groupMember{{ID: "a"}, {ID: "b"}, {ID: "c"}}, seq(0, 2),
			map[string][]int{"a": {0}, "b": {1}, "c": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stickyAssign(tt.members, tt.parts)
			if len(got) != len(tt.members) {
				t.Errorf("assignments for %d members, want %d", len(got), len(tt.members))
			}
			for m, want := range tt.want {
				if !slices.Equal(got[m], want) {
					t.Errorf("%s: %v, want %v", m, got[m], want)
				}
			}
		})
	}
}

// TestStickyAssignDeterministic: the members' order in the JoinGroup
// answer changes nothing.
func TestStickyAssignDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	members := []groupMember{
		{ID: "m1", InstanceID: "host-0", Owned: []int{0, 3, 9}, Generation: 4},
		{ID: "m2", InstanceID: "host-1", Owned: []int{1, 2}, Generation: 4},
		{ID: "m3", InstanceID: "host-2"},
		{ID: "m4", Owned: []int{5, 6, 7, 8}, Generation: 3},
	}
	want := stickyAssign(members, seq(0, 12))
	for range 50 {
		shuffled := slices.Clone(members)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		parts := seq(0, 12)
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		if got := stickyAssign(shuffled, parts); !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("order changed the assignment: %v, want %v", got, want)
		}
	}
}

// TestStickyAssignConverges simulates groups of many members and
// partitions through joins and leaves, applying each assignment as the
// cooperative protocol does (a member owns what it was assigned; what it
// lost it revoked), and checks in every round that no partition has two
// owners and no member loses a partition it may keep, and that a second
// round makes the group balanced with every partition owned.
func TestStickyAssignConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		nParts := 1 + rng.IntN(200)
		parts := seq(0, nParts)
		var members []groupMember
		gen := int32(1)
		for step := range 8 {
			// A random change of membership: joins and leaves.
			switch {
			case len(members) < 2 || rng.IntN(3) > 0:
				for range 1 + rng.IntN(4) {
					members = append(members, groupMember{ID: fmt.Sprintf("m%d-%d", step, rng.IntN(1e6)), InstanceID: fmt.Sprintf("host-%d", rng.IntN(1e6))})
				}
			default:
				i := rng.IntN(len(members))
				members = slices.Delete(members, i, i+1)
			}
			for round := range 2 {
				floor := nParts / len(members)
				got := stickyAssign(members, parts)
				seen := map[int]string{}
				for i := range members {
					m := &members[i]
					for _, p := range got[m.ID] {
						if o, dup := seen[p]; dup {
							t.Fatalf("trial %d: partition %d assigned to %s and %s", trial, p, o, m.ID)
						}
						seen[p] = m.ID
					}
					// Sticky: a member within its share keeps all it owns.
					if len(m.Owned) <= floor {
						for _, p := range m.Owned {
							if !slices.Contains(got[m.ID], p) {
								t.Fatalf("trial %d round %d: %s owns %v (share %d) and lost %d", trial, round, m.ID, m.Owned, floor, p)
							}
						}
					}
					m.Owned, m.Generation = got[m.ID], gen
				}
				gen++
				if round == 1 {
					lo, hi := nParts, 0
					for _, m := range members {
						lo, hi = min(lo, len(m.Owned)), max(hi, len(m.Owned))
					}
					if len(seen) != nParts || hi-lo > 1 {
						t.Fatalf("trial %d: after two rounds %d of %d partitions owned, counts %d..%d", trial, len(seen), nParts, lo, hi)
					}
				}
			}
		}
	}
}

// BenchmarkStickyAssign: 100 members, 1,000 partitions, half moving.
func BenchmarkStickyAssign(b *testing.B) {
	members := make([]groupMember, 100)
	for i := range members {
		members[i] = groupMember{ID: fmt.Sprintf("m%03d", i), Generation: 1}
		if i < 50 {
			members[i].Owned = seq(i*20, i*20+20)
		}
	}
	parts := seq(0, 1000)
	for b.Loop() {
		stickyAssign(members, parts)
	}
}
