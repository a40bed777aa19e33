// Package sweep scores the live listings again when a mark becomes active
// or changes, against that mark only, so that a brand registering today
// finds what is already on sale (DESIGN.md, Flow: sweeps). Complaints it
// files have source "sweep".
//
// How it works. The detector's marks follower hands every set of active
// marks it builds an engine from to Sweeper.Observe. The sweeper compares
// each mark's fingerprint (name, variants, logos, official images, their
// hashes, threshold) with the fingerprint it last swept, and gathers the
// new and changed marks for Options.Settle after the last change, so that
// several marks changed at once share one pass. A pass:
//
//  1. fixes its range: for every partition of the listings topic, from the
//     offset of the first record at or after now − Options.Lookback (Kafka's
//     offsets-for-timestamp lookup; a negative Lookback means from the first
//     offset retained) to the end offset now. Records after the range reach the
//     live detector, whose engine already has the marks: Settle, longer
//     than a detector takes to watch a new mark, keeps the two from
//     leaving a gap.
//  2. builds an engine over the pass's marks only (Options.Build), which is
//     what makes a sweep cheap: the presearch has one mark's terms.
//  3. per partition, first reads the range's keys only and keeps the last
//     offset of each listing id (a 64-bit hash of the key: 16 bytes a
//     listing, one partition at a time), then reads the range again and
//     decodes and scores only the record that is the last of its key: a
//     version already superseded within the range is skipped, never
//     scored. Listings with the same id share a partition (key =
//     listing_id), so per-partition is enough.
//  4. writes the flagged results as complaints (source sweep) with the same
//     deterministic id as the live detector's (listing id, version, mark,
//     rule version): a repeated sweep, or a sweep and the live detector
//     finding the same listing version, is stored once by the review
//     service.
//
// Decisions, and why:
//
//   - Read listings from a look-back, not a compacted listings topic. The
//     listings topic belongs to the marketplace and is an event stream with
//     time retention; making it compacted would change what every other
//     consumer of it sees, and a compacted topic still holds delisted
//     listings forever. The look-back plus the latest-version-only rule
//     gives the live catalogue as far back as the topic retains.
//   - Progress lives in a compacted topic (Options.SweepsTopic, key "pass"
//     for the pass under way with its range and per-partition next offset,
//     "mark/<mark_id>" for the fingerprint each mark was last swept at).
//     The pipeline knows no store, and a topic survives a restart of any
//     detector: a restarted sweeper reads it to the end, resumes the pass
//     where its last checkpoint left it (complaints before the checkpoint
//     are acknowledged before it is written, so nothing is lost and a few
//     complaints at most are written twice under the same id), and does not
//     sweep again a mark whose fingerprint it has recorded. A mark that is
//     removed or deactivated gets a tombstone, so re-activating it sweeps
//     again.
//   - Own readers (one kafka.Reader per partition, no consumer group), own
//     rate limit (Options.Rate, listings scored per second), one goroutine:
//     the live detector's consumer group, offsets and lag are untouched, and
//     at most one core is spent. The key-only first read is not rate
//     limited; it decodes nothing.
//   - One sweeper sweeps at a time. Every detector may run one: with
//     Options.GroupID they join a consumer group on the sweeps topic and
//     the member assigned its partition 0 leads (kafka-go's group
//     protocol ends a generation only after the old leader has stopped,
//     so two never sweep at once); when it stops or dies, another takes
//     over and resumes the pass under way from its last checkpoint. The
//     group commits no offsets: it is an election, not a consumer.
//   - A mark removed while its pass runs is dropped from the pass at the
//     next checkpoint; a mark changed while its pass runs is swept again by
//     the next pass (the pass records the fingerprint it started with).
//   - The first start against an empty sweeps topic (a deployment's first)
//     records every mark active then as swept without sweeping: the live
//     detector has been watching them, and a pass over the catalogue
//     against all of them would hold back the next new mark's sweep for
//     as long. Options.SweepOnFirstStart sweeps them instead.
//   - Passes run one at a time; marks that change during a pass wait for
//     the next one.
//   - Listing images are fetched (Options.Images) only when a mark of the
//     pass has reference images; otherwise a pass is text only.
package sweep
