// Package e2e holds the end-to-end tests of the streaming detector: the
// `markwatch detect` binary, built once by TestMain, runs as a real process
// against a real Kafka broker (scripts/kafka.sh, found through
// internal/testenv) and, where cheap, the embedded kfake broker. The tests
// produce listings, kill and restart the process, and compare the
// complaints that reach the topic with the complaints the same detection
// engine gives in-process. The package has no non-test code beyond this
// comment.
package e2e
