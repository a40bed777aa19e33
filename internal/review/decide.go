package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/notice"
	"github.com/markwatch/markwatch/internal/store"
)

// Verdicts a reviewer can reach.
const (
	VerdictUphold = "uphold"
	VerdictReject = "reject"
)

// Verdicts lists every verdict, for validation and the API's document.
func Verdicts() []string { return []string{VerdictUphold, VerdictReject} }

// Reason codes: why a reviewer reached a verdict. They are a closed set so
// that decisions can be counted and compared, and they follow the labeling
// policy of the design (what counts as infringing); free text goes in the
// note. Each belongs to one verdict.
const (
	// ReasonCounterfeit: the mark with a counterfeit cue (uphold).
	ReasonCounterfeit = "counterfeit"
	// ReasonObfuscatedMark: the mark spelled to evade detection (uphold).
	ReasonObfuscatedMark = "obfuscated_mark"
	// ReasonOfficialPhotoReuse: the brand's official photos or logo,
	// shown by a seller that is not authorized (uphold).
	ReasonOfficialPhotoReuse = "official_photo_reuse"
	// ReasonPriceBelowFloor: the mark at a counterfeit price (uphold).
	ReasonPriceBelowFloor = "price_below_floor"
	// ReasonGenuine: a genuine product at a normal price (reject).
	ReasonGenuine = "genuine"
	// ReasonAuthorizedSeller: the seller is authorized (reject).
	ReasonAuthorizedSeller = "authorized_seller"
	// ReasonNominativeUse: the mark names what a product is for,
	// "case for iPhone" (reject).
	ReasonNominativeUse = "nominative_use"
	// ReasonDifferentBrand: a different brand with a similar name (reject).
	ReasonDifferentBrand = "different_brand"
	// ReasonInsufficientEvidence: the evidence does not show an
	// infringement (reject).
	ReasonInsufficientEvidence = "insufficient_evidence"
)

// reasonVerdicts maps each reason code to the verdict it explains.
var reasonVerdicts = map[string]string{
	ReasonCounterfeit: VerdictUphold, ReasonObfuscatedMark: VerdictUphold,
	ReasonOfficialPhotoReuse: VerdictUphold, ReasonPriceBelowFloor: VerdictUphold,
	ReasonGenuine: VerdictReject, ReasonAuthorizedSeller: VerdictReject, ReasonNominativeUse: VerdictReject,
	ReasonDifferentBrand: VerdictReject, ReasonInsufficientEvidence: VerdictReject,
}

// ReasonCodes lists every reason code, upholding ones first, for
// validation, the API's document and the console's choices.
func ReasonCodes() []string {
	return []string{
		ReasonCounterfeit, ReasonObfuscatedMark, ReasonOfficialPhotoReuse, ReasonPriceBelowFloor,
		ReasonGenuine, ReasonAuthorizedSeller, ReasonNominativeUse, ReasonDifferentBrand, ReasonInsufficientEvidence,
	}
}

// ReasonVerdict is the verdict the reason code explains, "" for an unknown
// code.
func ReasonVerdict(code string) string { return reasonVerdicts[code] }

// maxNoteBytes caps a decision's note and a counter-notice's statement.
const maxNoteBytes = 10_000

// Decision is a reviewer's verdict on a complaint.
type Decision struct {
	// Verdict is VerdictUphold or VerdictReject.
	Verdict string
	// ReasonCode is one of ReasonCodes, matching the verdict; required.
	ReasonCode string
	// Note is free text for the audit log; optional.
	Note string
	// Actor is the reviewer; required.
	Actor string
}

func (d Decision) validate() error {
	verdict, known := reasonVerdicts[d.ReasonCode]
	switch {
	case d.Verdict == "":
		return invalid("decision", "required: uphold or reject")
	case d.Verdict != VerdictUphold && d.Verdict != VerdictReject:
		return invalid("decision", fmt.Sprintf("%q, want uphold or reject", d.Verdict))
	case d.Actor == "":
		return invalid("", "no actor")
	case d.ReasonCode == "":
		return invalid("reason_code", "required: one of "+strings.Join(ReasonCodes(), ", "))
	case !known:
		return invalid("reason_code", fmt.Sprintf("%q is not a reason code; want one of %s", d.ReasonCode, strings.Join(ReasonCodes(), ", ")))
	case verdict != d.Verdict:
		return invalid("reason_code", fmt.Sprintf("%s is a reason to %s, not to %s", d.ReasonCode, verdict, d.Verdict))
	case len(d.Note) > maxNoteBytes || !utf8.ValidString(d.Note):
		return invalid("note", fmt.Sprintf("at most %d bytes of UTF-8", maxNoteBytes))
	}
	return nil
}

// Decide records d on the complaint complaintID, which must be open or
// contested. Everything the decision causes happens in one transaction
// with it: the audit entries; for an open complaint upheld, the takedown
// event ("takedown:"+complaint_id), a strike for the seller and, when the
// strike lifts the seller to a new rung of the ladder, the seller's new
// status and a seller-action event; for a contested complaint, the end of
// its counter-notice, and when rejected, the removal of its strike and a
// reinstatement event ("reinstatement:"+complaint_id). Upholding a
// contested complaint keeps the listing down and the strike in place.
//
// The transition is a compare-and-set: of concurrent decisions on one
// complaint exactly one succeeds and the others get ErrConflict, as does a
// decision on a complaint in any other state. An unknown complaint is
// ErrNotFound and a malformed decision ErrInvalid.
func (s *Service) Decide(ctx context.Context, complaintID string, d Decision) error {
	_, err := s.decide(ctx, complaintID, nil, d)
	return err
}

// DecideComplaint is Decide on c, the complaint as the caller read it
// moments before (the API reads it to check who may decide it), and
// returns it as decided. The decision trusts what c says only when the
// compare-and-set from c.Status succeeds, which proves that status current
// (a complaint's body never changes); otherwise it reads the complaint in
// its transaction and goes on as Decide does. That spares a decision two
// reads of the complaint: the transaction's and the caller's afterwards.
// A caller that has not read the complaint passes just its id
// (Body.ComplaintID, no Status) and is spared the read afterwards.
func (s *Service) DecideComplaint(ctx context.Context, c store.Complaint, d Decision) (store.Complaint, error) {
	return s.decide(ctx, c.Body.ComplaintID, &c, d)
}

// decide is Decide; read, when not nil, is the complaint as the caller
// read it.
func (s *Service) decide(ctx context.Context, complaintID string, read *store.Complaint, d Decision) (store.Complaint, error) {
	if err := d.validate(); err != nil {
		return store.Complaint{}, fmt.Errorf("review: decide complaint %s: %w", complaintID, err)
	}
	now := s.now()
	var (
		c         store.Complaint
		from      string
		struck    strikeResult
		violation string
	)
	to := store.ComplaintUpheld
	if d.Verdict == VerdictReject {
		to = store.ComplaintRejected
	}
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		// The audit entries and outbox events of the decision are written
		// together at its end: one round trip instead of up to eight.
		tx.DeferLog()
		var err error
		if from, c, err = s.moveDecided(ctx, tx, complaintID, read, to, d); err != nil {
			return err
		}
		if from == store.ComplaintContested {
			// The reviewer decides before the timer; the counter-notice,
			// waiting or escalated, is settled.
			if err := tx.DecideCounterNotice(ctx, complaintID); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, d.Actor, "complaint."+to, "complaint", complaintID, map[string]any{
			"from": from, "reason_code": d.ReasonCode, "note": d.Note,
		}); err != nil {
			return err
		}
		switch {
		case to == store.ComplaintUpheld && from == store.ComplaintOpen:
			ev := listingEvent(&c.Body, takedownEventID(complaintID), ActionTakedown, d.ReasonCode, now)
			if err := enqueue(ctx, tx, ev.EventID, s.topics.Takedowns, c.Body.ListingID, ev); err != nil {
				return err
			}
			violation = notice.Violation(&c.Body, d.ReasonCode)
			if struck, err = s.strike(ctx, tx, &c.Body, d.Actor, violation, now); err != nil {
				return err
			}
			return s.upholdNotices(ctx, tx, &c.Body, d.ReasonCode, violation, struck, now)
		case to == store.ComplaintRejected && from == store.ComplaintContested:
			return s.reinstate(ctx, tx, &c.Body, d.Actor, ReasonRejectedOnReview, now)
		}
		return nil
	})
	if err != nil {
		return store.Complaint{}, fmt.Errorf("review: decide complaint %s: %w", complaintID, err)
	}
	s.metrics.decisions.WithLabelValues(to, c.Body.Source).Inc()
	if struck.repeat {
		s.metrics.repeatAfterEducation.WithLabelValues(violation).Inc()
	}
	if from == store.ComplaintContested && to == store.ComplaintRejected {
		s.metrics.reinstatements.WithLabelValues(ReasonRejectedOnReview).Inc()
	}
	// Per matcher that contributed evidence, so each matcher's precision
	// is a PromQL ratio too.
	seen := map[string]bool{}
	for _, e := range c.Body.Evidence {
		if e.Score > 0 && !seen[e.Matcher] {
			seen[e.Matcher] = true
			s.metrics.byMatcher.WithLabelValues(to, e.Matcher).Inc()
		}
	}
	return c, nil
}

// moveDecided checks that the complaint may be decided to and moves it
// there with the compare-and-set, in tx; it returns the status it moved
// from and the complaint as moved. It starts from read, the caller's copy,
// when there is one and its status is decidable; when the move from it
// fails (the complaint moved since) or there is none, it reads the
// complaint in tx, as a decision always did, and decides from that.
func (s *Service) moveDecided(ctx context.Context, tx *store.Tx, complaintID string, read *store.Complaint, to string, d Decision) (string, store.Complaint, error) {
	for {
		var c store.Complaint
		trusted := read != nil && (read.Status == store.ComplaintOpen || read.Status == store.ComplaintContested)
		if trusted {
			c = *read
		} else {
			var err error
			if c, err = tx.GetComplaint(ctx, complaintID); err != nil {
				return "", c, err
			}
		}
		if to == store.ComplaintUpheld && c.Body.Source == domain.SourceBuyer && c.Body.MarkID == "" {
			// Buyer reports alone take nothing down (buyer_complaints.go).
			return "", c, invalid("decision", "a buyer complaint that names no mark cannot be upheld: reject it, or file a complaint through the mark the listing infringes")
		}
		from := c.Status
		if from != store.ComplaintOpen && from != store.ComplaintContested {
			return "", c, fmt.Errorf("complaint is %s, not open or contested: %w", from, ErrConflict)
		}
		// The compare-and-set: a concurrent decision that committed first
		// makes this one ErrConflict.
		err := tx.MoveComplaint(ctx, &c, to, d.Actor)
		if trusted && errors.Is(err, store.ErrConflict) {
			read = nil // the caller's copy is stale: read the complaint here
			continue
		}
		return from, c, err
	}
}

// strike gives the seller of c a strike and climbs the ladder, in tx. With
// EducateFirstNominative, a seller with no active strike, never taught
// before, whose violation is nominative-use-like, is taught instead: no
// strike, an audit entry that a later strike is a repeat after education.
func (s *Service) strike(ctx context.Context, tx *store.Tx, c *domain.Complaint, actor, violation string, now time.Time) (strikeResult, error) {
	var r strikeResult
	if c.SellerID == "" {
		return r, nil // a complaint about a listing of unknown seller strikes nobody
	}
	// Lock the seller first: a concurrent decision against the same
	// seller waits here, and then counts this strike too.
	seller, err := tx.LockSeller(ctx, c.SellerID)
	if err != nil {
		return r, err
	}
	r.status = seller.Status
	active, educatedBefore, err := tx.StrikeRecord(ctx, c.SellerID, now, auditEducated)
	if err != nil {
		return r, err
	}
	r.strikes = active
	if s.educateFirstNominative && notice.NominativeLike(violation) && r.strikes == 0 && !educatedBefore {
		r.educated = true
		return r, audit(ctx, tx, actor, auditEducated, "seller", c.SellerID, map[string]any{
			"complaint_id": c.ComplaintID, "violation": violation,
		})
	}
	// Strikes are added only under the seller's lock, so the strike about
	// to be added, which expires after now, makes the count one more.
	n := active + 1
	current := seller.Status
	// A seller only climbs: strikes that expire or are withdrawn do not
	// lift a suspension by themselves; that is an admin's call.
	target, climb := s.ladder.StatusFor(n), ""
	if severity(target) > severity(current) {
		climb = target // recorded with the strike
	}
	st, added, err := tx.AddStrikeStatus(ctx, store.Strike{
		SellerID: c.SellerID, ComplaintID: c.ComplaintID, CreatedAt: now, ExpiresAt: now.Add(s.strikeTTL),
	}, climb)
	if err != nil || !added {
		return r, err
	}
	r.struck, r.repeat = true, educatedBefore
	if err := audit(ctx, tx, actor, "strike.added", "seller", c.SellerID, map[string]any{
		"complaint_id": c.ComplaintID, "expires_at": st.ExpiresAt,
	}); err != nil {
		return r, err
	}
	r.strikes = n
	if climb == "" {
		return r, nil
	}
	r.status, r.climbed = target, true
	if err := audit(ctx, tx, actor, "seller."+target, "seller", c.SellerID, map[string]any{
		"from": current, "strikes": n, "complaint_id": c.ComplaintID,
	}); err != nil {
		return r, err
	}
	ev := SellerActionEvent{
		SchemaVersion: domain.SchemaVersion,
		EventID:       sellerActionEventID(c.SellerID, target, n),
		SellerID:      c.SellerID,
		Status:        target,
		Strikes:       n,
		ComplaintID:   c.ComplaintID,
		At:            now,
	}
	return r, enqueue(ctx, tx, ev.EventID, s.topics.SellerActions, c.SellerID, ev)
}

// reinstate withdraws c's strike and announces the listing's
// reinstatement, in tx. The caller has moved the complaint out of
// contested.
func (s *Service) reinstate(ctx context.Context, tx *store.Tx, c *domain.Complaint, actor, reason string, now time.Time) error {
	removed, err := tx.RemoveStrike(ctx, c.ComplaintID)
	if err != nil {
		return err
	}
	if removed {
		if err := audit(ctx, tx, actor, "strike.removed", "seller", c.SellerID, map[string]any{
			"complaint_id": c.ComplaintID, "reason": reason,
		}); err != nil {
			return err
		}
	}
	ev := listingEvent(c, reinstatementEventID(c.ComplaintID), ActionReinstate, reason, now)
	if err := enqueue(ctx, tx, ev.EventID, s.topics.Takedowns, c.ListingID, ev); err != nil {
		return err
	}
	if c.SellerID == "" {
		return nil
	}
	f := noticeFacts{
		decision: domain.NoticeReinstatement, policy: reason, violation: notice.Violation(c, ""),
		status: store.SellerActive, automated: actor == ActorSystem, strikeRemoved: removed,
	}
	if f.status, f.strikes, err = tx.SellerStanding(ctx, c.SellerID, now); err != nil {
		return err
	}
	mark, holder, err := parties(ctx, tx, c)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, c, &mark, holder, f, now)
}
