package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// A period is the retention bucket of a complaint (migration 16): the month
// of its arrival in the store as YYYYMM, UTC. On PostgreSQL complaints and
// audit_log are partitioned by it (audit_log by the millisecond range of the
// month), so that retention drops whole months. periodKept (0) holds the
// complaints kept past their month.
const periodKept = 0

// periodOf is the period of a time in milliseconds since the epoch.
func periodOf(ms int64) int {
	t := time.UnixMilli(ms).UTC()
	return t.Year()*100 + int(t.Month())
}

// periodStart is the first instant of period p, UTC.
func periodStart(p int) time.Time {
	return time.Date(p/100, time.Month(p%100), 1, 0, 0, 0, 0, time.UTC)
}

// nextPeriod is the period after p.
func nextPeriod(p int) int { return periodOf(periodStart(p).AddDate(0, 1, 0).UnixMilli()) }

// partitionLockKey serializes partition creation across processes
// ("mwpartit" in ASCII), so that two replicas creating a month at once do
// not collide in the catalog.
const partitionLockKey = 0x6d77706172746974

// partitions remembers the periods whose partitions this process has seen
// in the catalog, so that a write checks the catalog once a month.
type partitions struct {
	mu    sync.Mutex
	known map[int]bool
}

func (p *partitions) has(period int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known[period]
}

func (p *partitions) add(period int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known == nil {
		p.known = map[int]bool{}
	}
	p.known[period] = true
}

func (p *partitions) forget(period int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.known, period)
}

// partitionedSchema is the schema version whose migration partitions
// complaints and audit_log on PostgreSQL (migration 16).
const partitionedSchema = 16

// partitioned tells whether the store's tables are partitioned: PostgreSQL
// at schema version partitionedSchema or later.
func (s *Store) partitioned() bool {
	return s.dialect == dialectPostgres && s.version >= partitionedSchema
}

// EnsurePartitions creates on PostgreSQL the partitions of complaints and
// audit_log for the month of from and the months after it, months in all,
// that do not exist yet, and returns how many it created (a month counts
// once for both tables). On SQLite, which does not partition, it does
// nothing. Creating a partition takes a short exclusive lock on its parent
// table, so the retention job creates them ahead of time; a write in a
// month without its partitions creates them itself (see WithTx).
func (s *Store) EnsurePartitions(ctx context.Context, from time.Time, months int) (int, error) {
	if !s.partitioned() {
		return 0, nil
	}
	created := 0
	p := periodOf(from.UnixMilli())
	for range max(months, 1) {
		if !s.parts.has(p) {
			var made bool
			err := s.WithTx(ctx, func(tx *Tx) error {
				var err error
				made, err = tx.r.createPeriod(ctx, p)
				return err
			})
			if err != nil {
				return created, fmt.Errorf("store: ensure partitions %d: %w", p, err)
			}
			if made {
				created++
			}
			s.parts.add(p)
		}
		p = nextPeriod(p)
	}
	return created, nil
}

// ensurePeriod makes sure, inside a write transaction, that period p has
// its partitions, creating them in the transaction when they do not exist.
// A period is remembered only once seen committed in the catalog, so that
// a rolled-back creation is made again by the next write.
func (s *Store) ensurePeriod(ctx context.Context, r runner, p int) error {
	if s.parts.has(p) {
		return nil
	}
	made, err := r.createPeriod(ctx, p)
	if err != nil {
		return fmt.Errorf("store: partitions of %d: %w", p, err)
	}
	if !made {
		s.parts.add(p)
	}
	return nil
}

// createPeriod creates the partitions of complaints and audit_log for
// period p unless they exist, and tells whether it created any.
func (r runner) createPeriod(ctx context.Context, p int) (bool, error) {
	complaints, audit := "complaints_p"+strconv.Itoa(p), "audit_log_p"+strconv.Itoa(p)
	exist := func() (bool, error) {
		var n int
		err := r.queryRow(ctx, `SELECT (to_regclass(?) IS NOT NULL)::int + (to_regclass(?) IS NOT NULL)::int`,
			complaints, audit).Scan(&n)
		return n == 2, err
	}
	if ok, err := exist(); err != nil || ok {
		return false, err
	}
	if _, err := r.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(partitionLockKey)); err != nil {
		return false, err
	}
	if ok, err := exist(); err != nil || ok {
		return false, err
	}
	next := nextPeriod(p)
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF complaints FOR VALUES FROM (%d) TO (%d) WITH (fillfactor = 90)`,
			complaints, p, next),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF audit_log FOR VALUES FROM (%d) TO (%d)`,
			audit, periodStart(p).UnixMilli(), periodStart(next).UnixMilli()),
	} {
		if _, err := r.exec(ctx, q); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Partition is one monthly partition of a partitioned table.
type Partition struct {
	// Table is complaints or audit_log; Name the partition's table.
	Table, Name string
	// Period is the month it holds, YYYYMM; 0 for complaints_kept.
	Period int
}

// Partitions lists the partitions of complaints and audit_log, by table
// and period; none on SQLite.
func (s *Store) Partitions(ctx context.Context) ([]Partition, error) {
	if !s.partitioned() {
		return nil, nil
	}
	rows, err := s.read().query(ctx, `SELECT p.relname::text, c.relname::text FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.oid IN (to_regclass('complaints'), to_regclass('audit_log')) AND c.relkind = 'r'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("store: partitions: %w", err)
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		var pt Partition
		if err := rows.Scan(&pt.Table, &pt.Name); err != nil {
			return nil, fmt.Errorf("store: partitions: %w", err)
		}
		if i := len(pt.Name) - 6; i > 0 && pt.Name[i-2:i] == "_p" {
			pt.Period, _ = strconv.Atoi(pt.Name[i:])
		}
		out = append(out, pt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: partitions: %w", err)
	}
	return out, nil
}
