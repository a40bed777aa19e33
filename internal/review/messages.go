package review

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/store"
)

// MaxMessageBytes caps one message of a complaint's thread.
const MaxMessageBytes = 4000

// ReasonWithdrawn: the rights holder withdrew the complaint (a
// reinstatement reason and a notice policy).
const ReasonWithdrawn = "withdrawn"

// validMessage checks that body is plain text a person wrote: UTF-8, not
// blank, at most MaxMessageBytes, no control characters but newlines and
// tabs. Plain text is shown escaped everywhere; nothing is interpreted.
func validMessage(field, body string) error {
	switch {
	case strings.TrimSpace(body) == "" || len(body) > MaxMessageBytes || !utf8.ValidString(body):
		return invalid(field, fmt.Sprintf("required: 1 to %d bytes of UTF-8 text", MaxMessageBytes))
	case strings.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		return invalid(field, "plain text only: no control characters but newlines and tabs")
	}
	return nil
}

// PostMessage appends body to the thread of complaintID as author
// (store.AuthorHolder or store.AuthorSeller), posted by actor, with its
// audit entry in the same transaction. Who may speak for which party is
// the caller's check (the API: a brand owner for its own holder, the
// marketplace for the seller). An unknown complaint is ErrNotFound, a bad
// message ErrInvalid.
func (s *Service) PostMessage(ctx context.Context, complaintID, author, actor, body string) (store.Message, error) {
	if author != store.AuthorHolder && author != store.AuthorSeller {
		return store.Message{}, fmt.Errorf("review: message on %s: %w", complaintID, invalid("author", "holder or seller"))
	}
	if actor == "" {
		return store.Message{}, fmt.Errorf("review: message on %s: %w", complaintID, invalid("", "no actor"))
	}
	if err := validMessage("body", body); err != nil {
		return store.Message{}, fmt.Errorf("review: message on %s: %w", complaintID, err)
	}
	var m store.Message
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetComplaint(ctx, complaintID); err != nil {
			return err
		}
		var err error
		if m, err = tx.AddMessage(ctx, store.Message{ComplaintID: complaintID, Author: author, Actor: actor, Body: body}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "complaint.message", "complaint", complaintID, map[string]any{
			"message_id": m.ID, "author": author, "body": body,
		})
	})
	if err != nil {
		return store.Message{}, fmt.Errorf("review: message on %s: %w", complaintID, err)
	}
	return m, nil
}

// Messages returns complaintID's thread after the message afterID, oldest
// first, up to limit (100 when zero, at most 1000).
func (s *Service) Messages(ctx context.Context, complaintID string, afterID int64, limit int) ([]store.Message, error) {
	ms, err := s.store.Messages(ctx, complaintID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("review: messages of %s: %w", complaintID, err)
	}
	return ms, nil
}

// Withdraw records that the rights holder, through actor, withdraws the
// complaint complaintID, with reason posted to the thread as the holder's
// message. An open complaint is closed as rejected; an upheld or
// contested one is reinstated: its strike removed, a reinstatement event
// and the seller's reinstatement notice (policy withdrawn) written, its
// counter-notice settled. All of it, with the audit entry
// complaint.withdrawn, is one transaction. A complaint in any other state
// is ErrConflict.
func (s *Service) Withdraw(ctx context.Context, complaintID, actor, reason string) error {
	if actor == "" {
		return fmt.Errorf("review: withdraw %s: %w", complaintID, invalid("", "no actor"))
	}
	if err := validMessage("reason", reason); err != nil {
		return fmt.Errorf("review: withdraw %s: %w", complaintID, err)
	}
	now := s.now()
	var from string
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetComplaint(ctx, complaintID)
		if err != nil {
			return err
		}
		from = c.Status
		to := store.ComplaintReinstated
		switch from {
		case store.ComplaintOpen:
			to = store.ComplaintRejected
		case store.ComplaintUpheld:
		case store.ComplaintContested:
			cn, err := tx.GetCounterNotice(ctx, complaintID)
			if err != nil {
				return err
			}
			if err := tx.SetCounterNoticeState(ctx, complaintID, cn.State, store.CounterNoticeReinstated); err != nil {
				return err
			}
		default:
			return fmt.Errorf("complaint is %s, not open, upheld or contested: %w", from, ErrConflict)
		}
		if err := tx.SetComplaintStatus(ctx, complaintID, from, to, actor); err != nil {
			return err
		}
		m, err := tx.AddMessage(ctx, store.Message{ComplaintID: complaintID, Author: store.AuthorHolder, Actor: actor, Body: reason})
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, actor, "complaint.withdrawn", "complaint", complaintID, map[string]any{
			"from": from, "to": to, "reason": reason, "message_id": m.ID,
		}); err != nil {
			return err
		}
		if to == store.ComplaintReinstated {
			return s.reinstate(ctx, tx, &c.Body, actor, ReasonWithdrawn, now)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("review: withdraw %s: %w", complaintID, err)
	}
	if from != store.ComplaintOpen {
		s.metrics.reinstatements.WithLabelValues(ReasonWithdrawn).Inc()
	}
	return nil
}
