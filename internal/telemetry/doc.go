// Package telemetry holds the checks that keep the shipped Prometheus
// rules and Grafana dashboard (configs/prometheus, configs/grafana) in step
// with the metrics the code registers: every markwatch_ metric a rule or
// panel names must be defined somewhere in the module's Go sources.
package telemetry
