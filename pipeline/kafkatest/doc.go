// Package kafkatest holds what the pipeline's Kafka integration tests share:
// topic set-up on a real cluster, an in-process broker, and a smoke suite
// (RunSmoke) that every broker the project runs on must pass, like
// watermill's pubsub/tests conformance suite.
//
// Two brokers run the suite: the Apache Kafka broker that scripts/kafka.sh
// starts (found through internal/testenv, MARKWATCH_KAFKA_BROKERS) and the
// embedded franz-go kfake broker that `markwatch dev` uses (StartEmbedded).
// A difference between the two shows up as one passing and one failing.
//
// The helpers take a testing.TB and fail the test on error: they are for
// tests only. Topics get random names (TopicName), so runs can share one
// long-lived broker and a rerun never sees an earlier run's data.
package kafkatest
