package store

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// testListQueue checks the keyset-paged queue against a sort of the same
// complaints in memory: the order (priority, score descending, arrival,
// id), each single filter, pages that neither skip nor repeat, a change of
// priority holders, and the counts.
func testListQueue(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	type row struct {
		id, holder, status, mark, seller, source string
		score                                    float64
		at                                       time.Time
		matchers                                 []string
	}
	var all []row
	for i := range 40 {
		r := row{
			id:     fmt.Sprintf("c_%02d", i),
			holder: fmt.Sprintf("h_%d", i%3),
			mark:   fmt.Sprintf("m_%d", i%4),
			seller: fmt.Sprintf("s_%d", i%5),
			source: []string{domain.SourceAuto, domain.SourceRightsHolder}[i%2],
			score:  float64(i%7) / 7,
			status: ComplaintOpen,
		}
		c := testComplaint(r.id)
		c.HolderID, c.MarkID, c.SellerID, c.Source, c.Score = r.holder, r.mark, r.seller, r.source, r.score
		// Evidence of several matchers, one named twice, some of none.
		c.Evidence = nil
		for _, m := range []struct {
			every int
			name  string
		}{{2, "text"}, {3, "cue"}, {5, "image"}, {3, "cue"}} {
			if i%m.every == 0 {
				c.Evidence = append(c.Evidence, domain.Evidence{Matcher: m.name, Score: 0.5})
				if !slices.Contains(r.matchers, m.name) {
					r.matchers = append(r.matchers, m.name)
				}
			}
		}
		r.at = clock.Now()
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
		if i%3 == 1 {
			if err := s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, r.id, ComplaintOpen, ComplaintRejected, "u_1") }); err != nil {
				t.Fatal(err)
			}
			r.status = ComplaintRejected
		}
		all = append(all, r)
		if i%2 == 0 {
			clock.Add(time.Second) // some arrive in the same millisecond
		}
	}
	expect := func(good map[string]bool, keep func(row) bool) []string {
		var rs []row
		for _, r := range all {
			if keep(r) {
				rs = append(rs, r)
			}
		}
		sort.SliceStable(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			switch {
			case good[a.holder] != good[b.holder]:
				return good[a.holder]
			case a.score != b.score:
				return a.score > b.score
			case !a.at.Equal(b.at):
				return a.at.Before(b.at)
			}
			return a.id < b.id
		})
		out := []string{}
		for _, r := range rs {
			out = append(out, r.id)
		}
		return out
	}
	page := func(f QueueFilter, limit int) []string {
		t.Helper()
		out := []string{}
		after := ""
		for range 100 {
			p, err := s.ListQueue(ctx, f, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Complaints {
				out = append(out, c.Body.ComplaintID)
			}
			if p.After == "" {
				return out
			}
			after = p.After
		}
		t.Fatal("pages never end")
		return nil
	}
	check := func(good map[string]bool) {
		t.Helper()
		for _, tc := range []struct {
			name string
			f    QueueFilter
			keep func(row) bool
		}{
			{"all", QueueFilter{}, func(row) bool { return true }},
			{"status", QueueFilter{Status: []string{ComplaintOpen}}, func(r row) bool { return r.status == ComplaintOpen }},
			{"source", QueueFilter{Source: []string{domain.SourceAuto}}, func(r row) bool { return r.source == domain.SourceAuto }},
			{"mark", QueueFilter{MarkID: []string{"m_1"}}, func(r row) bool { return r.mark == "m_1" }},
			{"holder", QueueFilter{HolderID: []string{"h_2"}}, func(r row) bool { return r.holder == "h_2" }},
			{"seller", QueueFilter{SellerID: []string{"s_3", "s_4"}}, func(r row) bool { return r.seller == "s_3" || r.seller == "s_4" }},
			{"status and holder", QueueFilter{Status: []string{ComplaintRejected}, HolderID: []string{"h_1"}}, func(r row) bool { return r.status == ComplaintRejected && r.holder == "h_1" }},
			{"score", QueueFilter{MinScore: ptrFloat(0.3), MaxScore: ptrFloat(0.6)}, func(r row) bool { return r.score >= 0.3 && r.score <= 0.6 }},
			// A score bound is a range of queue keys per priority
			// (keyRanges); bounds equal to a stored score keep it.
			{"min score at a score", QueueFilter{MinScore: ptrFloat(2.0 / 7)}, func(r row) bool { return r.score >= 2.0/7 }},
			{"max score at a score", QueueFilter{MaxScore: ptrFloat(3.0 / 7)}, func(r row) bool { return r.score <= 3.0/7 }},
			{"score at one score", QueueFilter{MinScore: ptrFloat(5.0 / 7), MaxScore: ptrFloat(5.0 / 7)}, func(r row) bool { return r.score == 5.0/7 }},
			{"score bounds at 0 and 1", QueueFilter{MinScore: ptrFloat(0), MaxScore: ptrFloat(1)}, func(row) bool { return true }},
			{"score no complaint has", QueueFilter{MinScore: ptrFloat(0.99)}, func(row) bool { return false }},
			{"matcher and min score", QueueFilter{Matcher: []string{"cue"}, MinScore: ptrFloat(4.0 / 7)}, func(r row) bool {
				return slices.Contains(r.matchers, "cue") && r.score >= 4.0/7
			}},
			{"matcher, status and max score", QueueFilter{Matcher: []string{"text"}, Status: []string{ComplaintOpen}, MaxScore: ptrFloat(0.5)}, func(r row) bool {
				return slices.Contains(r.matchers, "text") && r.status == ComplaintOpen && r.score <= 0.5
			}},
			{"matcher", QueueFilter{Matcher: []string{"cue"}}, func(r row) bool { return slices.Contains(r.matchers, "cue") }},
			{"matchers", QueueFilter{Matcher: []string{"image", "cue"}}, func(r row) bool {
				return slices.Contains(r.matchers, "image") || slices.Contains(r.matchers, "cue")
			}},
			{"matcher and status", QueueFilter{Matcher: []string{"text"}, Status: []string{ComplaintOpen}}, func(r row) bool {
				return slices.Contains(r.matchers, "text") && r.status == ComplaintOpen
			}},
			{"matcher, holder and source", QueueFilter{Matcher: []string{"image"}, HolderID: []string{"h_0", "h_1"}, Source: []string{domain.SourceAuto}}, func(r row) bool {
				return slices.Contains(r.matchers, "image") && (r.holder == "h_0" || r.holder == "h_1") && r.source == domain.SourceAuto
			}},
			{"matcher no complaint has", QueueFilter{Matcher: []string{"logo"}}, func(r row) bool { return false }},
			{"ids", QueueFilter{IDs: []string{"c_03", "c_07", "c_11", "c_nope"}, Status: []string{ComplaintOpen}}, func(r row) bool {
				return (r.id == "c_03" || r.id == "c_07" || r.id == "c_11") && r.status == ComplaintOpen
			}},
			{"no ids", QueueFilter{IDs: []string{}}, func(r row) bool { return false }},
			{"listing", QueueFilter{ListingID: []string{"l_1"}, HolderID: []string{"h_1"}}, func(r row) bool { return r.holder == "h_1" }},
			{"arrival", QueueFilter{CreatedAfter: testNow.Add(3 * time.Second), CreatedBefore: testNow.Add(9 * time.Second)}, func(r row) bool {
				return !r.at.Before(testNow.Add(3*time.Second)) && r.at.Before(testNow.Add(9*time.Second))
			}},
		} {
			want := expect(good, tc.keep)
			for _, limit := range []int{1, 7, 50} {
				if got := page(tc.f, limit); !slices.Equal(got, want) {
					t.Errorf("%s, pages of %d: %v, want %v", tc.name, limit, got, want)
				}
			}
			n, est, err := s.CountQueue(ctx, tc.f)
			if err != nil || est || n != int64(len(want)) {
				t.Errorf("%s: count %d estimated %v (%v), want %d exact", tc.name, n, est, err, len(want))
			}
			if len(want) > 2 {
				n, capped, err := s.CountQueueUpTo(ctx, tc.f, 2)
				if exact := n == int64(len(want)) && !capped; err != nil || !(exact || (n == 2 && capped)) {
					t.Errorf("%s: count up to 2: %d capped %v (%v), want 2 capped or %d exact", tc.name, n, capped, err, len(want))
				}
			}
			keys, err := s.QueueKeys(ctx, tc.f, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("%s: queue keys %v, want %v", tc.name, ids, want)
			}
		}
	}
	check(nil)
	if err := s.SetPriorityHolders(ctx, []string{"h_2"}); err != nil {
		t.Fatal(err)
	}
	check(map[string]bool{"h_2": true})
	// A complaint stored after the change takes its holder's priority.
	c := testComplaint("c_late")
	c.HolderID, c.MarkID, c.SellerID, c.Source, c.Score = "h_2", "m_9", "s_9", domain.SourceAuto, 0
	if _, err := insertComplaint(ctx, s, c); err != nil {
		t.Fatal(err)
	}
	all = append(all, row{id: "c_late", holder: "h_2", mark: "m_9", seller: "s_9", source: domain.SourceAuto, status: ComplaintOpen, at: clock.Now(), matchers: []string{"text"}})
	if err := s.SetPriorityHolders(ctx, []string{"h_0"}); err != nil {
		t.Fatal(err)
	}
	check(map[string]bool{"h_0": true})
	if err := s.SetPriorityHolders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	check(nil)
}

func ptrFloat(f float64) *float64 { return &f }
