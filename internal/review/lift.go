package review

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/notice"
	"github.com/markwatch/markwatch/internal/store"
)

// LiftSuspension returns a suspended seller to active: an admin's call,
// since strikes that expire or are withdrawn never lower a seller's rung by
// themselves. The change, its audit entry (with the reason), a
// seller-action event with status active and the seller's statement of
// reasons (decision suspension_lifted) commit together. The event id is
// "seller-action:"+seller_id+":active:"+the time in milliseconds, and the
// notice id domain.SuspensionLiftedNoticeID of the same instant, so that a
// seller suspended and lifted twice announces and is told of both lifts.
// A seller that is not suspended is ErrConflict (a terminated seller stays
// terminated); an empty actor or reason is ErrInvalid.
func (s *Service) LiftSuspension(ctx context.Context, sellerID, actor, reason string) (SellerRecord, error) {
	if sellerID == "" || actor == "" || reason == "" || len(reason) > maxNoteBytes || !utf8.ValidString(reason) {
		return SellerRecord{}, fmt.Errorf("review: lift suspension of %s: %w: seller, actor and a reason of at most %d bytes are required", sellerID, ErrInvalid, maxNoteBytes)
	}
	now := s.now()
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		seller, err := tx.LockSeller(ctx, sellerID)
		if err != nil {
			return err
		}
		if seller.Status != store.SellerSuspended {
			return fmt.Errorf("seller is %s, not suspended: %w", seller.Status, ErrConflict)
		}
		n, err := tx.CountActiveStrikes(ctx, sellerID, now)
		if err != nil {
			return err
		}
		if _, err := tx.SetSellerStatus(ctx, sellerID, store.SellerActive); err != nil {
			return err
		}
		if err := audit(ctx, tx, actor, "seller.suspension_lifted", "seller", sellerID, map[string]any{
			"from": seller.Status, "strikes": n, "reason": reason,
		}); err != nil {
			return err
		}
		ev := SellerActionEvent{
			SchemaVersion: domain.SchemaVersion,
			EventID:       "seller-action:" + sellerID + ":" + store.SellerActive + ":" + strconv.FormatInt(now.UnixMilli(), 10),
			SellerID:      sellerID,
			Status:        store.SellerActive,
			Strikes:       n,
			At:            now,
		}
		if err := enqueue(ctx, tx, ev.EventID, s.topics.SellerActions, sellerID, ev); err != nil {
			return err
		}
		return s.liftNotice(ctx, tx, sellerID, n, now)
	})
	if err != nil {
		return SellerRecord{}, fmt.Errorf("review: lift suspension of %s: %w", sellerID, err)
	}
	return s.Seller(ctx, sellerID)
}

// liftNotice writes, in tx, the notice telling sellerID that its
// suspension is lifted with strikes still active. It is about the account,
// so it names no listing, complaint, mark or holder, and it is in
// notice.DefaultLocale: a seller has no language of its own, only its
// listings do. The admin's reason is not in it: like every reviewer's
// note it stays in the audit log.
func (s *Service) liftNotice(ctx context.Context, tx *store.Tx, sellerID string, strikes int, now time.Time) error {
	n := domain.SellerNotice{
		SchemaVersion: domain.SchemaVersion,
		NoticeID:      domain.SuspensionLiftedNoticeID(sellerID, now),
		SellerID:      sellerID,
		Decision:      domain.NoticeSuspensionLifted,
		Policy:        domain.PolicyLiftedOnReview,
		Strikes:       strikes,
		NextStrike:    s.nextStrike(strikes, store.SellerActive),
		At:            now,
	}
	if err := notice.Render(&n, ""); err != nil {
		return err
	}
	return enqueue(ctx, tx, n.NoticeID, s.topics.SellerNotices, sellerID, n)
}
