package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/markwatch/markwatch/internal/domain"
)

// LoadedComplaint is one complaint for LoadComplaints, with the review
// state it is stored in.
type LoadedComplaint struct {
	Body      domain.Complaint
	Status    string
	CreatedAt time.Time
	// DecidedAt and DecidedBy are zero for an open complaint.
	DecidedAt time.Time
	DecidedBy string
}

// loadColumns are the columns LoadComplaints writes, in order.
var loadColumns = []string{
	"id", "source", "listing_id", "listing_version", "mark_id", "holder_id", "seller_id", "score",
	"status", "body", "created_at", "updated_at", "decided_at", "decided_by", "queue_key", "period",
}

// LoadComplaints stores cs as fast as the database takes them, for load
// tests and benchmarks: one transaction, COPY on PostgreSQL (the
// complaint_counts triggers are off for the copy and the counts recounted
// after it, in the same transaction), batched multi-row INSERTs on SQLite.
// It writes no audit or outbox rows and does not skip duplicates: an id
// already stored fails the load. Holders' priorities are not applied; the
// next SetPriorityHolders applies them to changed holders only.
func (s *Store) LoadComplaints(ctx context.Context, cs []LoadedComplaint) error {
	rows := make([][]any, 0, len(cs))
	var matchers [][]any
	terms := make([][]any, 0, len(cs))
	var termKeys [][2]string // SQLite's complaint_term_keys rows (migration 24)
	for i := range cs {
		c := &cs[i]
		body, err := json.Marshal(&c.Body)
		if err != nil {
			return fmt.Errorf("store: load complaints: %s: %w", c.Body.ComplaintID, err)
		}
		created := millis(c.CreatedAt)
		updated := created
		var decidedAt, decidedBy any
		if !c.DecidedAt.IsZero() {
			updated = millis(c.DecidedAt)
			decidedAt, decidedBy = updated, c.DecidedBy
		}
		key := "1" + queueKeyRest(c.Body.Score, created, c.Body.ComplaintID)
		rows = append(rows, []any{
			c.Body.ComplaintID, c.Body.Source, c.Body.ListingID, c.Body.ListingVersion, c.Body.MarkID,
			c.Body.HolderID, c.Body.SellerID, c.Body.Score, c.Status, string(body), created, updated,
			decidedAt, decidedBy, key, periodOf(created),
		})
		for _, m := range EvidenceMatchers(&c.Body) {
			matchers = append(matchers, []any{c.Body.ComplaintID, m, key})
		}
		if s.dialect == dialectPostgres {
			terms = append(terms, []any{c.Body.ComplaintID, periodOf(created), key, pgTerms(complaintTerms(&c.Body))})
		} else {
			termKeys = append(termKeys, termRows(&c.Body, key)...)
		}
	}
	var err error
	if s.dialect == dialectPostgres {
		err = s.copyComplaints(ctx, rows, matchers, terms)
	} else {
		err = s.insertComplaintBatches(ctx, rows, matchers, termKeys)
	}
	if err != nil {
		return fmt.Errorf("store: load complaints: %w", err)
	}
	return nil
}

// copyComplaints copies rows, their matcher rows and their full-text terms in one transaction on
// one pgx connection, with their ids into complaint_ids, after making sure
// their months have partitions. The counting triggers are off for the copy
// and the counts of the copied rows are added to complaint_counts,
// complaint_mark_counts and complaint_matcher_counts from the rows, not recounted from the table, so
// that loading in chunks costs the same for the last chunk as for the
// first.
func (s *Store) copyComplaints(ctx context.Context, rows, matchers, terms [][]any) error {
	type countKey struct{ matcher, holder, source, status string }
	counts := map[countKey]int64{}
	matcherCounts := map[countKey]int64{}
	type markKey struct{ mark, status string }
	markCounts := map[markKey]int64{}
	periods := map[int]bool{}
	ids := make([][]any, len(rows))
	byID := make(map[string][]any, len(rows))
	for i, r := range rows {
		counts[countKey{"", r[5].(string), r[1].(string), r[8].(string)}]++
		markCounts[markKey{r[4].(string), r[8].(string)}]++
		periods[r[len(r)-1].(int)] = true
		ids[i] = []any{r[0], r[len(r)-1]}
		byID[r[0].(string)] = r
	}
	for _, m := range matchers {
		r := byID[m[0].(string)]
		matcherCounts[countKey{m[1].(string), r[5].(string), r[1].(string), r[8].(string)}]++
	}
	for p := range periods {
		if _, err := s.EnsurePartitions(ctx, periodStart(p), 1); err != nil {
			return err
		}
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			for _, q := range []string{
				`ALTER TABLE complaints DISABLE TRIGGER complaint_counts_insert`,
				`ALTER TABLE complaints DISABLE TRIGGER complaint_mark_counts_insert`,
				`ALTER TABLE complaints DISABLE TRIGGER complaint_matcher_counts_insert`,
				`ALTER TABLE complaints DISABLE TRIGGER complaint_status_insert`,
				`ALTER TABLE complaint_matchers DISABLE TRIGGER complaint_matchers_insert`,
			} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaint_ids"}, []string{"id", "period"}, pgx.CopyFromRows(ids)); err != nil {
				return fmt.Errorf("copy ids: %w", err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaints"}, loadColumns, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("copy: %w", err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaint_matchers"}, matcherColumns, pgx.CopyFromRows(matchers)); err != nil {
				return fmt.Errorf("copy matchers: %w", err)
			}
			status := make([][]any, len(rows))
			for i, r := range rows {
				status[i] = []any{r[0], r[len(r)-1], r[8], r[14], r[10]}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaint_status"}, []string{"id", "period", "status", "queue_key", "created_at"}, pgx.CopyFromRows(status)); err != nil {
				return fmt.Errorf("copy status: %w", err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaint_terms"}, []string{"id", "period", "queue_key", "terms"}, pgx.CopyFromRows(terms)); err != nil {
				return fmt.Errorf("copy terms: %w", err)
			}
			for _, q := range []string{
				`ALTER TABLE complaints ENABLE TRIGGER complaint_counts_insert`,
				`ALTER TABLE complaints ENABLE TRIGGER complaint_mark_counts_insert`,
				`ALTER TABLE complaints ENABLE TRIGGER complaint_matcher_counts_insert`,
				`ALTER TABLE complaints ENABLE TRIGGER complaint_status_insert`,
				`ALTER TABLE complaint_matchers ENABLE TRIGGER complaint_matchers_insert`,
			} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			for k, n := range counts {
				if _, err := tx.Exec(ctx, `INSERT INTO complaint_counts (holder_id, source, status, n) VALUES ($1, $2, $3, $4)
					ON CONFLICT (holder_id, source, status) DO UPDATE SET n = complaint_counts.n + excluded.n`,
					k.holder, k.source, k.status, n); err != nil {
					return err
				}
			}
			for k, n := range markCounts {
				if _, err := tx.Exec(ctx, `INSERT INTO complaint_mark_counts (mark_id, status, n) VALUES ($1, $2, $3)
					ON CONFLICT (mark_id, status) DO UPDATE SET n = complaint_mark_counts.n + excluded.n`,
					k.mark, k.status, n); err != nil {
					return err
				}
			}
			for k, n := range matcherCounts {
				if _, err := tx.Exec(ctx, `INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = complaint_matcher_counts.n + excluded.n`,
					k.matcher, k.holder, k.source, k.status, n); err != nil {
					return err
				}
			}
			if s.bulk.Load() {
				// WithoutComplaintIndexes analyzes once after the load:
				// analyzing the whole table after every chunk grew with it
				// (six minutes a chunk at four million complaints).
				return nil
			}
			for _, q := range []string{`ANALYZE complaints`, `ANALYZE complaint_matchers`, `ANALYZE complaint_terms`, `ANALYZE complaint_status`} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// loadBatch is how many rows one SQLite INSERT carries: 500 rows of 16
// columns stay under SQLite's limit of 32766 bound variables.
const loadBatch = 500

// insertComplaintBatches inserts rows in multi-row INSERTs in one
// transaction, with their complaint_term_keys rows (termKeys); the
// triggers keep complaint_counts.
func (s *Store) insertComplaintBatches(ctx context.Context, rows, matchers [][]any, termKeys [][2]string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := insertTermRows(ctx, tx.r, termKeys); err != nil {
			return err
		}
		for _, t := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{{"complaints", loadColumns, rows}, {"complaint_matchers", matcherColumns, matchers}} {
			row := "(?" + strings.Repeat(", ?", len(t.cols)-1) + ")"
			for start := 0; start < len(t.rows); start += loadBatch {
				batch := t.rows[start:min(start+loadBatch, len(t.rows))]
				args := make([]any, 0, len(batch)*len(t.cols))
				for _, r := range batch {
					args = append(args, r...)
				}
				q := `INSERT INTO ` + t.table + ` (` + strings.Join(t.cols, ", ") + `) VALUES ` +
					strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ")
				if _, err := tx.r.exec(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		_, err := tx.r.exec(ctx, `ANALYZE`)
		return err
	})
}

// matcherColumns are the complaint_matchers columns LoadComplaints writes.
var matcherColumns = []string{"complaint_id", "matcher", "queue_key"}

// SyntheticComplaints makes n realistic complaints numbered from first, the
// same for the same seed: holders, marks and sellers drawn with a long tail
// (a few big brands and repeat sellers, many small ones), scores between 0.4
// and 1, listing text from a brand and product vocabulary, arrivals spread
// over the year before now, and review states as a queue that has been
// worked for a while: a fifth open, the rest decided, some contested.
func SyntheticComplaints(seed uint64, first, n int, now time.Time) []LoadedComplaint {
	r := rand.New(rand.NewPCG(seed, uint64(first)))
	brands := []string{"Acme", "Zed", "Nimbus", "Orion", "Vela", "Lumen", "Atlas", "Kairo", "Sora", "Helix"}
	products := []string{"handbag", "sneakers", "watch", "wallet", "sunglasses", "perfume", "hoodie", "belt", "headphones", "jersey"}
	adjectives := []string{"replica", "original", "genuine", "leather", "limited", "vintage", "new", "cheap", "premium", "AAA"}
	// skewed draws i in [0, m) with small i far more likely.
	skewed := func(m int) int { return int(float64(m) * r.Float64() * r.Float64() * r.Float64()) }
	out := make([]LoadedComplaint, 0, n)
	for i := first; i < first+n; i++ {
		holder := skewed(200)
		mark := holder*10 + r.IntN(10)
		brand := brands[holder%len(brands)]
		title := fmt.Sprintf("%s %s %s %s", adjectives[r.IntN(len(adjectives))], brand, products[r.IntN(len(products))], adjectives[r.IntN(len(adjectives))])
		source := domain.SourceAuto
		if r.IntN(5) == 0 {
			source = domain.SourceRightsHolder
		}
		score := 0.4 + 0.6*r.Float64()
		c := LoadedComplaint{
			Body: domain.Complaint{
				SchemaVersion: domain.SchemaVersion, ComplaintID: fmt.Sprintf("c_load_%09d", i), Source: source,
				ListingID: fmt.Sprintf("l_%09d", i), ListingVersion: 1,
				MarkID: fmt.Sprintf("m_%04d", mark), HolderID: fmt.Sprintf("h_%03d", holder), SellerID: fmt.Sprintf("s_%06d", skewed(100_000)),
				Score:       score,
				Explanation: fmt.Sprintf("title names %s", brand),
				Evidence:    []domain.Evidence{{Matcher: "text", Score: score, Field: "title", Match: brand, Kind: "exact"}},
				Listing:     &domain.ListingSnapshot{Title: title, Description: "Brand new " + title + ", fast shipping, best price.", Brand: brand},
			},
			Status:    ComplaintOpen,
			CreatedAt: now.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond),
		}
		c.Body.CreatedAt = c.CreatedAt
		// More matchers on some, from the title already drawn, so that
		// the queue's matcher filter has something to select.
		if strings.HasPrefix(title, "replica") || strings.HasPrefix(title, "AAA") {
			c.Body.Evidence = append(c.Body.Evidence, domain.Evidence{Matcher: "cue", Score: 0.3, Field: "title", Match: strings.Fields(title)[0], Kind: "cue"})
		}
		if strings.HasSuffix(title, "cheap") {
			c.Body.Evidence = append(c.Body.Evidence, domain.Evidence{Matcher: "price", Score: 0.2, Field: "price", Kind: "below_floor"})
		}
		if i%7 == 0 {
			c.Body.Evidence = append(c.Body.Evidence, domain.Evidence{Matcher: "image", Score: 0.5, Field: "images[0]", Kind: "official_photo"})
		}
		switch d := r.IntN(20); {
		case d < 4:
		case d < 12:
			c.Status = ComplaintUpheld
		case d < 18:
			c.Status = ComplaintRejected
		case d < 19:
			c.Status = ComplaintContested
		default:
			c.Status = ComplaintReinstated
		}
		if c.Status != ComplaintOpen {
			c.DecidedAt, c.DecidedBy = c.CreatedAt.Add(time.Duration(1+r.IntN(72))*time.Hour), "u_reviewer"
		}
		out = append(out, c)
	}
	return out
}

// ComplaintsDiskSize is the disk the complaints take with their indexes:
// the partitions' total relation size, complaint_ids, complaint_terms
// (full-text terms and their GIN indexes) and complaint_status on PostgreSQL, the whole database
// file on
// SQLite (which keeps everything in one file). Load tests report it per
// million complaints.
func (s *Store) ComplaintsDiskSize(ctx context.Context) (int64, error) {
	// A partitioned table takes no space itself: its partitions do, and
	// complaint_ids beside them.
	q := `SELECT CAST(COALESCE(SUM(pg_total_relation_size(inhrelid)), 0) AS BIGINT) + pg_total_relation_size('complaint_ids')
			+ COALESCE(pg_total_relation_size(to_regclass('complaint_terms')), 0)
			+ COALESCE(pg_total_relation_size(to_regclass('complaint_status')), 0)
		FROM pg_inherits WHERE inhparent = to_regclass('complaints')`
	if s.dialect != dialectPostgres {
		q = `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`
	}
	var size int64
	if err := s.read().queryRow(ctx, q).Scan(&size); err != nil {
		return 0, fmt.Errorf("store: complaints disk size: %w", err)
	}
	return size, nil
}

// WithoutComplaintIndexes runs load with the secondary indexes of the
// complaints table, the full-text index of complaint_terms and the status
// indexes of complaint_status dropped, and builds them again after it, once, by
// sorting: a bulk load into a store of millions of rows is several times
// faster than keeping a dozen indexes current row by row. For loading a
// store for a benchmark, never beside live traffic (lists without their
// indexes scan the table meanwhile). On SQLite it only runs load.
func (s *Store) WithoutComplaintIndexes(ctx context.Context, load func() error) error {
	if s.dialect != dialectPostgres {
		return load()
	}
	rows, err := s.read().query(ctx, `SELECT indexname::text, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('complaints', 'complaint_terms', 'complaint_status')
			AND indexname NOT IN ('complaints_pkey', 'complaint_terms_pkey', 'complaint_status_pkey')`)
	if err != nil {
		return fmt.Errorf("store: complaint indexes: %w", err)
	}
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("store: complaint indexes: %w", err)
		}
		defs[name] = def
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: complaint indexes: %w", err)
	}
	for name := range defs {
		if _, err := s.writer.ExecContext(ctx, `DROP INDEX `+pgIdent(name)); err != nil {
			return fmt.Errorf("store: drop index %s: %w", name, err)
		}
	}
	s.bulk.Store(true)
	loadErr := load()
	s.bulk.Store(false)
	for name, def := range defs {
		// pg_indexes shows a partitioned table's index as made ON ONLY
		// the parent, which would build no partition's index: build them
		// all.
		def = strings.Replace(def, " ON ONLY ", " ON ", 1)
		if _, err := s.writer.ExecContext(ctx, def); err != nil {
			return errors.Join(loadErr, fmt.Errorf("store: rebuild index %s: %w", name, err))
		}
	}
	if _, err := s.writer.ExecContext(ctx, `ANALYZE complaints; ANALYZE complaint_matchers; ANALYZE complaint_terms; ANALYZE complaint_status`); err != nil {
		return errors.Join(loadErr, fmt.Errorf("store: analyze: %w", err))
	}
	return loadErr
}
