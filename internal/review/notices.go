package review

import (
	"context"
	"errors"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/notice"
	"github.com/markwatch/markwatch/internal/store"
)

// auditEducated is the audit action of a seller taught instead of struck;
// a later strike of that seller counts as a repeat after education.
const auditEducated = "seller.educated"

// strikeResult is what an uphold did to the seller.
type strikeResult struct {
	// struck is set when a strike was added.
	struck bool
	// educated is set when the seller was warned and taught instead.
	educated bool
	// repeat is set when a seller taught before was struck.
	repeat bool
	// strikes is the seller's active strikes afterwards.
	strikes int
	// status is the seller's status afterwards; climbed is set when the
	// strike lifted it there.
	status  string
	climbed bool
}

// rungNotice maps a ladder status to the notice that announces it.
var rungNotice = map[string]string{
	store.SellerWarned:     domain.NoticeWarning,
	store.SellerSuspended:  domain.NoticeSuspension,
	store.SellerTerminated: domain.NoticeTermination,
}

// nextStrike says what one more strike brings a seller with strikes
// active strikes and status: the next rung, another strike on the same
// rung, or nothing for a terminated seller.
func (s *Service) nextStrike(strikes int, status string) string {
	if status == store.SellerTerminated {
		return "none"
	}
	if next := s.ladder.StatusFor(strikes + 1); severity(next) > severity(status) {
		return next
	}
	return "strike"
}

// noticeFacts are the parts of a seller notice that differ per decision.
type noticeFacts struct {
	decision, policy, violation string
	strikes                     int
	status                      string
	educated, automated         bool
	// strikeRemoved: a reinstatement withdrew the complaint's strike.
	strikeRemoved bool
	// contestable notices tell how and until when to counter-notify.
	contestable bool
}

// parties loads the mark and holder a notice about c names; ids stand in
// for names when either is gone from the registry.
func parties(ctx context.Context, tx *store.Tx, c *domain.Complaint) (domain.Mark, domain.NoticeHolder, error) {
	mark := domain.Mark{MarkID: c.MarkID, Name: c.MarkID, HolderID: c.HolderID}
	// The mark and its holder in one read; the complaint's holder when
	// the mark is gone.
	m, h, found, err := tx.GetMarkHolder(ctx, c.MarkID)
	switch {
	case err == nil:
		mark = m.Body
	case !errors.Is(err, store.ErrNotFound):
		return mark, domain.NoticeHolder{}, err
	default:
		switch h, err = tx.GetHolder(ctx, mark.HolderID); {
		case err == nil:
			found = true
		case !errors.Is(err, store.ErrNotFound):
			return mark, domain.NoticeHolder{}, err
		}
	}
	holder := domain.NoticeHolder{HolderID: mark.HolderID, Name: mark.HolderID}
	if found {
		holder.Name = h.Name
	}
	return mark, holder, nil
}

// notify writes the notice of f about c to the seller-notices topic
// through the outbox, in tx: it names the mark and holder (from parties),
// carries the evidence the seller may see, and is rendered in the
// listing's language. A complaint without a seller notifies nobody.
func (s *Service) notify(ctx context.Context, tx *store.Tx, c *domain.Complaint, mark *domain.Mark, holder domain.NoticeHolder, f noticeFacts, now time.Time) error {
	if c.SellerID == "" {
		return nil
	}
	n := domain.SellerNotice{
		SchemaVersion:  domain.SchemaVersion,
		NoticeID:       domain.NoticeID(c.ComplaintID, f.decision),
		SellerID:       c.SellerID,
		ListingID:      c.ListingID,
		ListingVersion: c.ListingVersion,
		ComplaintID:    c.ComplaintID,
		Decision:       f.decision,
		Mark:           domain.NoticeMark{MarkID: mark.MarkID, Name: mark.Name},
		Holder:         holder,
		Violation:      f.violation,
		Evidence:       notice.SellerEvidence(c, mark),
		Policy:         f.policy,
		Strikes:        f.strikes,
		NextStrike:     s.nextStrike(f.strikes, f.status),
		Educated:       f.educated,
		StrikeRemoved:  f.strikeRemoved,
		Automated:      f.automated,
		At:             now,
	}
	if f.contestable {
		n.CounterNotice = &domain.NoticeCounterNotice{How: notice.CounterNoticeViaMarketplace, Until: now.Add(s.counterNoticeWindow)}
	}
	locale := ""
	if c.Listing != nil {
		locale = c.Listing.Locale
	}
	if err := notice.Render(&n, locale); err != nil {
		return err
	}
	return enqueue(ctx, tx, n.NoticeID, s.topics.SellerNotices, c.SellerID, n)
}

// upholdNotices announces an uphold to the seller, in tx: the takedown,
// then the strike or the education that replaced it, then the rung the
// strike lifted the seller to.
func (s *Service) upholdNotices(ctx context.Context, tx *store.Tx, c *domain.Complaint, reasonCode, violation string, r strikeResult, now time.Time) error {
	base := noticeFacts{
		policy: reasonCode, violation: violation, strikes: r.strikes, status: r.status, contestable: true,
	}
	decisions := []string{domain.NoticeTakedown}
	switch {
	case r.educated:
		decisions = append(decisions, domain.NoticeWarning)
	case r.struck:
		decisions = append(decisions, domain.NoticeStrike)
		if r.climbed {
			decisions = append(decisions, rungNotice[r.status])
		}
	}
	if c.SellerID == "" {
		return nil
	}
	mark, holder, err := parties(ctx, tx, c)
	if err != nil {
		return err
	}
	for _, d := range decisions {
		f := base
		f.decision = d
		f.educated = r.educated && d == domain.NoticeWarning
		if err := s.notify(ctx, tx, c, &mark, holder, f, now); err != nil {
			return err
		}
	}
	return nil
}
