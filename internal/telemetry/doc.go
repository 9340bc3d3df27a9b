// Package telemetry sets up logging (log/slog) and, as the node grows, its
// per-node Prometheus registry and OpenTelemetry tracing. No process-global
// state: two nodes can live in one process.
package telemetry
