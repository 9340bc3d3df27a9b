package telemetry

import (
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// CommandStat is one command's counters, as INFO commandstats keeps them.
type CommandStat struct {
	Name     string // lower case; a subcommand is "container|sub" (client|list)
	Calls    int64  // executions, failed ones included
	Failed   int64  // executions answered with an error
	Rejected int64  // refused before executing (arity, NOAUTH, unknown subcommand ...)
}

// ServerStats are the command layer's connection and client figures.
type ServerStats struct {
	ConnectedClients    int64 // RESP connections now open
	ConnectionsReceived int64 // accepted since start (INFO total_connections_received)
	ConnectionsRejected int64 // refused (INFO rejected_connections)
	BlockedClients      int64 // clients waiting in a blocking command
	TrackingClients     int64 // clients with CLIENT TRACKING on
	PubSubChannels      int64 // channels with at least one subscriber
	PubSubPatterns      int64 // patterns with at least one subscriber
	PubSubShardChannels int64 // shard channels with at least one subscriber
	PubSubSubscribers   int64 // clients with at least one subscription
}

// DBStats is one database's keyspace.
type DBStats struct {
	DB      int
	Keys    int64 // keys, expired ones not yet removed included (as DBSIZE)
	Expires int64 // keys with a deadline
}

// ServerSource is the command layer as a scrape reads it (command.Server
// implements it). Its methods are called on the scraping goroutine, may be
// called concurrently, and must not block for long.
type ServerSource interface {
	// MetricsCommandStats calls yield for every command and subcommand.
	MetricsCommandStats(yield func(CommandStat))
	// MetricsServerStats returns the connection and client figures.
	MetricsServerStats() ServerStats
	// MetricsKeyspace returns the non-empty databases and an estimate of the
	// bytes the store holds.
	MetricsKeyspace() (dbs []DBStats, memoryBytes int64)
}

// RaftStats is the replication state a scrape reads.
type RaftStats struct {
	State         string // Leader, Follower, Candidate, Shutdown (any case)
	Term          uint64
	CommitIndex   uint64
	AppliedIndex  uint64 // the last entry raft handed on (its no-ops included)
	LastIndex     uint64 // the last entry in this node's log
	SnapshotIndex uint64 // the last entry covered by the latest snapshot
	LeaderChanges uint64 // leaders observed since start
	// FollowerLag is, on the leader only, how many entries each follower
	// (by id) lacks; nil elsewhere.
	FollowerLag map[string]uint64
}

// AddServer makes scrapes read src (commands, connections, clients,
// pub/sub, keyspace, memory). Call it once per node.
func (m *Metrics) AddServer(src ServerSource) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(newServerCollector(src))
}

// AddRaft makes scrapes read the replication state from stats.
func (m *Metrics) AddRaft(stats func() RaftStats) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(newRaftCollector(stats))
}

// serverCollector reads a ServerSource at scrape time.
type serverCollector struct {
	src ServerSource

	commands                           *prometheus.Desc
	connected, received, rejected      *prometheus.Desc
	blocked, tracking                  *prometheus.Desc
	channels, patterns, shard, subbers *prometheus.Desc
	keys, expires, memory              *prometheus.Desc

	mu struct {
		sync.Mutex
		seen map[int]bool // databases reported once: they stay reported at 0 when emptied
	}
}

func newServerCollector(src ServerSource) *serverCollector {
	g := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	c := &serverCollector{
		src:       src,
		commands:  g("skiff_commands_total", "Commands executed, by command and result (ok; error: answered with an error or refused before executing). Includes commands run for gRPC and REST requests and forwarded by followers; CONFIG RESETSTAT resets it.", "command", "result"),
		connected: g("skiff_clients_connected", "RESP client connections open now."),
		received:  g("skiff_connections_received_total", "RESP connections accepted since start (INFO total_connections_received)."),
		rejected:  g("skiff_connections_rejected_total", "RESP connections refused (INFO rejected_connections)."),
		blocked:   g("skiff_clients_blocked", "Clients waiting in a blocking command (BLPOP ...)."),
		tracking:  g("skiff_clients_tracking", "Clients with client-side caching (CLIENT TRACKING) on."),
		channels:  g("skiff_pubsub_channels", "Pub/sub channels with at least one subscriber on this node."),
		patterns:  g("skiff_pubsub_patterns", "Pub/sub patterns with at least one subscriber on this node."),
		shard:     g("skiff_pubsub_shard_channels", "Shard channels with at least one subscriber on this node."),
		subbers:   g("skiff_pubsub_subscribers", "Clients on this node with at least one subscription."),
		keys:      g("skiff_keyspace_keys", "Keys per database (expired keys not yet removed included).", "db"),
		expires:   g("skiff_keyspace_expiring_keys", "Keys with a deadline per database.", "db"),
		memory:    g("skiff_store_memory_bytes", "Estimated bytes held by the keyspace (keys, values and the store's bookkeeping), from a sample of keys; not the process heap (see go_memstats_heap_inuse_bytes)."),
	}
	c.mu.seen = map[int]bool{0: true}
	return c
}

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.commands, c.connected, c.received, c.rejected, c.blocked, c.tracking,
		c.channels, c.patterns, c.shard, c.subbers, c.keys, c.expires, c.memory} {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	c.src.MetricsCommandStats(func(st CommandStat) {
		if st.Calls == 0 && st.Failed == 0 && st.Rejected == 0 {
			return // never called: no series
		}
		ch <- prometheus.MustNewConstMetric(c.commands, prometheus.CounterValue, float64(st.Calls-st.Failed), st.Name, "ok")
		ch <- prometheus.MustNewConstMetric(c.commands, prometheus.CounterValue, float64(st.Failed+st.Rejected), st.Name, "error")
	})
	s := c.src.MetricsServerStats()
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.connected, s.ConnectedClients)
	counter(c.received, s.ConnectionsReceived)
	counter(c.rejected, s.ConnectionsRejected)
	gauge(c.blocked, s.BlockedClients)
	gauge(c.tracking, s.TrackingClients)
	gauge(c.channels, s.PubSubChannels)
	gauge(c.patterns, s.PubSubPatterns)
	gauge(c.shard, s.PubSubShardChannels)
	gauge(c.subbers, s.PubSubSubscribers)

	dbs, mem := c.src.MetricsKeyspace()
	gauge(c.memory, mem)
	byDB := make(map[int]DBStats, len(dbs))
	for _, d := range dbs {
		byDB[d.DB] = d
	}
	c.mu.Lock()
	for _, d := range dbs {
		c.mu.seen[d.DB] = true
	}
	report := make([]int, 0, len(c.mu.seen))
	for db := range c.mu.seen {
		report = append(report, db)
	}
	c.mu.Unlock()
	for _, db := range report {
		d := byDB[db]
		label := strconv.Itoa(db)
		ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(d.Keys), label)
		ch <- prometheus.MustNewConstMetric(c.expires, prometheus.GaugeValue, float64(d.Expires), label)
	}
}

// raftStates are the values of skiff_raft_state's state label.
var raftStates = []string{"leader", "follower", "candidate", "shutdown"}

// raftCollector reads RaftStats at scrape time.
type raftCollector struct {
	stats func() RaftStats

	state, term, commit, applied, last, snapshot, changes, lag *prometheus.Desc
}

func newRaftCollector(stats func() RaftStats) *raftCollector {
	g := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &raftCollector{
		stats:    stats,
		state:    g("skiff_raft_state", "1 for this node's Raft state (leader, follower, candidate, shutdown), 0 for the others.", "state"),
		term:     g("skiff_raft_term", "Current Raft term."),
		commit:   g("skiff_raft_commit_index", "Index of the last log entry known committed."),
		applied:  g("skiff_raft_applied_index", "Index of the last log entry applied on this node."),
		last:     g("skiff_raft_last_index", "Index of the last entry in this node's log."),
		snapshot: g("skiff_raft_snapshot_index", "Index of the last entry covered by this node's latest snapshot."),
		changes:  g("skiff_raft_leader_changes_total", "Leader changes this node has observed since start."),
		lag:      g("skiff_raft_follower_lag_entries", "Leader only: log entries a follower lacks (the leader's last index minus the follower's, as its last heartbeat reply said).", "follower"),
	}
}

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.term, c.commit, c.applied, c.last, c.snapshot, c.changes, c.lag} {
		ch <- d
	}
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	state := strings.ToLower(s.State)
	for _, name := range raftStates {
		v := 0.0
		if name == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, name)
	}
	gauge := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	gauge(c.term, s.Term)
	gauge(c.commit, s.CommitIndex)
	gauge(c.applied, s.AppliedIndex)
	gauge(c.last, s.LastIndex)
	gauge(c.snapshot, s.SnapshotIndex)
	ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue, float64(s.LeaderChanges))
	for id, lag := range s.FollowerLag {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(lag), id)
	}
}
