// Package telemetry is the little that markwatch's components share about
// Prometheus metrics, and the checks that keep the shipped Prometheus rules
// and Grafana dashboard (configs/prometheus, configs/grafana) in step with
// the metrics the code defines.
//
// Each component still declares its own metrics struct from an injected
// prometheus.Registerer (no globals); this package only spares them three
// repeated chores: turning a registration panic of promauto into an error
// (Build), creating labelled counters at zero (Init), and bucket bounds
// that print as the decimals they stand for (LinearBuckets,
// ExponentialBuckets).
package telemetry
