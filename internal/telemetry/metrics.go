package telemetry

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Front doors, the values of the front_door label.
const (
	FrontDoorRESP = "resp"
	FrontDoorGRPC = "grpc"
	FrontDoorREST = "rest"
)

// Metrics is one node's Prometheus registry and the instruments the node's
// parts feed. Each node makes its own (NewMetrics): nothing is registered
// with the process-global registry, so several nodes live in one process.
//
// Two kinds of metrics live here. Event metrics (latency and size
// histograms) are observed where the event happens, through pre-resolved
// observers (CommandDuration) or the Observe* methods. State (counters the
// parts already keep, gauges) is read only when Prometheus scrapes, from the
// sources given to AddServer and AddRaft, so the hot paths pay nothing for it.
//
// All methods are safe for concurrent use, and a nil *Metrics is valid and
// does nothing (metrics off): the Observe* methods return at once,
// CommandDuration returns nil.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	cmdDuration *latencyVec // skiff_command_duration_seconds{front_door, family} (latency.go)

	logSync      prometheus.Histogram
	logAppend    prometheus.Histogram
	logEntries   prometheus.Histogram
	entryOps     prometheus.Histogram
	snapDuration prometheus.Histogram
	snapSize     prometheus.Gauge
}

// Histogram buckets.
// (Request latencies: 25µs to 13.1s doubling, see latency.go.)
var (
	// syncBuckets: 50µs to 10s for fsyncs and log appends.
	syncBuckets = prometheus.ExponentialBucketsRange(50e-6, 10, 18)
	// countBuckets: 1, 2, 4 ... 4096 for batch sizes.
	countBuckets = prometheus.ExponentialBuckets(1, 2, 13)
	// snapshotBuckets: 1ms to ~17min.
	snapshotBuckets = prometheus.ExponentialBuckets(0.001, 4, 11)
)

// NewMetrics returns a node's registry with the Go runtime and process
// collectors and the event instruments registered.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.cmdDuration = newLatencyVec()
	m.logSync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "skiff_raft_log_fsync_duration_seconds",
		Help:    "Time of one fsync of a Raft log segment (in --fsync everysec mode: the background sync).",
		Buckets: syncBuckets,
	})
	m.logAppend = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "skiff_raft_log_append_duration_seconds",
		Help:    "Time to store one batch of entries in the Raft log (written and, in --fsync always mode, synced).",
		Buckets: syncBuckets,
	})
	m.logEntries = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "skiff_raft_log_append_entries",
		Help:    "Entries per batch stored in the Raft log (group commit: one fsync per batch).",
		Buckets: countBuckets,
	})
	m.entryOps = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "skiff_raft_entry_ops",
		Help:    "Operations per applied command entry (a pipeline's writes form one entry).",
		Buckets: countBuckets,
	})
	m.snapDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "skiff_raft_snapshot_duration_seconds",
		Help:    "Time to persist one snapshot of the store.",
		Buckets: snapshotBuckets,
	})
	m.snapSize = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "skiff_raft_snapshot_size_bytes",
		Help: "Size of the last snapshot this node persisted.",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.cmdDuration, m.logSync, m.logAppend, m.logEntries, m.entryOps, m.snapDuration, m.snapSize,
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Registry returns the node's registry (to register more collectors, or to
// gather in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats (GET
// /metrics).
func (m *Metrics) Handler() http.Handler { return m.handler }

// CommandDuration returns the latency histogram of one front door and
// command family, creating it (it is exported from then on, at 0 until
// observed). Callers resolve it once and call ObserveDuration per request:
// no label lookup, two atomic adds. It returns nil when m is nil.
func (m *Metrics) CommandDuration(frontDoor, family string) *LatencyHistogram {
	if m == nil {
		return nil
	}
	return m.cmdDuration.get(frontDoor, family)
}

// ObserveLogSync records one fsync of the Raft log.
func (m *Metrics) ObserveLogSync(d time.Duration) {
	if m != nil {
		m.logSync.Observe(d.Seconds())
	}
}

// ObserveLogAppend records one batch of entries stored in the Raft log.
func (m *Metrics) ObserveLogAppend(entries int, d time.Duration) {
	if m != nil {
		m.logAppend.Observe(d.Seconds())
		m.logEntries.Observe(float64(entries))
	}
}

// ObserveEntryOps records the number of operations of one applied entry.
func (m *Metrics) ObserveEntryOps(ops int) {
	if m != nil {
		m.entryOps.Observe(float64(ops))
	}
}

// ObserveSnapshot records one persisted snapshot.
func (m *Metrics) ObserveSnapshot(d time.Duration, size int64) {
	if m != nil {
		m.snapDuration.Observe(d.Seconds())
		m.snapSize.Set(float64(size))
	}
}
