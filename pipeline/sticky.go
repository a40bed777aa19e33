package pipeline

import (
	"cmp"
	"slices"
)

// groupMember is one member as the leader sees it in a JoinGroup answer.
type groupMember struct {
	// ID is the member id the coordinator gave it.
	ID string
	// InstanceID is its group.instance.id; empty for a dynamic member.
	InstanceID string
	// Owned are the partitions of the topic it says it owns, and
	// Generation the generation in which it owned them.
	Owned      []int
	Generation int32
}

// key orders members: by instance id, stable across restarts, so that the
// same detectors get the same partitions after a full restart; by member
// id for dynamic members.
func (m groupMember) key() string {
	if m.InstanceID != "" {
		return m.InstanceID
	}
	return m.ID
}

// stickyAssign is the leader's cooperative-sticky assignment (KIP-429) of
// the topic's partitions parts to members, by member id. It is balanced
// once no partition is in transit (member counts differ by at most one),
// sticky (a member keeps what it owns up to its share, so a member joining
// or leaving moves only the partitions that must move) and deterministic
// (the same members, claims and partitions give the same answer, whatever
// their order).
//
// Cooperative: a partition that moves from a member that owns it to
// another is left out of this assignment. Its old owner sees it missing,
// revokes it (finishes and commits what it fetched) and joins again; the
// next rebalance, in which nobody owns it, gives it to the new owner.
// So no partition is ever fetched by two members at once.
//
// Claims are checked: a partition the topic does not have is ignored; a
// partition two members claim goes to the one that owned it in the later
// generation (ties to the first by key), as a member that missed a
// rebalance may still claim what it lost.
func stickyAssign(members []groupMember, parts []int) map[string][]int {
	out := make(map[string][]int, len(members))
	if len(members) == 0 {
		return out
	}
	ms := slices.SortedFunc(slices.Values(members), func(a, b groupMember) int {
		return cmp.Or(cmp.Compare(a.key(), b.key()), cmp.Compare(a.ID, b.ID))
	})
	parts = slices.Compact(slices.Sorted(slices.Values(parts)))
	exists := make(map[int]bool, len(parts))
	for _, p := range parts {
		exists[p] = true
	}

	// Who owns what, after resolving double claims.
	owner := make(map[int]int, len(parts)) // partition -> index in ms
	for i, m := range ms {
		for _, p := range m.Owned {
			if !exists[p] {
				continue
			}
			if j, ok := owner[p]; ok && ms[j].Generation >= m.Generation {
				continue
			}
			owner[p] = i
		}
	}
	owned := make([][]int, len(ms))
	for _, p := range parts {
		if i, ok := owner[p]; ok {
			owned[i] = append(owned[i], p)
		}
	}

	// Shares: len/n each, and len%n members one more. The extra places go
	// to the members that own the most, so that fewer partitions move.
	n := len(ms)
	floor, extra := len(parts)/n, len(parts)%n
	byOwned := make([]int, n)
	for i := range byOwned {
		byOwned[i] = i
	}
	slices.SortStableFunc(byOwned, func(a, b int) int { return cmp.Compare(len(owned[b]), len(owned[a])) })
	share := make([]int, n)
	for rank, i := range byOwned {
		share[i] = floor
		if rank < extra {
			share[i]++
		}
	}

	// Each member keeps what it owns up to its share (its lowest
	// partitions); the rest is free.
	assigned := make([][]int, n)
	taken := make(map[int]bool, len(parts))
	for i := range ms {
		keep := owned[i][:min(len(owned[i]), share[i])]
		assigned[i] = slices.Clone(keep)
		for _, p := range keep {
			taken[p] = true
		}
	}
	// Free partitions fill the members below their share, in key order.
	next := 0
	free := make([]int, 0, len(parts)-len(taken))
	for _, p := range parts {
		if !taken[p] {
			free = append(free, p)
		}
	}
	for i := range ms {
		for len(assigned[i]) < share[i] && next < len(free) {
			assigned[i] = append(assigned[i], free[next])
			next++
		}
	}

	// Cooperative: hold back a partition moving away from its owner.
	for i, m := range ms {
		kept := assigned[i][:0]
		for _, p := range assigned[i] {
			if j, ok := owner[p]; ok && j != i {
				continue // revoked by ms[j] first; given in the next rebalance
			}
			kept = append(kept, p)
		}
		slices.Sort(kept)
		out[m.ID] = kept
	}
	return out
}
