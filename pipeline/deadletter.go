package pipeline

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
)

// Header keys of a dead-letter message. Together they say where the input
// came from and why it can never be processed.
const (
	HeaderReason     = "dlq.reason"      // the error message, at most maxReasonBytes
	HeaderTopic      = "dlq.topic"       // topic of the input
	HeaderPartition  = "dlq.partition"   // partition of the input, decimal
	HeaderOffset     = "dlq.offset"      // offset of the input, decimal
	HeaderErrorClass = "dlq.error_class" // e.g. decode, validation, panic
	HeaderTime       = "dlq.time"        // when it was dead-lettered, RFC 3339 UTC
	// HeaderValueOmitted is set, to the value's size in bytes, on a dead
	// letter written without its value because it was over the size limit.
	HeaderValueOmitted = "dlq.value_omitted"
)

// maxReasonBytes caps dlq.reason: an error message may quote the input,
// and the header must not make the dead letter larger than the broker
// accepts.
const maxReasonBytes = 1024

// DeadLetter turns a permanent failure into a dead-letter message, so that
// the input leaves the partition's way and processing continues (watermill's
// poison queue). The dead letter is returned as the handler's only output,
// and is written and acknowledged before the input's offset is committed,
// exactly like a normal output.
type DeadLetter struct {
	// Topic receives the dead letters. Required.
	Topic string
	// MaxBytes caps a dead letter's size (key, value, headers); over it
	// the value is left out and HeaderValueOmitted says so, because a
	// dead letter the writer refuses would be retried forever. <= 0 means
	// no cap.
	MaxBytes int
	// Now stamps dlq.time; nil means time.Now.
	Now func() time.Time
	// OnDeadLetter, if set, is called for each dead-lettered input with the
	// error class and the error, for logs and metrics.
	OnDeadLetter func(ctx context.Context, msg kafka.Message, class string, err error)
}

// Middleware wraps h: a permanent error becomes a dead letter and a nil
// error; successes and transient errors pass through unchanged (outputs
// of a failed call are dropped).
func (d DeadLetter) Middleware(h Handler) Handler {
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		outs, err := h(ctx, msg)
		if err == nil || !IsPermanent(err) {
			return outs, err
		}
		class := errorClass(err)
		if d.OnDeadLetter != nil {
			d.OnDeadLetter(ctx, msg, class, err)
		}
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		dl := deadLetterMessage(d.Topic, msg, class, err, now())
		if d.MaxBytes > 0 && messageSize(&dl) > d.MaxBytes {
			dl.Headers = append(dl.Headers, kafka.Header{Key: HeaderValueOmitted, Value: strconv.AppendInt(nil, int64(len(dl.Value)), 10)})
			dl.Value = nil
		}
		return []kafka.Message{dl}, nil
	}
}

// deadLetterMessage builds the dead letter of msg: same key and value, the
// original headers first and the dlq.* headers last (a reader that takes the
// last header of a name, as Java's Headers.lastHeader does, gets ours even
// when the input was itself a dead letter).
func deadLetterMessage(topic string, msg kafka.Message, class string, err error, at time.Time) kafka.Message {
	headers := make([]kafka.Header, 0, len(msg.Headers)+6)
	headers = append(headers, msg.Headers...)
	headers = append(headers,
		kafka.Header{Key: HeaderReason, Value: []byte(truncateUTF8(err.Error(), maxReasonBytes))},
		kafka.Header{Key: HeaderTopic, Value: []byte(msg.Topic)},
		kafka.Header{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(msg.Partition), 10)},
		kafka.Header{Key: HeaderOffset, Value: strconv.AppendInt(nil, msg.Offset, 10)},
		kafka.Header{Key: HeaderErrorClass, Value: []byte(class)},
		kafka.Header{Key: HeaderTime, Value: at.UTC().AppendFormat(nil, time.RFC3339Nano)},
	)
	return kafka.Message{Topic: topic, Key: msg.Key, Value: msg.Value, Headers: headers}
}

// truncateUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
// Invalid bytes in s are kept as they are: the reason is diagnostic text.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
