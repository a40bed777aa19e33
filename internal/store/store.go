// Package store is the review service's database: rights holders, users,
// marks, complaints, sellers with their strikes, counter-notices, the audit
// log and the outbox, in SQLite (the embedded
// default, through the pure-Go modernc.org/sqlite driver) or PostgreSQL
// (production, through pgx's database/sql driver).
//
// One set of SQL serves both databases. Queries are written with `?`
// placeholders and rebound to `$1, $2, ...` for PostgreSQL; the schema uses
// only types both accept (TEXT, BIGINT, DOUBLE PRECISION, BOOLEAN). Times are
// stored as BIGINT milliseconds since the Unix epoch, UTC: they sort and
// compare the same way in both databases, need no driver-specific time
// handling, and millisecond precision is plenty for review timestamps. JSON
// documents (a mark, a complaint, an audit detail) are stored as TEXT.
//
// Every change happens inside WithTx, through the methods of Tx, so that a
// state change, its audit entry and its outbox event commit or roll back
// together. Reads are available on both Store and Tx.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned (wrapped) when the object asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write collides with existing
// state: a duplicate id or unique value, or a state transition whose
// precondition no longer holds because another writer got there first.
var ErrConflict = errors.New("conflict")

// Options configures OpenOptions. Zero values take the defaults.
type Options struct {
	// DSN is "sqlite:PATH", "sqlite::memory:" or a PostgreSQL URL
	// ("postgres://..." or "postgresql://...").
	DSN string
	// Now is the clock used for created_at, updated_at and audit times;
	// time.Now when nil. Tests and the counter-notice timer inject a fake.
	Now func() time.Time
	// BusyTimeout is how long a SQLite connection waits for a lock held by
	// another process before failing with SQLITE_BUSY; 5s when zero.
	BusyTimeout time.Duration
	// SQLiteReaders is the size of the SQLite read-only connection pool; 4
	// when zero. An in-memory database always uses one connection.
	SQLiteReaders int
	// SQLiteCacheBytes is each SQLite connection's page cache (the writer
	// and every reader); 64 MiB when zero, SQLite's own 2 MiB when
	// negative. A page cache only grows as pages are read, so a small
	// store costs what it reads; at a million complaints the queue's
	// indexes are gigabytes, and SQLite's default keeps 500 pages of them.
	SQLiteCacheBytes int64
	// SQLiteMmapBytes is how much of a SQLite file its connections read
	// through a shared memory map rather than read calls; 1 GiB when zero,
	// none when negative. Mapped pages are the operating system's page
	// cache, shared by the connections and not counted in the process's
	// heap. An I/O error on a mapped page (a failing disk, the file
	// truncated by another program) is a fault, not an error SQLite can
	// return: set it negative where the disk is not trusted.
	SQLiteMmapBytes int64
	// MaxConns caps PostgreSQL connections; 20 when zero.
	MaxConns int
}

// Store is the review service's database. It is safe for concurrent use.
//
// On PostgreSQL, reader and writer are the same pool. On SQLite, writer is a
// pool of exactly one connection whose transactions start with BEGIN
// IMMEDIATE, and reader is a separate pool of query-only connections. SQLite
// allows one writer at a time; with a single writer connection, concurrent
// writers in this process queue inside database/sql (honouring their
// contexts) instead of competing for the file lock, and BEGIN IMMEDIATE takes
// the write lock at the start of a transaction, so a transaction never fails
// with SQLITE_BUSY when upgrading from a read to a write (a deferred
// transaction would, without waiting for busy_timeout). In WAL mode readers
// do not block the writer or each other. busy_timeout still covers other
// processes, such as `markwatch users create` beside a running server.
//
// Because of the single writer, code inside WithTx must use the Tx it is
// given and never call WithTx again: the nested call would wait for the
// connection that the outer transaction holds. An in-memory SQLite database
// has one connection for everything, so there even a Store read inside WithTx
// would wait; use the Tx's reads.
type Store struct {
	writer  *sql.DB
	reader  *sql.DB
	dialect dialect
	now     func() time.Time
	// version is the schema version, set once migrated.
	version int
	// parts are the partition months known to exist (PostgreSQL).
	parts partitions
	// bulk is set while WithoutComplaintIndexes runs its load: the
	// statistics are gathered once after it, not after every chunk.
	bulk atomic.Bool
}

// partitionsAhead is how many months of partitions Open makes sure of,
// the current one included.
const partitionsAhead = 3

// Open opens the database named by dsn (see Options.DSN) with default
// options and applies any pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenOptions(ctx, Options{DSN: dsn})
}

// OpenOptions opens the database named by opts.DSN and applies any pending
// migrations. The caller must Close the Store.
func OpenOptions(ctx context.Context, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.SQLiteReaders <= 0 {
		opts.SQLiteReaders = 4
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	if opts.SQLiteCacheBytes == 0 {
		opts.SQLiteCacheBytes = 64 << 20
	}
	if opts.SQLiteMmapBytes == 0 {
		opts.SQLiteMmapBytes = 1 << 30
	}
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(opts.DSN, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(opts.DSN, "sqlite:"), opts)
	case strings.HasPrefix(opts.DSN, "postgres://"), strings.HasPrefix(opts.DSN, "postgresql://"):
		s, err = openPostgres(ctx, opts)
	default:
		// The DSN is not echoed: a key=value PostgreSQL DSN would leak its password.
		return nil, errors.New("store: open: dsn must start with sqlite:, postgres:// or postgresql://")
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.version = len(migrations)
	if _, err := s.EnsurePartitions(ctx, s.now(), partitionsAhead); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteMemoryParams are the DSN parameters of a file connection's page
// cache and memory map (Options.SQLiteCacheBytes, SQLiteMmapBytes). At a
// million complaints, a text search of four common words walks ~20,000
// index entries and probes each: 85–110 ms p95 with SQLite's defaults,
// 75 ms with both (docs/BENCHMARKS.md).
func sqliteMemoryParams(opts Options) string {
	var p string
	if opts.SQLiteCacheBytes > 0 {
		// A negative cache_size is in KiB.
		p += "&_pragma=cache_size(-" + strconv.FormatInt(max(opts.SQLiteCacheBytes>>10, 1), 10) + ")"
	}
	if opts.SQLiteMmapBytes > 0 {
		p += "&_pragma=mmap_size(" + strconv.FormatInt(opts.SQLiteMmapBytes, 10) + ")"
	}
	return p
}

func openSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: open sqlite: bad path %q (want sqlite:PATH or sqlite::memory:)", path)
	}
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	// WAL lets readers run beside the writer; synchronous=NORMAL is the
	// usual WAL setting: a power loss can drop the last transactions but
	// never corrupts the file or splits a transaction.
	params := "?_busy_timeout=" + busy + "&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate" + sqliteMemoryParams(opts)
	s := &Store{dialect: dialectSQLite, now: opts.Now}
	if path == ":memory:" {
		// Every connection to :memory: is a database of its own, so one
		// connection does everything, and it must never be recycled.
		db, err := sql.Open("sqlite", ":memory:?_busy_timeout="+busy+"&_foreign_keys=1&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite memory: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.writer, s.reader = db, db
	} else {
		w, err := sql.Open("sqlite", path+params)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxIdleTime(0)
		// Connect the writer first: it creates the file and switches it to
		// WAL, which is persistent, before any reader opens it.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		r, err := sql.Open("sqlite", path+"?_busy_timeout="+busy+"&_foreign_keys=1&_query_only=1"+sqliteMemoryParams(opts))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
		r.SetMaxOpenConns(opts.SQLiteReaders)
		r.SetMaxIdleConns(opts.SQLiteReaders)
		s.writer, s.reader = w, r
	}
	if err := s.reader.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", redact(opts.DSN), err)
	}
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(min(opts.MaxConns, 5))
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open postgres %s: %w", redact(opts.DSN), err)
	}
	return &Store{writer: db, reader: db, dialect: dialectPostgres, now: opts.Now}, nil
}

// Close closes the database connections. Transactions still running fail.
func (s *Store) Close() error {
	err := s.writer.Close()
	if s.reader != s.writer {
		err = errors.Join(err, s.reader.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Tx is one database transaction, handed to the function given to WithTx.
// It is not safe for concurrent use and is invalid once that function
// returns.
type Tx struct {
	r   runner
	now time.Time
	// log holds the audit entries and outbox events of DeferLog.
	log logBatch
}

// WithTx runs fn in a transaction: it commits when fn returns nil and rolls
// back when fn returns an error (returned as is) or panics. Every write of
// the store happens here, so that a change, its audit entry and its outbox
// event are atomic. All times written in one transaction are the same
// instant, read from the clock once when it begins.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	record(ctx, "BEGIN")
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	committed := false
	defer func() {
		// Also reached when fn panics: the connection must go back to
		// the pool without the transaction, or the single SQLite writer
		// would be lost.
		if !committed {
			record(ctx, "ROLLBACK")
			if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && err != nil {
				err = errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
			}
		}
	}()
	tx := &Tx{r: runner{q: sqlTx, dialect: s.dialect}, now: s.now()}
	if s.partitioned() {
		// Complaints and audit entries written in this transaction land
		// in the partitions of tx.now's month.
		if err := s.ensurePeriod(ctx, tx.r, periodOf(millis(tx.now))); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.writeLog(ctx); err != nil {
		return err
	}
	record(ctx, "COMMIT")
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	committed = true
	return nil
}

// read returns the runner for reads outside a transaction.
func (s *Store) read() runner { return runner{q: s.reader, dialect: s.dialect} }

// dialect tells the two databases apart where their SQL differs.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runner runs portable SQL, written with ? placeholders, on a pool or a
// transaction.
type runner struct {
	q       querier
	dialect dialect
}

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	record(ctx, query)
	return r.q.ExecContext(ctx, r.dialect.rebind(query), args...)
}

func (r runner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	record(ctx, query)
	return r.q.QueryContext(ctx, r.dialect.rebind(query), args...)
}

func (r runner) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	record(ctx, query)
	return r.q.QueryRowContext(ctx, r.dialect.rebind(query), args...)
}

// rebind turns the ? placeholders of query into $1, $2, ... for PostgreSQL.
// A ? inside a single-quoted literal, a double-quoted identifier or a
// comment is left alone. The store's own SQL uses none of those, but a
// literal containing ? must not silently shift every argument.
func (d dialect) rebind(query string) string {
	if d != dialectPostgres || !strings.ContainsRune(query, '?') {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isUniqueViolation tells whether err is a unique or primary key violation in
// either database.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// millis is how times are stored: milliseconds since the Unix epoch, UTC.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromNullMillis reads a nullable time; NULL is the zero time.
func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

// newID returns prefix followed by 128 random bits in hex, for objects whose
// caller does not choose an id.
func newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// redact hides the password of a database URL in error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	if u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
