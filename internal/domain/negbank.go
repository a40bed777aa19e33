package domain

import (
	"fmt"
	"time"
)

// Kinds of a negative-bank entry: what it suppresses.
const (
	// BankImage suppresses image matches of listing images within a small
	// perceptual-hash distance of the entry's hashes.
	BankImage = "image"
	// BankPhrase suppresses text matches whose matched text normalizes to
	// the entry's phrase.
	BankPhrase = "phrase"
)

// maxBankHashes caps the hashes of one image entry: a reference image keeps
// a handful (plain, mirrored, cropped), never more than a mark's 64.
const maxBankHashes = 64

// BankEntry is one piece of evidence a reviewer marked as not distinctive,
// as the registry publishes it on the compacted negative-banks topic (key =
// entry_id; a tombstone undoes it). An entry with a mark_id holds for that
// mark only; without one it holds for every mark (a global entry).
type BankEntry struct {
	SchemaVersion int    `json:"schema_version"`
	EntryID       string `json:"entry_id"`
	Kind          string `json:"kind"`
	// MarkID scopes the entry to one mark; empty means every mark.
	MarkID string `json:"mark_id,omitempty"`
	// Hashes are the image's perceptual hashes (lowercase hex), kind image.
	Hashes []string `json:"hashes,omitempty"`
	// Phrase is the text as the reviewer marked it, kind phrase; detectors
	// compare it in normalized form.
	Phrase string `json:"phrase,omitempty"`
	// Reason is the reviewer's words ("generic product photo").
	Reason string `json:"reason"`
	// ComplaintID is the rejected complaint whose evidence this was.
	ComplaintID string    `json:"complaint_id,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// DecodeBankEntry strictly decodes and validates one negative-bank entry.
func DecodeBankEntry(data []byte, lim Limits) (*BankEntry, error) {
	lim = lim.WithDefaults()
	var e BankEntry
	if err := decodeStrict(data, &e, lim); err != nil {
		return nil, err
	}
	if err := e.Validate(lim); err != nil {
		return nil, err
	}
	return &e, nil
}

// Validate checks an entry against the format and the caps in lim.
func (e *BankEntry) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(e.SchemaVersion)
	v.id("entry_id", e.EntryID)
	if e.MarkID != "" {
		v.id("mark_id", e.MarkID)
	}
	switch e.Kind {
	case BankImage:
		if len(e.Hashes) == 0 || len(e.Hashes) > maxBankHashes {
			v.fail("hashes", "want 1..%d hashes, got %d", maxBankHashes, len(e.Hashes))
		}
		for i, s := range e.Hashes {
			if !hexHash.MatchString(s) {
				v.fail(fmt.Sprintf("hashes[%d]", i), "not a lowercase hex hash")
			}
		}
		if e.Phrase != "" {
			v.fail("phrase", "only for kind phrase")
		}
	case BankPhrase:
		v.required("phrase", e.Phrase)
		v.maxLen("phrase", e.Phrase, lim.MaxShortFieldBytes)
		if len(e.Hashes) > 0 {
			v.fail("hashes", "only for kind image")
		}
	case "":
		v.fail("kind", "required")
	default:
		v.fail("kind", "want image or phrase, got %q", e.Kind)
	}
	v.required("reason", e.Reason)
	v.maxLen("reason", e.Reason, lim.MaxShortFieldBytes)
	if e.ComplaintID != "" {
		v.id("complaint_id", e.ComplaintID)
	}
	v.id("created_by", e.CreatedBy)
	if e.CreatedAt.IsZero() {
		v.fail("created_at", "required")
	}
	return v.err
}
