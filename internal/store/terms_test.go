package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/search/terms"
)

// textComplaint is a complaint of holder whose listing title is title.
func textComplaint(id, holder, title string, score float64) *domain.Complaint {
	c := testComplaint(id)
	c.HolderID, c.Score, c.Explanation = holder, score, ""
	c.Evidence = []domain.Evidence{{Matcher: "text", Score: score, Field: "title", Match: "", Kind: "exact"}}
	c.Listing = &domain.ListingSnapshot{Title: title}
	return c
}

// testTextSearch checks QueueFilter.Text where the store matches text
// (PostgreSQL): the complaints whose terms hold every term of the query,
// in queue order, keyset-paged, with the other filters; the index's
// analyzers (lower case, English stop words, CJK bigrams); quotes and
// backslashes taken as text; counts capped like other counts; and the
// terms following the complaint through retention's delete. On SQLite
// (complaint_term_keys, migration 24) the tiers' walk is its plan too:
// the rarest term's entries, or the other filters' index.
func testTextSearch(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if !s.TextSearch() {
		t.Fatalf("%s does not match text in the store", s.dialect)
	}
	for _, c := range []*domain.Complaint{
		textComplaint("c_1", "h_1", "Replica ACME handbag", 0.9),
		textComplaint("c_2", "h_2", "replica acme sneakers", 0.8),
		textComplaint("c_3", "h_1", "Genuine ACME handbag, the original", 0.7),
		textComplaint("c_4", "h_2", "高仿手袋 ACME", 0.6),
		textComplaint("c_5", "h_1", `O'Brien's back\slash 'quoted' bag`, 0.5),
		textComplaint("c_6", "h_1", "REPLICA watch", 0.4),
	} {
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    QueueFilter
		want []string
	}{
		{"one word, any case", QueueFilter{Text: "REPLICA"}, []string{"c_1", "c_2", "c_6"}},
		{"every word must match", QueueFilter{Text: "replica handbag"}, []string{"c_1"}},
		{"stop words are dropped", QueueFilter{Text: "the handbag of acme"}, []string{"c_1", "c_3"}},
		{"only stop words match nothing", QueueFilter{Text: "the of"}, nil},
		{"punctuation is no term", QueueFilter{Text: "handbag,"}, []string{"c_1", "c_3"}},
		{"with a holder", QueueFilter{Text: "replica", HolderID: []string{"h_2"}}, []string{"c_2"}},
		{"with a status", QueueFilter{Text: "acme", Status: []string{ComplaintOpen}}, []string{"c_1", "c_2", "c_3", "c_4"}},
		{"with a matcher", QueueFilter{Text: "acme", Matcher: []string{"text"}}, []string{"c_1", "c_2", "c_3", "c_4"}},
		{"CJK bigram", QueueFilter{Text: "高仿"}, []string{"c_4"}},
		{"CJK bigram inside a run", QueueFilter{Text: "手袋"}, []string{"c_4"}},
		{"CJK bigram not in the text", QueueFilter{Text: "仿袋"}, nil},
		{"single ideograph", QueueFilter{Text: "袋"}, []string{"c_4"}},
		{"a quote in a word", QueueFilter{Text: "o'brien's"}, []string{"c_5"}},
		{"quotes and backslashes", QueueFilter{Text: `'quoted' back\slash`}, []string{"c_5"}},
		{"tsquery operators are no operators", QueueFilter{Text: "replica & !watch |"}, []string{"c_6"}},
		{"no match", QueueFilter{Text: "nothing"}, nil},
	} {
		// Each plan of textCandidates: the GIN matches sorted, the walk
		// of the queue_key index (no text is rare), and a walk that tests
		// so few matches a page that pages come short, with a cursor.
		for _, tier := range []struct {
			name                              string
			rare, minWindow, maxWindow, scans int
			walk                              string
		}{
			{"rare", 2000, 256, 8192, 50_000, ""},
			{"walk the terms", 0, 1, 2, 50_000, "terms"},
			{"walk the filters", 0, 1, 2, 50_000, "filters"},
			{"short pages", 0, 1, 1, 1, "terms"},
			{"short pages by filter", 0, 1, 1, 1, "filters"},
			{"segments", 2000, 256, 8192, 50_000, "segments"},
			{"short pages by segment", 0, 1, 1, 1, "segments"},
		} {
			t.Run(tc.name+"/"+tier.name, func(t *testing.T) {
				defer func(r, mi, ma, sc int, w string) {
					textRareMatches, textMinWindow, textMaxWindow, textMaxScanned, textWalk = r, mi, ma, sc, w
				}(textRareMatches, textMinWindow, textMaxWindow, textMaxScanned, textWalk)
				textRareMatches, textMinWindow, textMaxWindow, textMaxScanned, textWalk = tier.rare, tier.minWindow, tier.maxWindow, tier.scans, tier.walk
				defer func(w string, first int) { sqliteTextWalk, sqliteWalkFirst = w, first }(sqliteTextWalk, sqliteWalkFirst)
				// SQLite walks a term in chunks from this size, doubling.
				sqliteWalkFirst = tier.minWindow
				if tier.walk != "segments" {
					sqliteTextWalk = tier.walk
				}
				for _, limit := range []int{1, 2, 10} {
					if got := queueIDs(t, s, tc.f, limit); !slices.Equal(got, tc.want) {
						t.Errorf("limit %d: %v, want %v", limit, got, tc.want)
					}
				}
				n, capped, err := s.CountQueueUpTo(ctx, tc.f, 10)
				// Exact, unless the matches tested were cut short: then
				// a lower bound, said so.
				if err != nil || n > int64(len(tc.want)) || (!capped && n != int64(len(tc.want))) || (capped && tier.scans == 50_000) {
					t.Errorf("count = %d capped %v (%v), want %d", n, capped, err, len(tc.want))
				}
				if tc.f.CountKept() {
					t.Error("a text filter's count is not kept by triggers")
				}
			})
		}
	}
	// A score bound is a range of the queue key, on the matches too.
	lo, hi := 0.45, 0.85
	if got := queueIDs(t, s, QueueFilter{Text: "replica", MinScore: &lo, MaxScore: &hi}, 1); !slices.Equal(got, []string{"c_2"}) {
		t.Errorf("replica with scores in [%v, %v] = %v, want c_2", lo, hi, got)
	}
	// A priority holder's complaints come first, text or not: the terms'
	// copies of the queue keys are re-keyed with the complaints'.
	if err := s.SetPriorityHolders(ctx, []string{"h_2"}); err != nil {
		t.Fatal(err)
	}
	for _, walk := range []string{"", "segments"} {
		textWalk = walk
		if got := queueIDs(t, s, QueueFilter{Text: "acme"}, 2); !slices.Equal(got, []string{"c_2", "c_4", "c_1", "c_3"}) {
			t.Errorf("acme with h_2 first (plan %q) = %v, want c_2 c_4 c_1 c_3", walk, got)
		}
	}
	textWalk = ""
	if err := s.SetPriorityHolders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	staleQuery := `SELECT COUNT(*) FROM complaint_terms t JOIN complaints c ON c.id = t.id AND c.period = t.period
		WHERE t.queue_key <> c.queue_key`
	if s.dialect != dialectPostgres {
		staleQuery = `SELECT COUNT(*) FROM complaint_term_keys t WHERE NOT EXISTS (SELECT 1 FROM complaints c WHERE c.queue_key = t.queue_key)`
	}
	var stale int
	if err := s.read().queryRow(ctx, staleQuery).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d terms rows with another queue key than their complaint's (%v)", stale, err)
	}
	if n, capped, err := s.CountQueueUpTo(ctx, QueueFilter{Text: "acme"}, 2); err != nil || n != 2 || !capped {
		t.Errorf("capped count = %d %v (%v), want 2 capped", n, capped, err)
	}
	// A decision changes no terms: the complaint is found with its new
	// status.
	if err := s.WithTx(ctx, func(tx *Tx) error {
		return tx.SetComplaintStatus(ctx, "c_2", ComplaintOpen, ComplaintRejected, "u_1")
	}); err != nil {
		t.Fatal(err)
	}
	if got := queueIDs(t, s, QueueFilter{Text: "replica", Status: []string{ComplaintRejected}}, 10); !slices.Equal(got, []string{"c_2"}) {
		t.Errorf("rejected replica = %v, want c_2", got)
	}
	// Retention's delete takes the terms with the complaint.
	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.r.deleteComplaints(ctx, []string{"c_2"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var left int
	leftQuery := `SELECT COUNT(*) FROM complaint_terms WHERE id = 'c_2'`
	if s.dialect != dialectPostgres {
		// The queue key ends with the id, after 33 characters.
		leftQuery = `SELECT COUNT(*) FROM complaint_term_keys WHERE substr(queue_key, 34) = 'c_2'`
	}
	if err := s.read().queryRow(ctx, leftQuery).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d terms rows of a deleted complaint (%v)", left, err)
	}
	if got := queueIDs(t, s, QueueFilter{Text: "replica"}, 10); !slices.Equal(got, []string{"c_1", "c_6"}) {
		t.Errorf("replica after the delete = %v, want c_1 c_6", got)
	}
	if s.dialect != dialectPostgres {
		// The terms' counts (migration 25) followed the inserts, the
		// re-keys and the delete.
		var wrong, replica int
		if err := s.read().queryRow(ctx, `SELECT COUNT(*) FROM complaint_term_counts tc
			WHERE tc.n <> (SELECT COUNT(*) FROM complaint_term_keys k WHERE k.term = tc.term)`).Scan(&wrong); err != nil || wrong != 0 {
			t.Errorf("%d terms counted wrong (%v)", wrong, err)
		}
		if err := s.read().queryRow(ctx, `SELECT n FROM complaint_term_counts WHERE term = 'replica'`).Scan(&replica); err != nil || replica != 2 {
			t.Errorf("replica counted %d (%v), want 2", replica, err)
		}
	}
}

// testTermsMigration opens a store at schema 19 with complaints in it,
// then at the current schema: migration 20 (PostgreSQL) or 24 (SQLite)
// gives every complaint already stored its terms, so that text search
// finds them, and
// migration 21 drops the indexes no query needs on both stores.
func testTermsMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	all := migrations
	migrations = all[:termsSchema-1]
	old, err := OpenOptions(ctx, Options{DSN: dsn, Now: func() time.Time { return testNow }})
	migrations = all
	if err != nil {
		t.Fatalf("open at schema %d: %v", termsSchema-1, err)
	}
	for i, title := range []string{"Replica ACME handbag", "高仿手袋", "plain shoe"} {
		c := textComplaint("c_"+string(rune('1'+i)), "h_1", title, 0.9-float64(i)/10)
		if err := insertComplaintAt19(ctx, old, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn)
	// Migration 20 (PostgreSQL) or 24 (SQLite) filled the terms.
	for q, want := range map[string][]string{"replica": {"c_1"}, "高仿": {"c_2"}, "shoe": {"c_3"}} {
		if got := queueIDs(t, s, QueueFilter{Text: q}, 10); !slices.Equal(got, want) {
			t.Errorf("%s after the migration: %v, want %v", q, got, want)
		}
	}
	for _, name := range []string{"complaints_source_holder_status", "complaints_status_created_at"} {
		if indexExists(t, s, name) {
			t.Errorf("index %s is still there", name)
		}
	}
	// On PostgreSQL migration 22 moves the partial index to
	// complaint_status.
	if got := indexExists(t, s, "complaints_open_created_at"); got != (s.dialect != dialectPostgres) {
		t.Errorf("complaints_open_created_at exists = %v on %s", got, s.dialect)
	}
	if got := indexExists(t, s, "complaints_updated_at"); got != (s.dialect != dialectPostgres) {
		t.Errorf("complaints_updated_at exists = %v on %s", got, s.dialect)
	}
	// The oldest open complaint reads the partial index.
	st, err := s.QueueStats(ctx)
	if err != nil || !st.OldestOpen.Equal(testNow.Truncate(time.Millisecond)) {
		t.Errorf("oldest open = %v (%v), want %v", st.OldestOpen, err, testNow)
	}
}

// insertComplaintAt19 stores c as an open complaint the way schema 19 did
// (no terms).
func insertComplaintAt19(ctx context.Context, s *Store, c *domain.Complaint) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	at := millis(testNow)
	return s.WithTx(ctx, func(tx *Tx) error {
		if s.dialect == dialectPostgres {
			if _, err := tx.r.exec(ctx, `INSERT INTO complaint_ids (id, period) VALUES (?, ?)`, c.ComplaintID, periodOf(at)); err != nil {
				return err
			}
		}
		_, err := tx.r.exec(ctx, `INSERT INTO complaints
			(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key, period)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
			ComplaintOpen, string(body), at, at, "1"+queueKeyRest(c.Score, at, c.ComplaintID), periodOf(at))
		return err
	})
}

// testTextSearchEqualsIDs checks the store's text search against the path
// it replaces on SQLite: the search index's matches (every term of
// terms.Query among terms.Of of the complaint's text, as internal/search
// analyzes both) handed to ListQueue as QueueFilter.IDs. On the same
// synthetic complaints, some re-keyed by a priority holder, each text with
// each filter gives the same complaints in the same order, page after
// page through the cursors, and the same count, under each plan.
func testTextSearchEqualsIDs(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if err := s.LoadComplaints(ctx, SyntheticComplaints(7, 0, 3000, testNow)); err != nil {
		t.Fatal(err)
	}
	// A priority holder re-keys its complaints (and their terms' keys).
	if err := s.SetPriorityHolders(ctx, []string{"h_001"}); err != nil {
		t.Fatal(err)
	}
	// Each complaint's terms, read back from the store as the index
	// would have them.
	all, err := s.ListQueue(ctx, QueueFilter{}, "", 10_000)
	if err != nil || len(all.Complaints) != 3000 {
		t.Fatalf("%d complaints (%v), want 3000", len(all.Complaints), err)
	}
	lo, hi := 0.6, 0.9
	nonEmpty := 0 // the comparisons that compared complaints, not two empty lists
	for _, text := range []string{"replica handbag", "leather", "AAA Zed perfume vintage", "acme", "nowhere", "the of"} {
		want := terms.Query(text)
		ids := []string{}
		for _, c := range all.Complaints {
			have := terms.Of(terms.Text(&c.Body))
			if len(want) > 0 && !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(have, w) }) {
				ids = append(ids, c.Body.ComplaintID)
			}
		}
		for _, f := range []QueueFilter{
			{},
			{Status: []string{ComplaintOpen}},
			{Status: []string{ComplaintOpen, ComplaintContested}},
			{HolderID: []string{"h_001"}},
			{MarkID: []string{"m_0003"}},
			{Matcher: []string{"cue"}},
			{Matcher: []string{"cue", "price"}},
			{Source: []string{"rights_holder"}, Status: []string{ComplaintUpheld}},
			{MinScore: &lo, MaxScore: &hi},
			{CreatedAfter: testNow.Add(-90 * 24 * time.Hour)},
		} {
			old := f
			old.IDs = ids
			expect := queueIDs(t, s, old, 7)
			if len(expect) > 7 {
				nonEmpty++
			}
			// "chunks" walks the terms in chunks of 5, 10, 20 entries and
			// stops a page at 40 read (short pages, with a cursor).
			for _, walk := range []string{"", "terms", "filters", "chunks"} {
				t.Run(fmt.Sprintf("%s/%+v/%s", text, f, walk), func(t *testing.T) {
					defer func(w string, first, scanned int) {
						sqliteTextWalk, textWalk, sqliteWalkFirst, textMaxScanned = w, "", first, scanned
					}(sqliteTextWalk, sqliteWalkFirst, textMaxScanned)
					sqliteTextWalk = walk
					textWalk = walk
					if walk == "chunks" {
						sqliteTextWalk, textWalk, sqliteWalkFirst, textMaxScanned = "terms", "terms", 5, 40
					}
					g := f
					g.Text = text
					if got := queueIDs(t, s, g, 7); !slices.Equal(got, expect) {
						t.Errorf("%d complaints %v\nwant %d %v", len(got), got, len(expect), expect)
					}
					// Exact on SQLite; on PostgreSQL a count that walked
					// its bound of rows is a lower bound, said so.
					n, capped, err := s.CountQueueUpTo(ctx, g, QueueCountCap)
					lower := (s.dialect == dialectPostgres || walk == "chunks") && capped && n <= int64(len(expect))
					if err != nil || (n != int64(len(expect)) || capped) && !lower {
						t.Errorf("count = %d capped %v (%v), want %d", n, capped, err, len(expect))
					}
				})
			}
		}
	}
	if nonEmpty < 20 {
		t.Errorf("only %d text and filter pairs had more than a page of matches", nonEmpty)
	}
}
