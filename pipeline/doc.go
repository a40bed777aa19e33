// Package pipeline is markwatch's delivery core: a kafka-go consumer-group
// member that hands each input message to a Handler on a pool of workers,
// writes what the handler returns (complaints) or a dead letter, and commits
// offsets only behind durable effects. The detector plugs its scoring in as
// the Handler; cmd/ wires Options from the configuration.
//
// # Flow
//
//	FetchMessage ─▶ tracker.add ─▶ worker[hash(key) % n] ─▶ chain(Handler)
//	                                                          │ outputs / dead letter
//	commit loop ◀─ tracker.done ◀─ emitter (WriteMessages, acks=all) ◀─┘
//
// One fetch loop reads with FetchMessage (never ReadMessage, which commits
// before the work is done) and dispatches each message to a worker chosen
// by its key, so that a key's messages are handled one at a time, in offset
// order. The handler runs inside one chain of middlewares composed in
// chain.go: DeadLetter, Metrics, Retry, Timeout, CheckOutputs, Recover.
// Outputs go to a single emitter that writes them in batches, one write at a
// time in the order the workers produced them (so a key's outputs keep their
// order too), through a Writer that waits for all in-sync replicas. After a
// partial failure only the failed messages are written again; kafka-go fails
// a whole partition batch at once and a key has one partition, so this does
// not reorder a key's outputs.
//
// # Delivery semantics
//
// At least once, with effects made idempotent downstream (complaint ids
// are deterministic; the review service stores each once):
//
//   - An input's offset becomes committable only when its handler has
//     finished and every output, or its dead letter, has been acknowledged
//     by all in-sync replicas (NewWriter: RequiredAcks RequireAll).
//   - With parallel workers messages finish out of order. The offset
//     tracker (offsets.go, after Jaeger's ingester offset manager) keeps,
//     per partition, the fetched messages in fetch order and commits only
//     the highest contiguous finished one; kafka-go's CommitMessages stores
//     that offset+1. Contiguous means in fetch order, not offset+1, since
//     compacted topics and transaction markers leave gaps in offsets.
//     Commits are batched every CommitInterval.
//   - A transient failure, of the handler or of a write, is retried with
//     exponential backoff and jitter, waiting in a select on the context,
//     until it succeeds or the context ends: nothing is skipped. An error
//     marked permanent (PermanentError, ErrPermanent), a panic, or an output
//     that could never be written sends the input to the dead-letter topic
//     with the reason and origin in dlq.* headers, and processing goes on.
//   - kafka-go has no transactions and no idempotent producer: a crash
//     between a write and the commit, a write retried after a timeout, or
//     a rebalance re-delivers and re-emits. That is the at-least-once part.
//
// # Rebalances
//
// With Options.GroupInstanceID set (the detector's default) the consumer
// is a member of its group through markwatch's own client (static.go):
// static membership (KIP-345) and incremental cooperative rebalancing
// (KIP-429, protocol "cooperative-sticky", assignor in sticky.go, protocol
// bytes in groupproto.go). That member says which partitions it owns, so
// fencing is per partition (revoke.go):
//
//   - A partition is tracked from its assignment to its release; messages
//     of other partitions are dropped unhandled.
//   - A partition the leader takes away is revoked before it moves: its
//     fetcher stops, new messages of it are refused, the work already
//     taken finishes and is committed (bounded by half the session timeout
//     and DrainTimeout), then it is released. Work unfinished at release
//     is neither handled nor emitted any more, and never committed; the
//     next owner, which gets the partition only in the following
//     rebalance, does it again.
//   - Partitions that stay are never stopped, fenced or delivered again: a
//     rebalance, a coordinator move or a rejoin with unchanged membership
//     costs them nothing.
//   - A member the coordinator dropped (silent beyond the session
//     timeout, or its instance id taken) loses its partitions at once,
//     without a commit.
//
// Without it the consumer uses kafka-go's group Reader (deprecated for the
// detector, kept for one release and for the review service's
// consumers), which hides partition assignment: no callback says
// which partitions were revoked, its queue may still hand out messages
// fetched for the previous generation (kafka-go #1398), and CommitMessages
// commits whatever it is given under the current generation, even for a
// partition another member now owns, rewinding or skipping that member's
// progress (kafka-go #1308). What it does do, on every new generation, is
// count the rebalance (Reader.Stats) and then restart every assigned
// partition at the group's committed offset. The consumer builds on those
// two facts:
//
//   - Fence. The reader's rebalance count is read after every fetch and
//     before every commit. When it grows, every partition is fenced: none
//     is committed until a message fetched after the rebalance shows that
//     this member still reads it (kafka-go drops buffered messages of the
//     old generation once the new one starts). Finished work of a
//     partition that was revoked is therefore never committed under the
//     new generation; the new owner does it again from the committed
//     offset.
//   - Rewind. A fetched offset at or below the last one fetched on its
//     partition means the reader restarted the partition at the committed
//     offset. The tracked entries at or above it are superseded by the
//     re-delivered copies (their completion no longer counts); entries
//     below it stay and still hold the commit back. The tracker never lets
//     a commit pass a message that is fetched and unfinished, in any
//     generation.
//   - A failed CommitMessages (after a rebalance it fails with an illegal
//     generation or a rebalance in progress) is logged and counted and
//     changes nothing: the next round tries again, by then fenced if the
//     generation changed. Dropping the tracked state on the error alone
//     would be unsafe: if no new generation follows, the reader does not
//     re-deliver, and a commit from a fresh start point would pass
//     messages still in flight.
//
// What is left: a rebalance that lands between the pre-commit check and
// the broker receiving the commit, or between receiving a message and
// reading the count, can still let one stale commit through.
// Its effect is a rewind of the new owner's committed offset, that is
// duplicates, never loss, because a commit never covers unfinished work.
//
// # Shutdown
//
// Run stops fetching when its context is canceled, lets the workers finish
// what was fetched (handlers keep a context that lives on for
// DrainTimeout), writes their outputs, commits what finished and closes the
// reader. Work still running at the deadline is abandoned uncommitted and
// will be delivered again; a message in the middle of retrying is never
// committed.
//
// # Observability
//
// Metrics (markwatch_consumer_*) go to the injected Registerer. Lag per
// partition comes from the broker (committed against end offsets), since
// Reader.Lag is -1 for a group. Healthy judges liveness by progress: it
// fails when fetched messages wait and none has finished for StallTimeout.
package pipeline
