// Package marks follows the compacted marks topic and keeps a detection
// engine built from every active mark (DESIGN.md, Flow: marks). The
// follower is a Table over any compacted topic of records keyed by their
// id: Follower is the Table of marks, and the detector follows the
// negative-banks topic with another (pipeline/detect.BankFollower). What
// follows says marks; it holds for every record type (Options.Decode says
// what a record is and whether it is live).
//
// The topic's key is the mark_id and its value a domain.Mark in JSON; an
// empty value is a tombstone. A Follower reads every partition from the
// beginning, applies the records to an in-memory mark set, builds the engine
// once it has reached the end offsets it saw at start (then it is Ready), and
// afterwards applies new records live, rebuilding the engine after each
// debounced batch. Engines are swapped whole: a caller Acquires the current
// one and Releases it, and a swapped-out engine is closed only after its last
// user has let go, so a listing is never scored against half an update.
//
// Decisions, and why:
//
//   - No consumer group. Every detector needs every mark, so each Follower
//     reads all partitions itself and commits nothing: a restart re-reads the
//     topic from the beginning, which compaction keeps small.
//   - One kafka.Reader per partition (Partition set, no GroupID, starting at
//     kafka.FirstOffset) rather than raw DialLeader connections: the Reader
//     already follows leader changes, reconnects with backoff and long-polls.
//     End offsets come from one kafka.Client (Metadata, then ListOffsets);
//     the topic is looked up with Metadata first, which never auto-creates
//     it, and retried with backoff until it exists.
//   - Caught up means: for each partition, a record at or past end-1 was
//     read, where end is the offset ListOffsets gave at start (an empty
//     partition is caught up at once). If the last record before end were a
//     transaction marker, which kafka-go producers never write, catch-up
//     would wait for the partition's next record.
//   - Partitions added later are found by a Metadata poll every
//     Options.PartitionCheckInterval and read from their beginning; they do
//     not hold back readiness. (Adding partitions to a keyed topic moves
//     keys, so a mark may then exist in two partitions whose relative order
//     is undefined; the registry should not add partitions to marks.)
//   - An invalid record (strict domain.DecodeMark fails, or the key is empty
//     or differs from mark_id) is logged with key, partition and offset,
//     counted, and otherwise ignored: the last good version of that mark
//     stays watched. A bad publish must not silently unwatch a brand. This
//     is best effort across restarts: once compaction has dropped the good
//     version, a restarted detector no longer has it.
//   - A tombstone or a status other than active removes the mark.
//   - A failed Build keeps the previous engine; it is logged, counted and
//     retried at the next update or after a backoff, whichever is first.
//   - Updates are gathered for Options.Debounce from the first change, not
//     from the last, so a steady trickle cannot postpone a rebuild forever:
//     a change is watched within Debounce plus one build.
package marks
