package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// migrations are the schema, in order; migrations[i] takes the database from
// version i to version i+1. Never edit or reorder one that has shipped:
// append a new one.
//
// They are written once for both databases. The one construct the two spell
// differently, an auto-incrementing primary key, is written {{serial_pk}} and
// expanded per dialect: SQLite's AUTOINCREMENT never reuses an id, and
// PostgreSQL's identity column never does either, so audit and outbox ids
// only grow.
var migrations = []string{
	// 1: rights holders and the people and services that act for them.
	`CREATE TABLE holders (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE users (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		role       TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'brand_owner', 'marketplace')),
		holder_id  TEXT REFERENCES holders (id),
		token_hash TEXT NOT NULL UNIQUE,
		created_at BIGINT NOT NULL,
		-- A brand owner acts for exactly one holder; nobody else acts for any.
		CHECK ((role = 'brand_owner') = (holder_id IS NOT NULL))
	);
	CREATE INDEX users_holder_id ON users (holder_id);`,

	// 2: the registry. body is the domain.Mark as JSON; the columns beside it
	// are what queries filter on.
	`CREATE TABLE marks (
		id         TEXT PRIMARY KEY,
		holder_id  TEXT NOT NULL REFERENCES holders (id),
		status     TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'removed')),
		body       TEXT NOT NULL,
		version    BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE INDEX marks_holder_id ON marks (holder_id);`,

	// 3: the complaint queue. body is the domain.Complaint as JSON. mark_id
	// and holder_id are facts from the complaints topic, not foreign keys:
	// a complaint is kept even when it names a mark this registry lost.
	`CREATE TABLE complaints (
		id              TEXT PRIMARY KEY,
		source          TEXT NOT NULL CHECK (source IN ('auto', 'rights_holder')),
		listing_id      TEXT NOT NULL,
		listing_version BIGINT NOT NULL,
		mark_id         TEXT NOT NULL,
		holder_id       TEXT NOT NULL,
		seller_id       TEXT NOT NULL,
		score           DOUBLE PRECISION NOT NULL,
		status          TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected', 'contested', 'reinstated')),
		body            TEXT NOT NULL,
		created_at      BIGINT NOT NULL,
		updated_at      BIGINT NOT NULL,
		decided_at      BIGINT,
		decided_by      TEXT
	);
	CREATE INDEX complaints_status_created_at ON complaints (status, created_at);
	CREATE INDEX complaints_holder_id ON complaints (holder_id, created_at);
	CREATE INDEX complaints_mark_id ON complaints (mark_id);
	CREATE INDEX complaints_seller_id ON complaints (seller_id);
	CREATE INDEX complaints_listing_id ON complaints (listing_id);`,

	// 4: the append-only audit log. Nothing in the store updates or deletes
	// its rows.
	`CREATE TABLE audit_log (
		id          {{serial_pk}},
		at          BIGINT NOT NULL,
		actor       TEXT NOT NULL,
		action      TEXT NOT NULL,
		object_type TEXT NOT NULL,
		object_id   TEXT NOT NULL,
		detail      TEXT NOT NULL
	);
	CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);`,

	// 5: the transactional outbox. A NULL payload is a tombstone for the
	// compacted marks topic.
	`CREATE TABLE outbox (
		id           {{serial_pk}},
		event_id     TEXT NOT NULL UNIQUE,
		topic        TEXT NOT NULL,
		key          TEXT NOT NULL,
		payload      TEXT,
		created_at   BIGINT NOT NULL,
		published_at BIGINT
	);
	CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;`,

	// 6: the review flow. A seller's status only climbs the strike ladder;
	// a strike is one upheld complaint (complaint_id is unique, so a
	// re-decision never counts twice) and stops counting at expires_at. A
	// counter-notice is filed at most once per complaint. claimed_until is
	// the outbox relay's lease on an event: another relay may take it only
	// once the lease has run out, which is how an event claimed by a relay
	// that died is still published.
	`CREATE TABLE sellers (
		id         TEXT PRIMARY KEY,
		status     TEXT NOT NULL CHECK (status IN ('active', 'warned', 'suspended', 'terminated')),
		updated_at BIGINT NOT NULL
	);
	CREATE TABLE strikes (
		id           {{serial_pk}},
		seller_id    TEXT NOT NULL,
		complaint_id TEXT NOT NULL UNIQUE REFERENCES complaints (id),
		created_at   BIGINT NOT NULL,
		expires_at   BIGINT NOT NULL
	);
	CREATE INDEX strikes_seller_expires_at ON strikes (seller_id, expires_at);
	CREATE TABLE counter_notices (
		complaint_id TEXT PRIMARY KEY REFERENCES complaints (id),
		actor        TEXT NOT NULL,
		statement    TEXT NOT NULL,
		filed_at     BIGINT NOT NULL,
		reinstate_at BIGINT NOT NULL,
		state        TEXT NOT NULL CHECK (state IN ('waiting', 'escalated', 'reinstated', 'decided')),
		updated_at   BIGINT NOT NULL
	);
	CREATE INDEX counter_notices_due ON counter_notices (state, reinstate_at);
	ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;`,

	// 7: the console. People log in with a username and a password (a
	// bcrypt hash; NULL for service accounts that only use tokens); a
	// disabled user can do nothing. A session is stored by the hash of its
	// cookie, with its CSRF token and both expiries. A claim is one
	// reviewer's lease on one complaint, so two never work the same item.
	`ALTER TABLE users ADD COLUMN username TEXT;
	ALTER TABLE users ADD COLUMN password_hash TEXT;
	ALTER TABLE users ADD COLUMN disabled_at BIGINT;
	CREATE UNIQUE INDEX users_username ON users (username);
	CREATE TABLE sessions (
		id_hash    TEXT PRIMARY KEY,
		user_id    TEXT NOT NULL REFERENCES users (id),
		csrf       TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		seen_at    BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX sessions_user_id ON sessions (user_id);
	CREATE TABLE claims (
		complaint_id TEXT PRIMARY KEY REFERENCES complaints (id),
		user_id      TEXT NOT NULL,
		expires_at   BIGINT NOT NULL
	);`,

	// 8, sweep: complaints found by a retroactive sweep (source 'sweep') join
	// the queue. Only the CHECK on complaints.source changes. PostgreSQL
	// swaps the constraint. SQLite cannot alter a CHECK, so the table is
	// rebuilt (SQLite's documented procedure): a copy, the old table
	// dropped, the new one created under the old name, the rows put back,
	// the indexes recreated. defer_foreign_keys holds the foreign keys that
	// point at complaints (strikes, counter-notices) until commit, by which
	// time every row is back; it resets itself at commit. The copy is
	// SELECT * in the column order of migration 3, so this must stay the
	// first migration after 3 that touches the complaints table's columns.
	`{{postgres}}
	ALTER TABLE complaints DROP CONSTRAINT complaints_source_check;
	ALTER TABLE complaints ADD CONSTRAINT complaints_source_check CHECK (source IN ('auto', 'rights_holder', 'sweep'));
	{{end}}{{sqlite}}
	PRAGMA defer_foreign_keys = ON;
	CREATE TABLE complaints_before_sweep AS SELECT * FROM complaints;
	DROP TABLE complaints;
	CREATE TABLE complaints (
		id              TEXT PRIMARY KEY,
		source          TEXT NOT NULL CHECK (source IN ('auto', 'rights_holder', 'sweep')),
		listing_id      TEXT NOT NULL,
		listing_version BIGINT NOT NULL,
		mark_id         TEXT NOT NULL,
		holder_id       TEXT NOT NULL,
		seller_id       TEXT NOT NULL,
		score           DOUBLE PRECISION NOT NULL,
		status          TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected', 'contested', 'reinstated')),
		body            TEXT NOT NULL,
		created_at      BIGINT NOT NULL,
		updated_at      BIGINT NOT NULL,
		decided_at      BIGINT,
		decided_by      TEXT
	);
	INSERT INTO complaints SELECT * FROM complaints_before_sweep;
	DROP TABLE complaints_before_sweep;
	CREATE INDEX complaints_status_created_at ON complaints (status, created_at);
	CREATE INDEX complaints_holder_id ON complaints (holder_id, created_at);
	CREATE INDEX complaints_mark_id ON complaints (mark_id);
	CREATE INDEX complaints_seller_id ON complaints (seller_id);
	CREATE INDEX complaints_listing_id ON complaints (listing_id);
	{{end}}`,

	// 9: the console's queue. Holder standings (every queue search reads
	// them) count decided manual complaints: without the first index, a
	// scan of the whole queue. The second is the queue's order without
	// full text: score descending, then age. After 8, which rebuilds the
	// complaints table on SQLite.
	`CREATE INDEX complaints_source_holder_status ON complaints (source, holder_id, status);
	CREATE INDEX complaints_queue ON complaints (status, score DESC, created_at, id);`,

	// 10: messages on a complaint between its rights holder and the
	// listing's seller; plain text, appended only, read by reviewers too.
	`CREATE TABLE complaint_messages (
		id           {{serial_pk}},
		complaint_id TEXT NOT NULL,
		author       TEXT NOT NULL CHECK (author IN ('holder', 'seller')),
		actor        TEXT NOT NULL,
		body         TEXT NOT NULL,
		created_at   BIGINT NOT NULL
	);
	CREATE INDEX complaint_messages_complaint ON complaint_messages (complaint_id, id);`,

	// 11, buyer reports: buyers' reports of fakes from the buyer-reports
	// topic, stored once by report id. body is the domain.BuyerReport as
	// JSON; new_account (0 or 1) is whether the buyer's account was under
	// 30 days old when it reported; received_at is the store's clock, what
	// a buyer's report history is counted by.
	`CREATE TABLE buyer_reports (
		id              TEXT PRIMARY KEY,
		listing_id      TEXT NOT NULL,
		listing_version BIGINT NOT NULL,
		seller_id       TEXT NOT NULL,
		buyer_id        TEXT NOT NULL,
		reason          TEXT NOT NULL CHECK (reason IN ('counterfeit', 'not_as_described')),
		new_account     INTEGER NOT NULL CHECK (new_account IN (0, 1)),
		body            TEXT NOT NULL,
		created_at      BIGINT NOT NULL,
		received_at     BIGINT NOT NULL
	);
	CREATE INDEX buyer_reports_listing_id ON buyer_reports (listing_id);
	CREATE INDEX buyer_reports_seller_id ON buyer_reports (seller_id, received_at);
	CREATE INDEX buyer_reports_buyer_id ON buyer_reports (buyer_id, received_at);`,

	// 12, scale: what the review queue reads on every request costs the same
	// at ten million complaints as at ten thousand. complaints_updated_at is
	// the store's change stream, which the search index follows from its
	// watermark. complaint_counts holds how many complaints each (holder,
	// source, status) has, kept by triggers in the transaction of the row
	// change whatever the writer, so queue stats, holder standings and the
	// total of a status or holder list read a few rows instead of counting
	// the table. The triggers only fire on a change of those three columns.
	//
	// queue_key is the review queue's order as one ascending string (see
	// queueKey): priority descending, score descending, arrival ascending,
	// id. An index of each list filter followed by queue_key serves every
	// single-filter page of the queue, keyset-paged, in the rows of the page
	// whatever the size of the table. It is compared bytewise: COLLATE "C" on
	// PostgreSQL, SQLite's default BINARY. holder_priority lists the holders
	// whose complaints come first (good-faith ones); a complaint takes its
	// holder's priority when stored and when the holder's changes.
	`{{postgres}}
	ALTER TABLE complaints ADD COLUMN queue_key TEXT COLLATE "C";
	UPDATE complaints SET queue_key = '1' || lpad(CAST(ROUND((1 - score) * 1e15) AS BIGINT)::text, 16, '0')
		|| lpad(created_at::text, 16, '0') || id;
	{{end}}{{sqlite}}
	ALTER TABLE complaints ADD COLUMN queue_key TEXT;
	UPDATE complaints SET queue_key = printf('1%016d%016d', CAST(ROUND((1 - score) * 1e15) AS INTEGER), created_at) || id;
	{{end}}
	CREATE TABLE holder_priority (
		holder_id TEXT PRIMARY KEY,
		priority  BIGINT NOT NULL
	);
	CREATE INDEX complaints_queue_key ON complaints (queue_key);
	CREATE INDEX complaints_status_queue ON complaints (status, queue_key);
	CREATE INDEX complaints_source_queue ON complaints (source, queue_key);
	CREATE INDEX complaints_mark_queue ON complaints (mark_id, queue_key);
	CREATE INDEX complaints_holder_queue ON complaints (holder_id, queue_key);
	CREATE INDEX complaints_seller_queue ON complaints (seller_id, queue_key);
	CREATE INDEX complaints_updated_at ON complaints (updated_at, id);
	CREATE TABLE complaint_counts (
		holder_id TEXT NOT NULL,
		source    TEXT NOT NULL,
		status    TEXT NOT NULL,
		n         BIGINT NOT NULL,
		PRIMARY KEY (holder_id, source, status)
	);
	INSERT INTO complaint_counts (holder_id, source, status, n)
		SELECT holder_id, source, status, COUNT(*) FROM complaints GROUP BY holder_id, source, status;
	{{postgres}}
	CREATE FUNCTION complaint_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP IN ('UPDATE', 'DELETE') THEN
			UPDATE complaint_counts SET n = n - 1
				WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status;
		END IF;
		IF TG_OP IN ('INSERT', 'UPDATE') THEN
			INSERT INTO complaint_counts (holder_id, source, status, n)
				VALUES (NEW.holder_id, NEW.source, NEW.status, 1)
				ON CONFLICT (holder_id, source, status) DO UPDATE SET n = complaint_counts.n + 1;
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER complaint_counts_insert AFTER INSERT OR DELETE ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_counts_track();
	CREATE TRIGGER complaint_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		FOR EACH ROW WHEN (OLD.holder_id IS DISTINCT FROM NEW.holder_id OR OLD.source IS DISTINCT FROM NEW.source
			OR OLD.status IS DISTINCT FROM NEW.status)
		EXECUTE FUNCTION complaint_counts_track();
	{{end}}{{sqlite}}
	CREATE TRIGGER complaint_counts_insert AFTER INSERT ON complaints BEGIN
		INSERT INTO complaint_counts (holder_id, source, status, n)
			VALUES (NEW.holder_id, NEW.source, NEW.status, 1)
			ON CONFLICT (holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER complaint_counts_delete AFTER DELETE ON complaints BEGIN
		UPDATE complaint_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status;
	END;
	CREATE TRIGGER complaint_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		WHEN OLD.holder_id IS NOT NEW.holder_id OR OLD.source IS NOT NEW.source OR OLD.status IS NOT NEW.status
	BEGIN
		UPDATE complaint_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status;
		INSERT INTO complaint_counts (holder_id, source, status, n)
			VALUES (NEW.holder_id, NEW.source, NEW.status, 1)
			ON CONFLICT (holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	{{end}}`,

	// 13: what the matcher makes of each uploaded reference image, shown to
	// the brand owner as it uploads: the report (size, the trimmed box that
	// is matched, warnings) and a small grey PNG of that box. Uploads keep
	// only their hashes in the mark; this is their picture.
	`CREATE TABLE mark_image_previews (
		mark_id    TEXT NOT NULL,
		url        TEXT NOT NULL,
		kind       TEXT NOT NULL,
		file_name  TEXT NOT NULL,
		report     TEXT NOT NULL,
		image      {{sqlite}}BLOB{{end}}{{postgres}}BYTEA{{end}} NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (mark_id, url)
	)`,

	// 14, seller networks: seller_keys is what each seller was seen with
	// (a contact handle, a photo hash, a ship-from, a payout account hash,
	// internal/linking), once per (key, seller), with the first listing it
	// was seen in: the evidence of every link. seller_key_stats counts a
	// key's sellers; a key past the cap is common (a courier's phone, a
	// stock photo), its seller_keys rows are dropped and it links nobody.
	// seller_networks is the union-find of linked sellers, flattened: every
	// seller in a network of two or more names the network's id (one of its
	// sellers); a seller without a row is alone. seller_priority lists the
	// sellers whose network has a strike (an upheld complaint): their
	// complaints come first in the queue, like a priority holder's.
	`CREATE TABLE seller_keys (
		kind       TEXT NOT NULL,
		value      TEXT NOT NULL,
		seller_id  TEXT NOT NULL,
		listing_id TEXT NOT NULL,
		first_seen BIGINT NOT NULL,
		PRIMARY KEY (kind, value, seller_id)
	);
	CREATE INDEX seller_keys_seller_id ON seller_keys (seller_id);
	CREATE TABLE seller_key_stats (
		kind    TEXT NOT NULL,
		value   TEXT NOT NULL,
		sellers BIGINT NOT NULL,
		common  INTEGER NOT NULL CHECK (common IN (0, 1)),
		PRIMARY KEY (kind, value)
	);
	CREATE TABLE seller_networks (
		seller_id  TEXT PRIMARY KEY,
		network_id TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE INDEX seller_networks_network_id ON seller_networks (network_id);
	CREATE TABLE seller_priority (
		seller_id TEXT PRIMARY KEY,
		since     BIGINT NOT NULL
	);`,

	// 15, buyer complaints: a listing with enough independent buyer
	// reports becomes a complaint of source 'buyer' (mark_id may be empty:
	// a marketplace-level item), or puts an existing complaint on the
	// listing first: listing_priority lists those listings, and the queue
	// key's priority is holder OR seller OR listing. Only the CHECK on
	// complaints.source changes in complaints. PostgreSQL swaps the
	// constraint; SQLite rebuilds the table as migration 8 did, with the
	// columns named (queue_key from 12 included), then its indexes (3, 9,
	// 12) and, after the rows are back so that they do not count twice,
	// the complaint_counts triggers of 12.
	`{{postgres}}
	ALTER TABLE complaints DROP CONSTRAINT complaints_source_check;
	ALTER TABLE complaints ADD CONSTRAINT complaints_source_check CHECK (source IN ('auto', 'rights_holder', 'sweep', 'buyer'));
	{{end}}{{sqlite}}
	PRAGMA defer_foreign_keys = ON;
	CREATE TABLE complaints_before_buyer AS SELECT id, source, listing_id, listing_version, mark_id, holder_id, seller_id,
		score, status, body, created_at, updated_at, decided_at, decided_by, queue_key FROM complaints;
	DROP TABLE complaints;
	CREATE TABLE complaints (
		id              TEXT PRIMARY KEY,
		source          TEXT NOT NULL CHECK (source IN ('auto', 'rights_holder', 'sweep', 'buyer')),
		listing_id      TEXT NOT NULL,
		listing_version BIGINT NOT NULL,
		mark_id         TEXT NOT NULL,
		holder_id       TEXT NOT NULL,
		seller_id       TEXT NOT NULL,
		score           DOUBLE PRECISION NOT NULL,
		status          TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected', 'contested', 'reinstated')),
		body            TEXT NOT NULL,
		created_at      BIGINT NOT NULL,
		updated_at      BIGINT NOT NULL,
		decided_at      BIGINT,
		decided_by      TEXT,
		queue_key       TEXT
	);
	INSERT INTO complaints (id, source, listing_id, listing_version, mark_id, holder_id, seller_id,
		score, status, body, created_at, updated_at, decided_at, decided_by, queue_key)
		SELECT id, source, listing_id, listing_version, mark_id, holder_id, seller_id,
		score, status, body, created_at, updated_at, decided_at, decided_by, queue_key FROM complaints_before_buyer;
	DROP TABLE complaints_before_buyer;
	CREATE INDEX complaints_status_created_at ON complaints (status, created_at);
	CREATE INDEX complaints_holder_id ON complaints (holder_id, created_at);
	CREATE INDEX complaints_mark_id ON complaints (mark_id);
	CREATE INDEX complaints_seller_id ON complaints (seller_id);
	CREATE INDEX complaints_listing_id ON complaints (listing_id);
	CREATE INDEX complaints_source_holder_status ON complaints (source, holder_id, status);
	CREATE INDEX complaints_queue ON complaints (status, score DESC, created_at, id);
	CREATE INDEX complaints_queue_key ON complaints (queue_key);
	CREATE INDEX complaints_status_queue ON complaints (status, queue_key);
	CREATE INDEX complaints_source_queue ON complaints (source, queue_key);
	CREATE INDEX complaints_mark_queue ON complaints (mark_id, queue_key);
	CREATE INDEX complaints_holder_queue ON complaints (holder_id, queue_key);
	CREATE INDEX complaints_seller_queue ON complaints (seller_id, queue_key);
	CREATE INDEX complaints_updated_at ON complaints (updated_at, id);
	CREATE TRIGGER complaint_counts_insert AFTER INSERT ON complaints BEGIN
		INSERT INTO complaint_counts (holder_id, source, status, n)
			VALUES (NEW.holder_id, NEW.source, NEW.status, 1)
			ON CONFLICT (holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER complaint_counts_delete AFTER DELETE ON complaints BEGIN
		UPDATE complaint_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status;
	END;
	CREATE TRIGGER complaint_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		WHEN OLD.holder_id IS NOT NEW.holder_id OR OLD.source IS NOT NEW.source OR OLD.status IS NOT NEW.status
	BEGIN
		UPDATE complaint_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status;
		INSERT INTO complaint_counts (holder_id, source, status, n)
			VALUES (NEW.holder_id, NEW.source, NEW.status, 1)
			ON CONFLICT (holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	{{end}}
	CREATE TABLE listing_priority (
		listing_id TEXT PRIMARY KEY,
		since      BIGINT NOT NULL
	);`,

	// 16, growth: partitions and retention. On PostgreSQL complaints are
	// partitioned by period — the month of arrival as YYYYMM, or 0 for a
	// complaint kept past its month because a strike or counter-notice still
	// needs it (complaints_kept) — and audit_log by month of at, so that
	// retention drops whole months (store.ApplyRetention). PostgreSQL wants
	// the partition key in every unique constraint, so the primary key is
	// (id, period) and the id alone is unique in complaint_ids, a narrow
	// table the idempotent insert claims first and that strikes,
	// counter-notices and claims now refer to. A period is derived from the
	// store's arrival time and never changes except to 0, a row movement
	// the complaint_counts triggers see as a delete and an insert. Existing
	// rows are copied into the partitions of their months; partitions of
	// later months are created by store.EnsurePartitions (at open, by the
	// retention job, and by the first write of a month that has none).
	//
	// Also on both: complaints_queue (migration 9) goes, since no query
	// orders by score alone any more (ListQueue reads queue_key); so do
	// complaints_mark_id and complaints_seller_id, prefixes of
	// complaints_mark_queue and complaints_seller_queue. Hot tables leave
	// room on each page (fillfactor) so that updates of unindexed columns
	// (complaint_counts.n, sellers.status, outbox.claimed_until) stay on the
	// page as HOT updates, without index writes.
	`{{postgres}}
	CREATE TABLE complaint_ids (id TEXT PRIMARY KEY);
	INSERT INTO complaint_ids (id) SELECT id FROM complaints;
	ALTER TABLE strikes DROP CONSTRAINT strikes_complaint_id_fkey;
	ALTER TABLE counter_notices DROP CONSTRAINT counter_notices_complaint_id_fkey;
	ALTER TABLE claims DROP CONSTRAINT claims_complaint_id_fkey;
	ALTER TABLE strikes ADD CONSTRAINT strikes_complaint_id_fkey FOREIGN KEY (complaint_id) REFERENCES complaint_ids (id);
	ALTER TABLE counter_notices ADD CONSTRAINT counter_notices_complaint_id_fkey FOREIGN KEY (complaint_id) REFERENCES complaint_ids (id);
	ALTER TABLE claims ADD CONSTRAINT claims_complaint_id_fkey FOREIGN KEY (complaint_id) REFERENCES complaint_ids (id);

	ALTER TABLE complaints RENAME TO complaints_before_partitioning;
	ALTER TABLE complaints_before_partitioning DROP CONSTRAINT complaints_pkey;
	DROP INDEX complaints_status_created_at, complaints_holder_id, complaints_mark_id, complaints_seller_id,
		complaints_listing_id, complaints_source_holder_status, complaints_queue, complaints_queue_key,
		complaints_status_queue, complaints_source_queue, complaints_mark_queue, complaints_holder_queue,
		complaints_seller_queue, complaints_updated_at;
	CREATE TABLE complaints (
		id              TEXT NOT NULL,
		source          TEXT NOT NULL CHECK (source IN ('auto', 'rights_holder', 'sweep', 'buyer')),
		listing_id      TEXT NOT NULL,
		listing_version BIGINT NOT NULL,
		mark_id         TEXT NOT NULL,
		holder_id       TEXT NOT NULL,
		seller_id       TEXT NOT NULL,
		score           DOUBLE PRECISION NOT NULL,
		status          TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected', 'contested', 'reinstated')),
		body            TEXT NOT NULL,
		created_at      BIGINT NOT NULL,
		updated_at      BIGINT NOT NULL,
		decided_at      BIGINT,
		decided_by      TEXT,
		queue_key       TEXT COLLATE "C",
		period          INTEGER NOT NULL,
		PRIMARY KEY (id, period)
	) PARTITION BY RANGE (period);
	CREATE TABLE complaints_kept PARTITION OF complaints FOR VALUES FROM (MINVALUE) TO (1) WITH (fillfactor = 90);
	CREATE FUNCTION markwatch_period(ms BIGINT) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS
		$$ SELECT CAST(to_char(to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER) $$;
	CREATE FUNCTION markwatch_next_period(p INTEGER) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS
		$$ SELECT CASE WHEN p % 100 = 12 THEN p + 89 ELSE p + 1 END $$;
	CREATE FUNCTION markwatch_period_millis(p INTEGER) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS
		$$ SELECT CAST(EXTRACT(EPOCH FROM make_timestamptz(p / 100, p % 100, 1, 0, 0, 0, 'UTC')) * 1000 AS BIGINT) $$;
	DO $$
	DECLARE p INTEGER;
	BEGIN
		FOR p IN SELECT DISTINCT markwatch_period(created_at) FROM complaints_before_partitioning
			UNION SELECT markwatch_period(CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
		LOOP
			EXECUTE format('CREATE TABLE %I PARTITION OF complaints FOR VALUES FROM (%s) TO (%s) WITH (fillfactor = 90)',
				'complaints_p' || p, p, markwatch_next_period(p));
		END LOOP;
	END $$;
	INSERT INTO complaints (id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status,
			body, created_at, updated_at, decided_at, decided_by, queue_key, period)
		SELECT id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status,
			body, created_at, updated_at, decided_at, decided_by, queue_key, markwatch_period(created_at)
		FROM complaints_before_partitioning;
	DROP TABLE complaints_before_partitioning;
	CREATE INDEX complaints_status_created_at ON complaints (status, created_at);
	CREATE INDEX complaints_holder_id ON complaints (holder_id, created_at);
	CREATE INDEX complaints_listing_id ON complaints (listing_id);
	CREATE INDEX complaints_source_holder_status ON complaints (source, holder_id, status);
	CREATE INDEX complaints_queue_key ON complaints (queue_key);
	CREATE INDEX complaints_status_queue ON complaints (status, queue_key);
	CREATE INDEX complaints_source_queue ON complaints (source, queue_key);
	CREATE INDEX complaints_mark_queue ON complaints (mark_id, queue_key);
	CREATE INDEX complaints_holder_queue ON complaints (holder_id, queue_key);
	CREATE INDEX complaints_seller_queue ON complaints (seller_id, queue_key);
	CREATE INDEX complaints_updated_at ON complaints (updated_at, id);
	CREATE TRIGGER complaint_counts_insert AFTER INSERT OR DELETE ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_counts_track();
	CREATE TRIGGER complaint_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		FOR EACH ROW WHEN (OLD.holder_id IS DISTINCT FROM NEW.holder_id OR OLD.source IS DISTINCT FROM NEW.source
			OR OLD.status IS DISTINCT FROM NEW.status)
		EXECUTE FUNCTION complaint_counts_track();

	ALTER TABLE audit_log RENAME TO audit_log_before_partitioning;
	ALTER TABLE audit_log_before_partitioning DROP CONSTRAINT audit_log_pkey;
	ALTER TABLE audit_log_before_partitioning ALTER COLUMN id DROP IDENTITY;
	DROP INDEX audit_log_object;
	CREATE TABLE audit_log (
		id          BIGINT GENERATED BY DEFAULT AS IDENTITY,
		at          BIGINT NOT NULL,
		actor       TEXT NOT NULL,
		action      TEXT NOT NULL,
		object_type TEXT NOT NULL,
		object_id   TEXT NOT NULL,
		detail      TEXT NOT NULL,
		PRIMARY KEY (id, at)
	) PARTITION BY RANGE (at);
	DO $$
	DECLARE p INTEGER;
	BEGIN
		FOR p IN SELECT DISTINCT markwatch_period(at) FROM audit_log_before_partitioning
			UNION SELECT markwatch_period(CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
		LOOP
			EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%s) TO (%s)',
				'audit_log_p' || p, markwatch_period_millis(p), markwatch_period_millis(markwatch_next_period(p)));
		END LOOP;
	END $$;
	INSERT INTO audit_log (id, at, actor, action, object_type, object_id, detail)
		SELECT id, at, actor, action, object_type, object_id, detail FROM audit_log_before_partitioning;
	DROP TABLE audit_log_before_partitioning;
	SELECT setval(pg_get_serial_sequence('audit_log', 'id'), COALESCE((SELECT MAX(id) FROM audit_log), 0) + 1, false);
	CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);

	ALTER TABLE complaint_counts SET (fillfactor = 50);
	ALTER TABLE sellers SET (fillfactor = 80);
	ALTER TABLE outbox SET (fillfactor = 80);
	ALTER TABLE claims SET (fillfactor = 80);
	ALTER TABLE counter_notices SET (fillfactor = 90);
	{{end}}{{sqlite}}
	ALTER TABLE complaints ADD COLUMN period INTEGER NOT NULL DEFAULT 0;
	UPDATE complaints SET period = CAST(strftime('%Y%m', created_at / 1000, 'unixepoch') AS INTEGER);
	DROP INDEX complaints_queue;
	DROP INDEX complaints_mark_id;
	DROP INDEX complaints_seller_id;
	CREATE INDEX audit_log_at ON audit_log (at);
	{{end}}
	CREATE INDEX strikes_expires_at ON strikes (expires_at);`,

	// 17, matcher filter: which matchers a complaint's evidence names, one
	// row per (complaint, matcher), written by InsertComplaint in the
	// complaint's transaction. queue_key is the complaint's own, copied so
	// that (matcher, queue_key) serves a keyset page of one matcher's
	// complaints in queue order, like the indexes of migration 12;
	// SetPriorityHolders re-keys these rows with the complaints'.
	// complaint_matcher_counts is complaint_counts by matcher, kept by
	// triggers: on a matcher row's insert (the complaint's holder, source
	// and status) and on a change of those three columns of the complaint,
	// so that per-matcher totals of a status, source or holder read a few
	// rows. The rows already stored are filled from their JSON bodies
	// before the triggers exist. On PostgreSQL a complaint moving to the
	// kept partition (retention) is a delete and an insert: the delete
	// counts its matcher rows out and the insert counts them back in, so
	// the matcher rows stay; the store deletes them with the complaint
	// (retention's deleteComplaints and dropComplaintPeriod).
	`{{postgres}}
	CREATE TABLE complaint_matchers (
		complaint_id TEXT NOT NULL,
		matcher      TEXT NOT NULL,
		queue_key    TEXT COLLATE "C" NOT NULL,
		PRIMARY KEY (complaint_id, matcher)
	);
	INSERT INTO complaint_matchers (complaint_id, matcher, queue_key)
		SELECT DISTINCT c.id, e->>'matcher', c.queue_key
		FROM complaints c, jsonb_array_elements(CASE WHEN jsonb_typeof(c.body::jsonb->'evidence') = 'array'
			THEN c.body::jsonb->'evidence' ELSE '[]'::jsonb END) e
		WHERE COALESCE(e->>'matcher', '') <> '' AND c.queue_key IS NOT NULL;
	{{end}}{{sqlite}}
	CREATE TABLE complaint_matchers (
		complaint_id TEXT NOT NULL,
		matcher      TEXT NOT NULL,
		queue_key    TEXT NOT NULL,
		PRIMARY KEY (complaint_id, matcher)
	);
	INSERT INTO complaint_matchers (complaint_id, matcher, queue_key)
		SELECT DISTINCT c.id, json_extract(e.value, '$.matcher'), c.queue_key
		FROM complaints c, json_each(c.body, '$.evidence') e
		WHERE json_type(c.body, '$.evidence') = 'array' AND e.type = 'object'
			AND COALESCE(json_extract(e.value, '$.matcher'), '') <> '' AND c.queue_key IS NOT NULL;
	{{end}}
	CREATE INDEX complaint_matchers_queue ON complaint_matchers (matcher, queue_key);
	CREATE TABLE complaint_matcher_counts (
		matcher   TEXT NOT NULL,
		holder_id TEXT NOT NULL,
		source    TEXT NOT NULL,
		status    TEXT NOT NULL,
		n         BIGINT NOT NULL,
		PRIMARY KEY (matcher, holder_id, source, status)
	);
	INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
		SELECT m.matcher, c.holder_id, c.source, c.status, COUNT(*)
		FROM complaint_matchers m JOIN complaints c ON c.id = m.complaint_id
		GROUP BY m.matcher, c.holder_id, c.source, c.status;
	{{postgres}}
	CREATE FUNCTION complaint_matcher_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT NEW.matcher, holder_id, source, status, 1 FROM complaints WHERE id = NEW.complaint_id
			ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = complaint_matcher_counts.n + 1;
		RETURN NULL;
	END $$;
	CREATE TRIGGER complaint_matchers_insert AFTER INSERT ON complaint_matchers
		FOR EACH ROW EXECUTE FUNCTION complaint_matcher_counts_add();
	CREATE FUNCTION complaint_matcher_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE complaint_matcher_counts k SET n = k.n - 1 FROM complaint_matchers m
			WHERE m.complaint_id = OLD.id AND k.matcher = m.matcher
				AND k.holder_id = OLD.holder_id AND k.source = OLD.source AND k.status = OLD.status;
		IF TG_OP = 'UPDATE' THEN
			INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
				SELECT matcher, NEW.holder_id, NEW.source, NEW.status, 1 FROM complaint_matchers WHERE complaint_id = NEW.id
				ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = complaint_matcher_counts.n + 1;
		END IF;
		RETURN NULL;
	END $$;
	CREATE FUNCTION complaint_matcher_counts_back() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT matcher, NEW.holder_id, NEW.source, NEW.status, 1 FROM complaint_matchers WHERE complaint_id = NEW.id
			ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = complaint_matcher_counts.n + 1;
		RETURN NULL;
	END $$;
	CREATE TRIGGER complaint_matcher_counts_insert AFTER INSERT ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_matcher_counts_back();
	CREATE TRIGGER complaint_matcher_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		FOR EACH ROW WHEN (OLD.holder_id IS DISTINCT FROM NEW.holder_id OR OLD.source IS DISTINCT FROM NEW.source
			OR OLD.status IS DISTINCT FROM NEW.status)
		EXECUTE FUNCTION complaint_matcher_counts_move();
	CREATE TRIGGER complaint_matcher_counts_delete AFTER DELETE ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_matcher_counts_move();
	{{end}}{{sqlite}}
	CREATE TRIGGER complaint_matchers_insert AFTER INSERT ON complaint_matchers BEGIN
		INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT NEW.matcher, holder_id, source, status, 1 FROM complaints WHERE id = NEW.complaint_id
			ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER complaint_matcher_counts_update AFTER UPDATE OF holder_id, source, status ON complaints
		WHEN OLD.holder_id IS NOT NEW.holder_id OR OLD.source IS NOT NEW.source OR OLD.status IS NOT NEW.status
	BEGIN
		UPDATE complaint_matcher_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status
				AND matcher IN (SELECT matcher FROM complaint_matchers WHERE complaint_id = OLD.id);
		INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT matcher, NEW.holder_id, NEW.source, NEW.status, 1 FROM complaint_matchers WHERE complaint_id = NEW.id
			ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER complaint_matcher_counts_delete AFTER DELETE ON complaints BEGIN
		UPDATE complaint_matcher_counts SET n = n - 1
			WHERE holder_id = OLD.holder_id AND source = OLD.source AND status = OLD.status
				AND matcher IN (SELECT matcher FROM complaint_matchers WHERE complaint_id = OLD.id);
		DELETE FROM complaint_matchers WHERE complaint_id = OLD.id;
	END;
	{{end}}`,

	// 18, learning from decisions: the negative bank, evidence reviewers
	// marked as not distinctive. body is the domain.BankEntry published on
	// the negative-banks topic; an undone entry keeps its row with
	// removed_at and removed_by, so the bank's history stays readable
	// beside the audit log. mark_id is '' for a global entry.
	// complaints_created_at serves the flood quarantine's per-mark counts
	// over its baseline window.
	`CREATE TABLE negative_bank (
		id           TEXT PRIMARY KEY,
		kind         TEXT NOT NULL CHECK (kind IN ('image', 'phrase')),
		mark_id      TEXT NOT NULL,
		complaint_id TEXT NOT NULL,
		body         TEXT NOT NULL,
		created_by   TEXT NOT NULL,
		created_at   BIGINT NOT NULL,
		removed_at   BIGINT,
		removed_by   TEXT
	);
	CREATE INDEX negative_bank_mark_id ON negative_bank (mark_id, created_at);
	CREATE INDEX complaints_created_at ON complaints (created_at);`,

	// 19, scale of a decision and of a scrape. On PostgreSQL complaint_ids
	// carries each complaint's period, so that a statement that finds a
	// complaint by id alone (a decision reads and updates it by id) names
	// its partition (complaintByID) and probes one primary key instead of
	// every month's; InsertComplaint writes it, and retention sets it to 0
	// when it moves a complaint to complaints_kept. complaint_mark_counts
	// is complaint_counts by mark, kept by triggers in the transaction of
	// the row change, so that the queue metrics' busiest marks
	// (BusiestMarks, read on every scrape) read a few rows instead of
	// grouping every open complaint; its (status, n) index serves the top n
	// of a status without reading the other marks.
	`{{postgres}}
	ALTER TABLE complaint_ids ADD COLUMN period INTEGER NOT NULL DEFAULT 0;
	UPDATE complaint_ids i SET period = c.period FROM complaints c WHERE c.id = i.id AND c.period <> 0;
	ALTER TABLE complaint_ids ALTER COLUMN period DROP DEFAULT;
	CREATE OR REPLACE FUNCTION complaint_matcher_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT NEW.matcher, holder_id, source, status, 1 FROM complaints
			WHERE id = NEW.complaint_id AND period = (SELECT period FROM complaint_ids WHERE id = NEW.complaint_id)
			ON CONFLICT (matcher, holder_id, source, status) DO UPDATE SET n = complaint_matcher_counts.n + 1;
		RETURN NULL;
	END $$;
	{{end}}
	CREATE TABLE complaint_mark_counts (
		mark_id TEXT NOT NULL,
		status  TEXT NOT NULL,
		n       BIGINT NOT NULL,
		PRIMARY KEY (mark_id, status)
	);
	INSERT INTO complaint_mark_counts (mark_id, status, n)
		SELECT mark_id, status, COUNT(*) FROM complaints GROUP BY mark_id, status;
	CREATE INDEX complaint_mark_counts_busiest ON complaint_mark_counts (status, n DESC, mark_id);
	{{postgres}}
	CREATE FUNCTION complaint_mark_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP IN ('UPDATE', 'DELETE') THEN
			UPDATE complaint_mark_counts SET n = n - 1 WHERE mark_id = OLD.mark_id AND status = OLD.status;
		END IF;
		IF TG_OP IN ('INSERT', 'UPDATE') THEN
			INSERT INTO complaint_mark_counts (mark_id, status, n) VALUES (NEW.mark_id, NEW.status, 1)
				ON CONFLICT (mark_id, status) DO UPDATE SET n = complaint_mark_counts.n + 1;
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER complaint_mark_counts_insert AFTER INSERT OR DELETE ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_mark_counts_track();
	CREATE TRIGGER complaint_mark_counts_update AFTER UPDATE OF mark_id, status ON complaints
		FOR EACH ROW WHEN (OLD.mark_id IS DISTINCT FROM NEW.mark_id OR OLD.status IS DISTINCT FROM NEW.status)
		EXECUTE FUNCTION complaint_mark_counts_track();
	{{end}}{{sqlite}}
	CREATE TRIGGER complaint_mark_counts_insert AFTER INSERT ON complaints BEGIN
		INSERT INTO complaint_mark_counts (mark_id, status, n) VALUES (NEW.mark_id, NEW.status, 1)
			ON CONFLICT (mark_id, status) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER complaint_mark_counts_delete AFTER DELETE ON complaints BEGIN
		UPDATE complaint_mark_counts SET n = n - 1 WHERE mark_id = OLD.mark_id AND status = OLD.status;
	END;
	CREATE TRIGGER complaint_mark_counts_update AFTER UPDATE OF mark_id, status ON complaints
		WHEN OLD.mark_id IS NOT NEW.mark_id OR OLD.status IS NOT NEW.status
	BEGIN
		UPDATE complaint_mark_counts SET n = n - 1 WHERE mark_id = OLD.mark_id AND status = OLD.status;
		INSERT INTO complaint_mark_counts (mark_id, status, n) VALUES (NEW.mark_id, NEW.status, 1)
			ON CONFLICT (mark_id, status) DO UPDATE SET n = n + 1;
	END;
	{{end}}`,

	// 20, full-text search in the store. On PostgreSQL complaint_terms
	// holds each complaint's full-text terms (terms.Of of terms.Text: the
	// same analyzers as the search index, CJK bigrams included) as a
	// tsvector with a GIN index, and its queue key, so that a text search
	// (QueueFilter.Text) reads its matches in queue order: a rare text's
	// from the GIN index, sorted; a common one's by walking this table's
	// queue_key index and testing terms, or the other filters' queue index
	// and probing terms by id (textCandidates). It is a table of its own,
	// not a column of complaints, because a decision is not a HOT update:
	// a column of complaints would add every term of the complaint to the
	// GIN index on every decision. period names the complaint's partition,
	// so that a match joins one partition's primary key; retention keeps
	// it and deletes the terms with the complaint, and a priority change
	// re-keys it with the complaint (rekeyMatchers).
	// InsertComplaint writes the terms; the complaints already stored get
	// theirs from fillComplaintTerms in this migration's transaction
	// (migrationSteps): it reads the complaints and writes only this new
	// table, so reads and writes of complaints go on meanwhile; complaints
	// that a replica of an older version stores during or after it get no
	// terms, so replicas are upgraded together. SQLite keeps its search
	// index and gets nothing.
	`{{sqlite}}SELECT 1;{{end}}{{postgres}}
	CREATE TABLE complaint_terms (
		id        TEXT PRIMARY KEY,
		period    INTEGER NOT NULL,
		queue_key TEXT COLLATE "C" NOT NULL,
		terms     tsvector NOT NULL
	);
	CREATE INDEX complaint_terms_terms ON complaint_terms USING gin (terms);
	CREATE INDEX complaint_terms_queue ON complaint_terms (queue_key);
	{{end}}`,

	// 21, fewer index writes per decision. PostgreSQL needs no search index
	// since 20, and so no change stream: complaints_updated_at goes, one
	// index fewer for a decision to write. On both, two more:
	// complaints_source_holder_status (migration 9, for holder standings)
	// goes, since standings and every other count read complaint_counts
	// (migration 12) and no query leads with source, holder and status; and
	// complaints_status_created_at becomes complaints_open_created_at, an
	// index of the open complaints only (the oldest open complaint is all
	// that reads it by status; retention walks complaints_created_at),
	// which a decision leaves: a complaint that stops being open adds no
	// entry to a partial index whose condition it no longer meets. A
	// decision so writes 10 indexes of its partition instead of 13 on
	// PostgreSQL. Dropping an index is instant; building the partial one
	// reads the table once, during which writes of complaints wait.
	`{{postgres}}
	DROP INDEX complaints_updated_at;
	{{end}}
	DROP INDEX complaints_source_holder_status;
	DROP INDEX complaints_status_created_at;
	CREATE INDEX complaints_open_created_at ON complaints (created_at) WHERE status = 'open';`,

	// 22, a HOT decision on PostgreSQL. A decision changes a complaint's
	// status, updated_at, decided_at and decided_by; while status was in
	// two of the partition's indexes (complaints_status_queue and the
	// predicate of complaints_open_created_at) the UPDATE could not be a
	// HOT update and inserted an entry into each of the partition's
	// indexes, random reads of leaves that at millions of complaints are
	// not in memory. complaint_status is the narrow copy of what the status
	// lists read (id, partition, status, queue key, arrival), kept by
	// triggers on complaints in the statement that changes the row (an
	// insert, a delete, a move between partitions as a delete and an
	// insert, a change of status or queue key); the two indexes move to it,
	// so that no index of complaints names status and a decision rewrites
	// the row in place (the partitions have fillfactor 90) and writes the
	// narrow row's two index entries instead of ten. Dropping a partition
	// deletes its rows here (dropComplaintPeriod). SQLite keeps its indexes:
	// it has no HOT updates to win.
	`{{sqlite}}SELECT 1;{{end}}{{postgres}}
	CREATE TABLE complaint_status (
		id         TEXT PRIMARY KEY,
		period     INTEGER NOT NULL,
		status     TEXT NOT NULL,
		queue_key  TEXT COLLATE "C",
		created_at BIGINT NOT NULL
	);
	INSERT INTO complaint_status (id, period, status, queue_key, created_at)
		SELECT id, period, status, queue_key, created_at FROM complaints;
	CREATE INDEX complaint_status_queue ON complaint_status (status, queue_key);
	CREATE INDEX complaint_status_open_created_at ON complaint_status (created_at) WHERE status = 'open';
	DROP INDEX complaints_status_queue;
	DROP INDEX complaints_open_created_at;
	CREATE FUNCTION complaint_status_track() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF TG_OP = 'DELETE' THEN
			DELETE FROM complaint_status WHERE id = OLD.id AND period = OLD.period;
		ELSIF TG_OP = 'UPDATE' THEN
			UPDATE complaint_status SET status = NEW.status, queue_key = NEW.queue_key WHERE id = NEW.id;
		ELSE
			INSERT INTO complaint_status (id, period, status, queue_key, created_at)
				VALUES (NEW.id, NEW.period, NEW.status, NEW.queue_key, NEW.created_at)
				ON CONFLICT (id) DO UPDATE SET period = excluded.period, status = excluded.status,
					queue_key = excluded.queue_key, created_at = excluded.created_at;
		END IF;
		RETURN NULL;
	END $$;
	CREATE TRIGGER complaint_status_insert AFTER INSERT OR DELETE ON complaints
		FOR EACH ROW EXECUTE FUNCTION complaint_status_track();
	CREATE TRIGGER complaint_status_update AFTER UPDATE OF status, queue_key ON complaints
		FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.queue_key IS DISTINCT FROM NEW.queue_key)
		EXECUTE FUNCTION complaint_status_track();
	ANALYZE complaint_status;
	{{end}}`,

	// 23, common words together (PostgreSQL). A text of words that each
	// a large share of complaints has made the GIN index of
	// complaint_terms intersect posting lists of about a million entries
	// each at five million complaints, whatever the page needs. Each
	// segment of the queue (termSegments: the first priority, then the
	// second by ranges of score 0.05 wide) gets a partial GIN index of its
	// own, so that such a text reads its matches a segment at a time in
	// queue order (segmentCandidates) and a page stops at the first
	// segments that fill it. The whole index stays for rare words, whose
	// matches it finds at once. Each index reads the table once.
	termsSegmentsMigration(),

	// 24, full-text search in the store on SQLite. complaint_term_keys
	// holds a row per term of each complaint under its queue key, so that
	// a text search walks its rarest term's entries in queue order and
	// stops when the page is full (listQueueTextSQLite), instead of the
	// service's search index finding every match. The queue key ends with
	// the id, so it names the complaint. Rows are written with the
	// complaint (insertTerms, LoadComplaints) and filled here for those
	// stored before (fillSQLiteTerms); the triggers follow the complaint's
	// deletion (retention) and re-keying (priorities) in the same
	// statement. PostgreSQL has complaint_terms (20) and gets nothing.
	`{{postgres}}SELECT 1;{{end}}{{sqlite}}
	CREATE TABLE complaint_term_keys (
		term      TEXT NOT NULL,
		queue_key TEXT NOT NULL,
		PRIMARY KEY (term, queue_key)
	) WITHOUT ROWID;
	CREATE INDEX complaint_term_keys_key ON complaint_term_keys (queue_key, term);
	CREATE TRIGGER complaint_term_keys_delete AFTER DELETE ON complaints BEGIN
		DELETE FROM complaint_term_keys WHERE queue_key = OLD.queue_key;
	END;
	CREATE TRIGGER complaint_term_keys_rekey AFTER UPDATE OF queue_key ON complaints
		WHEN OLD.queue_key <> NEW.queue_key BEGIN
		UPDATE complaint_term_keys SET queue_key = NEW.queue_key WHERE queue_key = OLD.queue_key;
	END;
	{{end}}`,

	// 25, how many complaints have each term (SQLite), kept by triggers
	// on complaint_term_keys in the same transaction: a text search walks
	// its rarest term and probes the others rarest first, read in a few
	// rows rather than counted from the index (a common term has a tenth
	// of the complaints). A re-key is an update, which counts nothing.
	`{{postgres}}SELECT 1;{{end}}{{sqlite}}
	CREATE TABLE complaint_term_counts (
		term TEXT PRIMARY KEY,
		n    BIGINT NOT NULL
	) WITHOUT ROWID;
	INSERT INTO complaint_term_counts (term, n) SELECT term, COUNT(*) FROM complaint_term_keys GROUP BY term;
	CREATE TRIGGER complaint_term_counts_insert AFTER INSERT ON complaint_term_keys BEGIN
		INSERT OR IGNORE INTO complaint_term_counts (term, n) VALUES (NEW.term, 0);
		UPDATE complaint_term_counts SET n = n + 1 WHERE term = NEW.term;
	END;
	CREATE TRIGGER complaint_term_counts_delete AFTER DELETE ON complaint_term_keys BEGIN
		UPDATE complaint_term_counts SET n = n - 1 WHERE term = OLD.term;
	END;
	{{end}}`,
}

// migrationSteps are work in Go that a migration needs besides its SQL, by
// the version the migration makes, run in its transaction after the SQL.
var migrationSteps = map[int]func(ctx context.Context, tx *Tx) error{
	20: fillComplaintTerms,
	24: fillSQLiteTerms,
}

// SchemaVersion is the schema version this build migrates databases to.
func SchemaVersion() int { return len(migrations) }

// migrationLockKey is the PostgreSQL advisory lock that serializes
// migrations across replicas starting at once ("mwmigrat" in ASCII).
const migrationLockKey = 0x6d776d6967726174

// dialectBlock is a part of a migration for one dialect only:
// {{sqlite}}…{{end}} or {{postgres}}…{{end}}, for the rare change the two
// cannot spell alike (altering a CHECK constraint).
var dialectBlock = regexp.MustCompile(`(?s)\{\{(sqlite|postgres)\}\}(.*?)\{\{end\}\}`)

// expand turns a portable migration into the dialect's SQL.
func (d dialect) expand(migration string) string {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == dialectPostgres {
		serial = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	migration = dialectBlock.ReplaceAllStringFunc(migration, func(block string) string {
		m := dialectBlock.FindStringSubmatch(block)
		if (m[1] == "postgres") == (d == dialectPostgres) {
			return m[2]
		}
		return ""
	})
	return strings.ReplaceAll(migration, "{{serial_pk}}", serial)
}

// migrate applies the pending migrations, each in its own transaction that
// also records it in schema_version, so a failure leaves the database at the
// last version that applied whole. Several processes may migrate at once:
// each transaction takes the migration lock (BEGIN IMMEDIATE on SQLite, an
// advisory lock on PostgreSQL) and reads the version under it.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done := false
		err := s.WithTx(ctx, func(tx *Tx) error {
			if s.dialect == dialectPostgres {
				if _, err := tx.r.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(migrationLockKey)); err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			if _, err := tx.r.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
				version    BIGINT PRIMARY KEY,
				applied_at BIGINT NOT NULL
			)`); err != nil {
				return fmt.Errorf("create schema_version: %w", err)
			}
			var version int
			if err := tx.r.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&version); err != nil {
				return fmt.Errorf("read schema_version: %w", err)
			}
			switch {
			case version > len(migrations):
				return fmt.Errorf("database is at schema version %d, newer than this build's %d", version, len(migrations))
			case version == len(migrations):
				done = true
				return nil
			}
			if _, err := tx.r.exec(ctx, s.dialect.expand(migrations[version])); err != nil {
				return fmt.Errorf("apply migration %d: %w", version+1, err)
			}
			if step := migrationSteps[version+1]; step != nil {
				if err := step(ctx, tx); err != nil {
					return fmt.Errorf("apply migration %d: %w", version+1, err)
				}
			}
			if _, err := tx.r.exec(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`, version+1, millis(tx.now)); err != nil {
				return fmt.Errorf("record migration %d: %w", version+1, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", s.dialect, err)
		}
		if done {
			return nil
		}
	}
}
