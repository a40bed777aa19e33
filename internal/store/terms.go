package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/search/terms"
)

// termsSchema is the migration that made complaint_terms (PostgreSQL).
const termsSchema = 20

// TextSearch tells whether the store answers QueueFilter.Text itself: on
// PostgreSQL, from complaint_terms (migration 20); on SQLite, from
// complaint_term_keys (migration 24). A store that does not (SQLite
// before 24: never once migrated by this build) has its callers search
// the text with internal/search and filter the store by the matches' ids
// (QueueFilter.IDs).
func (s *Store) TextSearch() bool {
	if s.dialect == dialectPostgres {
		return s.version >= termsSchema
	}
	return s.version >= sqliteTermsSchema
}

// complaintTerms are the full-text terms the store keeps for c.
func complaintTerms(c *domain.Complaint) []string {
	return terms.Of(terms.Text(c))
}

// quoteLexemes writes each term as a quoted lexeme of PostgreSQL's
// tsvector and tsquery input (a quote doubled, a backslash escaped),
// separated by sep: the terms are taken as they are, never parsed or
// normalized again by PostgreSQL.
func quoteLexemes(ts []string, sep string) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(t))
		b.WriteByte('\'')
	}
	return b.String()
}

// tsvectorOf is the tsvector input of terms.
func tsvectorOf(ts []string) string { return quoteLexemes(ts, " ") }

// tsqueryOf is the tsquery input that matches a tsvector holding every
// one of terms.
func tsqueryOf(ts []string) string { return quoteLexemes(ts, " & ") }

// pgTerms is terms as pgx copies a tsvector.
func pgTerms(ts []string) pgtype.TSVector {
	v := pgtype.TSVector{Valid: true, Lexemes: make([]pgtype.TSVectorLexeme, len(ts))}
	for i, t := range ts {
		v.Lexemes[i] = pgtype.TSVectorLexeme{Word: t}
	}
	return v
}

// insertTerms stores the terms of complaint c, stored in period: in
// complaint_terms on PostgreSQL, complaint_term_keys on SQLite.
func (tx *Tx) insertTerms(ctx context.Context, c *domain.Complaint, period int) error {
	if tx.r.dialect != dialectPostgres {
		return tx.insertSQLiteTerms(ctx, c)
	}
	// The queue key as the insert just wrote it (its priority is read
	// in that statement).
	_, err := tx.r.exec(ctx, `INSERT INTO complaint_terms (id, period, queue_key, terms)
		SELECT id, period, queue_key, CAST(? AS tsvector) FROM complaints WHERE id = ? AND period = ?
		ON CONFLICT (id) DO NOTHING`, tsvectorOf(complaintTerms(c)), c.ComplaintID, period)
	return err
}

// fillTermsPage is how many complaints fillComplaintTerms reads at once.
const fillTermsPage = 1000

// fillComplaintTerms gives every complaint stored before migration 20 its
// terms, in the migration's transaction: pages of complaints in id order
// (each partition's primary key, merged), each page's terms in one
// INSERT. It reads and writes every complaint once: about what loading
// them costs (docs/OPERATIONS.md).
func fillComplaintTerms(ctx context.Context, tx *Tx) error {
	if tx.r.dialect != dialectPostgres {
		return nil
	}
	after := ""
	for {
		rows, err := tx.r.query(ctx, `SELECT id, period, queue_key, body FROM complaints WHERE id > ? ORDER BY id LIMIT ?`, after, fillTermsPage)
		if err != nil {
			return fmt.Errorf("fill complaint terms: %w", err)
		}
		var args []any
		n := 0
		for rows.Next() {
			var (
				id, key, body string
				period        int
				c             domain.Complaint
			)
			if err := rows.Scan(&id, &period, &key, &body); err != nil {
				rows.Close()
				return fmt.Errorf("fill complaint terms: %w", err)
			}
			if err := json.Unmarshal([]byte(body), &c); err != nil {
				rows.Close()
				return fmt.Errorf("fill complaint terms: complaint %s: %w", id, err)
			}
			args = append(args, id, period, key, tsvectorOf(complaintTerms(&c)))
			after = id
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("fill complaint terms: %w", err)
		}
		if n > 0 {
			q := `INSERT INTO complaint_terms (id, period, queue_key, terms) VALUES ` +
				strings.TrimSuffix(strings.Repeat(`(?, ?, ?, CAST(? AS tsvector)), `, n), ", ")
			if _, err := tx.r.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("fill complaint terms: %w", err)
			}
		}
		if n < fillTermsPage {
			// The search's plans read the planner's statistics of the
			// terms (textCandidates): before autovacuum gets to the new
			// table, a search would guess.
			if _, err := tx.r.exec(ctx, `ANALYZE complaint_terms`); err != nil {
				return fmt.Errorf("fill complaint terms: %w", err)
			}
			return nil
		}
	}
}
