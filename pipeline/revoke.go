package pipeline

import (
	"context"
	"time"
)

// The Consumer's side of cooperative rebalancing: markwatch's group member
// (staticReader) tells it which partitions it gains and gives up, and the
// Consumer keeps its offset tracker, metrics and logs in step. Commits are
// fenced per partition: a partition is tracked from its assignment to its
// release, and nothing of it is handled, emitted or committed after.

// revokePoll is how often a revocation looks whether the revoked
// partitions' work has finished.
const revokePoll = 10 * time.Millisecond

// partitionsAssigned starts tracking parts afresh (see partitionListener).
func (c *Consumer) partitionsAssigned(parts []int) {
	c.tracker.assign(parts)
	c.m.assignedParts.Add(float64(len(parts)))
	c.log.Info("partitions assigned", "partitions", parts)
}

// partitionsRevoked lets the work fetched from parts finish, commits it
// and releases parts (see partitionListener). When ctx ends first, the
// unfinished work is abandoned uncommitted: the next owner handles it
// again (duplicates with the same complaint ids).
func (c *Consumer) partitionsRevoked(ctx context.Context, parts []int) {
	start := time.Now()
	c.tracker.revoking(parts)
	for {
		delay := revokePoll
		if c.tracker.drained(parts) {
			err := c.commit(ctx, c.reader)
			if err == nil && c.tracker.settled(parts) {
				break
			}
			if err != nil {
				// A rebalance started meanwhile, or the coordinator is
				// moving: try again, without hammering it.
				delay = 10 * revokePoll
			}
		}
		if !wait(ctx, delay) {
			break
		}
	}
	abandoned := c.tracker.release(parts)
	c.m.revokedParts.Add(float64(len(parts)))
	c.m.inFlight.Set(float64(c.tracker.pending()))
	attrs := []any{"partitions", parts, "drain_seconds", time.Since(start).Seconds(), "abandoned", abandoned}
	if abandoned > 0 {
		c.log.Warn("partitions revoked before their work finished; it is delivered again to their next owner", attrs...)
		return
	}
	c.log.Info("partitions revoked; their work finished and committed", attrs...)
}

// partitionsLost releases parts at once (see partitionListener).
func (c *Consumer) partitionsLost(parts []int) {
	abandoned := c.tracker.release(parts)
	c.m.lostParts.Add(float64(len(parts)))
	c.m.inFlight.Set(float64(c.tracker.pending()))
	c.log.Warn("partitions lost without a commit; their uncommitted work is delivered again to their next owner",
		"partitions", parts, "abandoned", abandoned)
}

// generationJoined counts a generation (markwatch_consumer_rebalances_total).
func (c *Consumer) generationJoined(generation int) {
	c.m.rebalances.Inc()
	c.log.Debug("group generation joined", "generation", generation)
}
