package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/suppress"
	"github.com/markwatch/markwatch/pipeline/detect"
)

// errMarksRemoved stops a pass whose marks are no longer all active, so
// that it goes on without them.
var errMarksRemoved = errors.New("sweep: a mark of the pass is no longer active")

// runPass runs the pass under way to its end and records it as done. A
// mark removed meanwhile is dropped from the pass, which then goes on
// with an engine over the others.
func (s *Sweeper) runPass(ctx context.Context, st *state) error {
	started := time.Now()
	for {
		err := s.runOnce(ctx, st)
		if !errors.Is(err, errMarksRemoved) {
			if err != nil {
				return err
			}
			return s.finish(ctx, st, started)
		}
	}
}

// runOnce sweeps every partition of the pass with one engine.
func (s *Sweeper) runOnce(ctx context.Context, st *state) error {
	p := st.pass
	marks, kept := s.passMarks(p)
	if len(kept) < len(p.Marks) {
		s.log.Info("marks no longer active dropped from the sweep pass", "pass_id", p.PassID,
			"marks", len(p.Marks)-len(kept))
		p.Marks = kept
		if len(kept) == 0 {
			return nil // finish records nothing and drops the pass
		}
		if err := s.checkpoint(ctx, p); err != nil {
			return err
		}
	}
	eng, err := s.opts.Build(ctx, marks)
	if err != nil {
		return fmt.Errorf("build engine over %d marks: %w", len(marks), err)
	}
	defer func() { _ = eng.Close() }()
	sc := s.scorer(eng, marks)
	for i := range p.Partitions {
		if p.Partitions[i].Next >= p.Partitions[i].End {
			continue
		}
		if err := s.sweepPartition(ctx, p, &p.Partitions[i], sc); err != nil {
			return err
		}
	}
	return nil
}

// passMarks returns the current version of each mark of p that is still
// active, and the entries of p.Marks for them.
func (s *Sweeper) passMarks(p *passRecord) ([]*domain.Mark, []passMark) {
	active, _ := s.observed()
	byID := make(map[string]*domain.Mark, len(active))
	for _, m := range active {
		byID[m.MarkID] = m
	}
	var marks []*domain.Mark
	var kept []passMark
	for _, pm := range p.Marks {
		if m, ok := byID[pm.MarkID]; ok {
			marks = append(marks, m)
			kept = append(kept, pm)
		}
	}
	return marks, kept
}

// removedFrom reports whether a mark of p is no longer active.
func (s *Sweeper) removedFrom(p *passRecord) bool {
	_, kept := s.passMarks(p)
	return len(kept) < len(p.Marks)
}

// sweepPartition sweeps pp from pp.Next to pp.End: a key-only read of the
// whole range first, to know each listing's last offset in it, then the
// scoring read. pp.Next advances only past records whose complaints are
// acknowledged; the progress record is written every CheckpointInterval.
func (s *Sweeper) sweepPartition(ctx context.Context, p *passRecord, pp *partitionProgress, sc *scorer) error {
	log := s.log.With("pass_id", p.PassID, "partition", pp.Partition)
	latest, err := s.index(ctx, pp)
	if err != nil {
		return err
	}
	sc.latest = latest
	log.Debug("sweeping partition", "from", pp.Next, "to", pp.End, "listings", latest.size())
	var out []kafka.Message
	readTo := pp.Next
	lastCheckpoint := time.Now()
	flush := func(checkpoint bool) error {
		if len(out) > 0 {
			if err := s.opts.Writer.WriteMessages(ctx, out...); err != nil {
				return fmt.Errorf("write %d complaints: %w", len(out), err)
			}
			s.m.complaints.Add(float64(len(out)))
			out = out[:0]
		}
		pp.Next = readTo
		if !checkpoint {
			s.m.show(p)
			return nil
		}
		lastCheckpoint = time.Now()
		if err := s.checkpoint(ctx, p); err != nil {
			return err
		}
		if s.removedFrom(p) {
			return errMarksRemoved
		}
		return nil
	}
	err = s.read(ctx, s.opts.ListingsTopic, pp.Partition, pp.Next, pp.End, func(m kafka.Message) error {
		if err := s.limit(ctx, sc, m); err != nil {
			return err
		}
		outcome, msgs, err := sc.score(ctx, m)
		if err != nil {
			return err
		}
		s.count(outcome)
		out = append(out, msgs...)
		readTo = m.Offset + 1
		if due := time.Since(lastCheckpoint) >= s.opts.CheckpointInterval; due || len(out) >= flushComplaints {
			return flush(due)
		}
		return nil
	})
	if err != nil {
		return err
	}
	readTo = pp.End
	return flush(true)
}

// limit waits for the rate limiter before a record that will be scored;
// superseded records cost nothing and are not counted against the rate.
func (s *Sweeper) limit(ctx context.Context, sc *scorer, m kafka.Message) error {
	if sc.superseded(m) {
		return nil
	}
	return s.limiter.Wait(ctx)
}

// count adds one record to the listings counter of its outcome.
func (s *Sweeper) count(outcome string) {
	s.m.byOutcome[outcome].Inc()
}

// index reads the keys of pp's whole range and returns each key's last
// offset in it.
func (s *Sweeper) index(ctx context.Context, pp *partitionProgress) (*lastOffsets, error) {
	latest := newLastOffsets(int(min(pp.End-pp.Start, 1<<20)))
	err := s.read(ctx, s.opts.ListingsTopic, pp.Partition, pp.Start, pp.End, func(m kafka.Message) error {
		latest.add(m.Key, m.Offset)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index keys: %w", err)
	}
	return latest, nil
}

// lastOffsets maps a 64-bit hash of each listing key to the last offset it
// was seen at: 16 bytes a listing rather than the key itself. Two keys
// colliding (odds about n²/2⁶⁵, 3·10⁻⁸ for a million listings) would make
// the earlier of them count as superseded.
type lastOffsets struct {
	seed maphash.Seed
	last map[uint64]int64
}

func newLastOffsets(hint int) *lastOffsets {
	return &lastOffsets{seed: maphash.MakeSeed(), last: make(map[uint64]int64, hint)}
}

// add records key at offset; records come in offset order.
func (l *lastOffsets) add(key []byte, offset int64) {
	if len(key) > 0 {
		l.last[maphash.Bytes(l.seed, key)] = offset
	}
}

// superseded reports whether a later record of key is in the range. A
// record without a key is never superseded: nothing ties it to another.
func (l *lastOffsets) superseded(key []byte, offset int64) bool {
	if l == nil || len(key) == 0 {
		return false
	}
	last, ok := l.last[maphash.Bytes(l.seed, key)]
	return ok && last > offset
}

func (l *lastOffsets) size() int { return len(l.last) }

// scorer is the scoring path of a pass: one record in, its complaints out.
type scorer struct {
	eng    Engine
	images detect.Images     // nil: text only
	bank   detect.BankSource // nil: quarantines only
	latest *lastOffsets
	topic  string
	rule   string
	limits domain.Limits
	now    func() time.Time
}

// scorer returns the scoring path over eng. Images are fetched only when a
// mark of the pass has reference images to compare them with.
func (s *Sweeper) scorer(eng Engine, marks []*domain.Mark) *scorer {
	sc := &scorer{eng: eng, bank: s.opts.Bank, topic: s.opts.ComplaintsTopic, rule: eng.Options().RuleVersion, limits: s.opts.Limits, now: s.opts.Now}
	if s.opts.Images != nil && slices.ContainsFunc(marks, func(m *domain.Mark) bool { return len(m.ImageHashes) > 0 }) {
		sc.images = s.opts.Images
	}
	return sc
}

// superseded reports whether m is followed by a later version in the range.
func (sc *scorer) superseded(m kafka.Message) bool { return sc.latest.superseded(m.Key, m.Offset) }

// score decodes and scores one record and returns its outcome and the
// complaint messages of its flagged results. A record that is superseded
// or not a valid listing is skipped with that outcome; the error is a
// scoring or image fetch failure (or ctx's), which fails the pass.
//
// Text-only passes score a plain decode of the record and run the strict
// decode (domain.DecodeListing: shape, UTF-8, caps, validation) only on
// the rare record that is flagged, before a complaint is built from it.
// The strict decode is three quarters of a listing's cost and almost
// every record of a sweep is clean; when it succeeds its listing is the
// plain decode's, field for field, so the complaints are the same as
// with strict decoding first (TestLenientDecodeFilesTheSame), and a
// record it refuses files nothing, as the live detector dead-letters it.
// Invalid records are therefore counted only among those that would have
// been flagged. Passes with images decode strictly first: image URLs are
// fetched, and only validated ones may be.
func (sc *scorer) score(ctx context.Context, m kafka.Message) (string, []kafka.Message, error) {
	if sc.superseded(m) {
		return outcomeSuperseded, nil, nil
	}
	var l *domain.Listing
	var err error
	strict := sc.images != nil
	if strict {
		l, err = domain.DecodeListing(m.Value, sc.limits)
	} else {
		l, err = plainDecode(m.Value, sc.limits)
	}
	if err != nil || (len(m.Key) > 0 && string(m.Key) != l.ListingID) {
		// The live detector dead-letters these; the sweep only skips them.
		return outcomeInvalid, nil, nil
	}
	p := matchers.NewListing(l)
	// The images' pixels (logo detection's dense check, pooled) are for
	// scoring only: given back however score returns.
	defer func() { matchers.ReleasePixels(p.Images) }()
	if sc.images != nil && len(l.Images) > 0 {
		if p.Images, err = sc.images.Listing(ctx, l); err != nil {
			return "", nil, fmt.Errorf("images of %s: %w", l.ListingID, err)
		}
	}
	// A quarantine holds for sweeps as for the live stream: the flood it
	// stops is often a sweep's, of a newly uploaded reference image. So
	// does the negative bank, once read.
	var bank *suppress.Bank
	if sc.bank != nil {
		if b, release, ok := sc.bank.Acquire(); ok {
			defer release()
			bank = b
		}
	}
	results, err := detect.ScoreSuppressed(ctx, sc.eng, p, bank)
	if err != nil {
		return "", nil, fmt.Errorf("score %s: %w", l.ListingID, err)
	}
	var out []kafka.Message
	for _, r := range results {
		if !detect.Files(r) {
			continue
		}
		if !strict {
			if l, err = domain.DecodeListing(m.Value, sc.limits); err != nil {
				return outcomeInvalid, nil, nil
			}
			p.Listing, strict = l, true
		}
		msg, err := detect.ComplaintMessage(sc.topic, domain.SourceSweep, l, p, r, sc.rule, sc.now().UTC())
		if err != nil {
			return "", nil, err
		}
		out = append(out, msg)
	}
	if len(out) == 0 {
		return outcomeClean, nil, nil
	}
	return outcomeFlagged, out, nil
}

// plainDecode decodes a listing record with encoding/json alone, within
// the message size cap: what scoring needs, without the strict checks.
func plainDecode(data []byte, lim domain.Limits) (*domain.Listing, error) {
	if len(data) > lim.MaxMessageBytes {
		return nil, fmt.Errorf("message of %d bytes is over the %d-byte cap", len(data), lim.MaxMessageBytes)
	}
	var l domain.Listing
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// read reads partition of topic from offset from up to, not including,
// end, calling fn for each record in order; fn's error stops the read.
// It assumes a record exists at end-1, as the end offset of a topic that
// no transactional producer writes guarantees.
func (s *Sweeper) read(ctx context.Context, topic string, partition int, from, end int64, fn func(kafka.Message) error) error {
	if from >= end {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   s.opts.Brokers,
		Topic:     topic,
		Partition: partition,
		MinBytes:  1,
		MaxBytes:  fetchMaxBytes,
		MaxWait:   fetchMaxWait,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			s.log.Debug("kafka-go: "+fmt.Sprintf(msg, args...), "partition", partition)
		}),
	})
	defer r.Close() // always nil; waits for the fetch in flight
	if err := r.SetOffset(from); err != nil {
		return fmt.Errorf("read %s/%d: %w", topic, partition, err)
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", topic, partition, err)
		}
		if m.Offset >= end {
			return nil // the record at end-1 was deleted or compacted away
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Offset >= end-1 {
			return nil
		}
	}
}

// topicRanges returns, for every partition of topic, the range from the
// first record at or after since (the first offset retained when since is
// zero) to the end offset, with Next at its start. A missing topic is an
// error; Metadata is asked without auto-creation.
func topicRanges(ctx context.Context, client *kafka.Client, topic string, since time.Time) ([]partitionProgress, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	var parts []int
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("metadata of %s: no partitions", topic)
	}
	slices.Sort(parts)
	// One request per kind of offset: Kafka refuses a ListOffsets request
	// that names a partition twice.
	first, err := listOffsets(ctx, client, topic, parts, kafka.FirstOffsetOf)
	if err != nil {
		return nil, err
	}
	end, err := listOffsets(ctx, client, topic, parts, kafka.LastOffsetOf)
	if err != nil {
		return nil, err
	}
	start := first
	if !since.IsZero() {
		start, err = listOffsets(ctx, client, topic, parts, func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, since) })
		if err != nil {
			return nil, err
		}
	}
	out := make([]partitionProgress, len(parts))
	for i, p := range parts {
		s, ok := start[p]
		if !ok {
			s = end[p] // no record at or after since
		}
		s = min(max(s, first[p]), end[p])
		out[i] = partitionProgress{Partition: p, Start: s, End: end[p], Next: s}
	}
	return out, nil
}

// listOffsets asks for one offset per partition, of the kind req builds.
// For a timestamp, a partition with no record at or after it is absent
// from the answer.
func listOffsets(ctx context.Context, client *kafka.Client, topic string, parts []int, req func(int) kafka.OffsetRequest) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = req(p)
	}
	kind := reqs[0].Timestamp
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	got := make(map[int]int64, len(parts))
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		switch kind {
		case kafka.FirstOffset:
			got[po.Partition] = po.FirstOffset
		case kafka.LastOffset:
			got[po.Partition] = po.LastOffset
		default:
			// kafka-go files a found offset under Offsets; "none at or
			// after the time" comes back as offset -1.
			for off := range po.Offsets {
				if off >= 0 {
					got[po.Partition] = off
				}
			}
		}
	}
	if kind == kafka.FirstOffset || kind == kafka.LastOffset {
		for _, p := range parts {
			if _, ok := got[p]; !ok {
				return nil, fmt.Errorf("list offsets of %s/%d: not in the answer", topic, p)
			}
		}
	}
	return got, nil
}
