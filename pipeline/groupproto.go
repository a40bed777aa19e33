package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// The group protocol bytes. Kafka's broker treats a member's JoinGroup
// metadata and the leader's SyncGroup assignments as opaque bytes; the
// members agree on their layout. markwatch uses Kafka's own consumer
// protocol (ConsumerProtocolSubscription and ConsumerProtocolAssignment,
// the layout every Kafka client writes under protocol type "consumer"),
// so that Kafka's tools (kafka-consumer-groups --members --verbose) and
// kafka-go's DescribeGroups read our assignments, and the protocol name
// "cooperative-sticky" means what it means to a Java consumer:
//
//   - the subscription is written at version 1, the highest kafka-go
//     decodes (a legacy kafka-go member of the group reads it), with the
//     partitions the member owns (KIP-429) and, as user data, the
//     generation in which it owned them: a 4-byte big-endian int32, as
//     Java's CooperativeStickyAssignor writes it before subscription v2;
//   - the decoder reads versions 0 to 3 (v2 adds the generation as a
//     field, v3 a rack id) and ignores bytes after the fields it knows,
//     Kafka's rule for newer versions.
//
// These bytes come from other members of the group: a bug or another
// client there must not crash or stall this member, so the decoder
// checks every length against what is left before allocating.

// protocolCooperative and protocolRange are the assignment protocols this
// member offers, preferred first. The coordinator picks the first one
// every member supports: range only while a member that does not speak
// cooperative-sticky is in the group (a detector of an older release, or
// one on the deprecated kafka-go ConsumerGroup path), and then this
// member rebalances eagerly, as those do.
const (
	protocolCooperative = "cooperative-sticky"
	protocolRange       = "range"
)

// subscriptionVersion is the version of the subscriptions this member
// writes.
const subscriptionVersion = 1

// maxProtocolArray bounds any one array in the protocol bytes (topics,
// partitions of a topic); a larger count is a corrupt or hostile message.
const maxProtocolArray = 1 << 20

// noGeneration is the generation of a subscription that does not say it.
const noGeneration = -1

// subscription is one member's JoinGroup metadata.
type subscription struct {
	// Version is the version the sender wrote.
	Version int16
	Topics  []string
	// UserData is the sender's assignor data (for cooperative-sticky:
	// Generation, encoded).
	UserData []byte
	// Owned are the partitions the member owns, by topic.
	Owned map[string][]int32
	// Generation is the generation in which the member owned them, from
	// the v2 field or the user data; noGeneration when neither says.
	Generation int32
	// Rack is the v3 rack id (unused by the assignor).
	Rack string
}

// assignment is what the leader gives one member in SyncGroup.
type assignment struct {
	Version    int16
	Partitions map[string][]int32
	UserData   []byte
}

// errProtocol is wrapped by every decoding error.
var errProtocol = errors.New("malformed group protocol bytes")

// encodeRangeSubscription writes the subscription offered with the range
// protocol: version 0, topics only. kafka-go's ConsumerGroup, the member
// that makes a group choose range, refuses member metadata with bytes
// after the v0 fields when it leads the group.
func encodeRangeSubscription(topics []string) []byte {
	var w protoWriter
	w.int16(0)
	w.int32(int32(len(topics)))
	for _, t := range topics {
		w.string(t)
	}
	w.bytes(nil)
	return w.b
}

// encodeSubscription writes a cooperative-sticky subscription at
// subscriptionVersion; generation goes into the user data.
func encodeSubscription(topics []string, owned map[string][]int32, generation int32) []byte {
	var w protoWriter
	w.int16(subscriptionVersion)
	w.int32(int32(len(topics)))
	for _, t := range topics {
		w.string(t)
	}
	var ud [4]byte
	binary.BigEndian.PutUint32(ud[:], uint32(generation))
	w.bytes(ud[:])
	w.topicPartitions(owned)
	return w.b
}

// encodeAssignment writes an assignment at version 1. inTransit goes
// into the user data (see assignment.inTransit).
func encodeAssignment(parts map[string][]int32, inTransit bool) []byte {
	var w protoWriter
	w.int16(1)
	w.topicPartitions(parts)
	if inTransit {
		w.bytes([]byte{1})
	} else {
		w.bytes(nil)
	}
	return w.b
}

// inTransit reports whether the leader held partitions back in this
// generation (one user data byte 1, markwatch's own): they are being
// revoked by their owners, and the next rebalance, which every member has
// to join, hands them over. Members heartbeat fast meanwhile, so that
// they learn of that rebalance at once rather than one heartbeat interval
// later. Other clients' assignments carry no such byte.
func (a assignment) inTransit() bool { return len(a.UserData) == 1 && a.UserData[0] == 1 }

// decodeSubscription reads a member's metadata.
func decodeSubscription(b []byte) (subscription, error) {
	r := protoReader{b: b}
	s := subscription{Version: r.int16(), Generation: noGeneration}
	if r.err == nil && s.Version < 0 {
		return s, fmt.Errorf("%w: subscription version %d", errProtocol, s.Version)
	}
	s.Topics = r.strings()
	s.UserData = r.nullableBytes()
	if s.Version >= 1 {
		s.Owned = r.topicPartitions()
	}
	if len(s.UserData) == 4 {
		s.Generation = int32(binary.BigEndian.Uint32(s.UserData))
	}
	if s.Version >= 2 {
		s.Generation = r.int32()
	}
	if s.Version >= 3 {
		s.Rack = r.nullableString()
	}
	if r.err != nil {
		return subscription{}, fmt.Errorf("subscription: %w", r.err)
	}
	return s, nil
}

// decodeAssignment reads an assignment. Empty bytes are no assignment:
// the coordinator sends them to a member the leader left out.
func decodeAssignment(b []byte) (assignment, error) {
	if len(b) == 0 {
		return assignment{Partitions: map[string][]int32{}}, nil
	}
	r := protoReader{b: b}
	a := assignment{Version: r.int16()}
	if r.err == nil && a.Version < 0 {
		return a, fmt.Errorf("%w: assignment version %d", errProtocol, a.Version)
	}
	a.Partitions = r.topicPartitions()
	a.UserData = r.nullableBytes()
	if r.err != nil {
		return assignment{}, fmt.Errorf("assignment: %w", r.err)
	}
	return a, nil
}

// protoWriter appends Kafka's classic (non-flexible) encodings.
type protoWriter struct{ b []byte }

func (w *protoWriter) int16(v int16) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)) }
func (w *protoWriter) int32(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }

func (w *protoWriter) string(s string) {
	w.int16(int16(len(s)))
	w.b = append(w.b, s...)
}

// bytes writes b; nil is written as null (-1).
func (w *protoWriter) bytes(b []byte) {
	if b == nil {
		w.int32(-1)
		return
	}
	w.int32(int32(len(b)))
	w.b = append(w.b, b...)
}

// topicPartitions writes topics in name order, each topic's partitions
// sorted, so that equal maps encode to equal bytes.
func (w *protoWriter) topicPartitions(m map[string][]int32) {
	w.int32(int32(len(m)))
	for _, t := range slices.Sorted(maps.Keys(m)) {
		w.string(t)
		ps := slices.Sorted(slices.Values(m[t]))
		w.int32(int32(len(ps)))
		for _, p := range ps {
			w.int32(p)
		}
	}
}

// protoReader reads Kafka's classic encodings; the first error sticks and
// later reads return zero values.
type protoReader struct {
	b   []byte
	err error
}

func (r *protoReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
	}
}

func (r *protoReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("%d bytes wanted, %d left", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *protoReader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *protoReader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

// count reads an array length whose elements take at least minSize bytes
// each, so that a forged count cannot make the reader allocate more than
// the message could hold.
func (r *protoReader) count(minSize int) int {
	n := r.int32()
	switch {
	case r.err != nil:
		return 0
	case n < 0 || n > maxProtocolArray:
		r.fail("array length %d", n)
		return 0
	case int(n)*minSize > len(r.b):
		r.fail("array of %d wants at least %d bytes, %d left", n, int(n)*minSize, len(r.b))
		return 0
	}
	return int(n)
}

func (r *protoReader) string() string {
	n := r.int16()
	if r.err == nil && n < 0 {
		r.fail("string length %d", n)
	}
	return string(r.take(int(max(n, 0))))
}

func (r *protoReader) nullableString() string {
	n := r.int16()
	if r.err != nil || n == -1 {
		return ""
	}
	if n < 0 {
		r.fail("string length %d", n)
	}
	return string(r.take(int(n)))
}

func (r *protoReader) nullableBytes() []byte {
	n := r.int32()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < 0 {
		r.fail("bytes length %d", n)
		return nil
	}
	return slices.Clone(r.take(int(n)))
}

func (r *protoReader) strings() []string {
	n := r.count(2)
	out := make([]string, 0, n)
	for range n {
		out = append(out, r.string())
	}
	return out
}

// topicPartitions reads [topic, [partition]]. A topic named twice has its
// partitions merged.
func (r *protoReader) topicPartitions() map[string][]int32 {
	n := r.count(6)
	out := make(map[string][]int32, n)
	for range n {
		t := r.string()
		k := r.count(4)
		for range k {
			out[t] = append(out[t], r.int32())
		}
		if r.err != nil {
			return nil
		}
	}
	return out
}
