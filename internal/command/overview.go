package command

import (
	"math"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The dashboard's data (GET /v1/dashboard, drawn by the page at GET /):
// one call returns this node's view of the cluster and of itself, plus the
// last minutes of throughput and latency sampled once a second.
//
// Latency comes from a small lock-free histogram that Server.finish feeds
// with every command's duration: the same interval INFO commandstats counts
// as usec (for a pipelined write on the leader that is the time to queue it
// into the batch, not the replication round trip that follows).

// historyLen is how many one-second samples the dashboard keeps: 10 minutes.
const historyLen = 600

// sampleEvery is the sampler's period.
const sampleEvery = time.Second

// Overview is a snapshot for the dashboard. It is plain data with JSON
// names; the HTTP front door encodes it as is.
type Overview struct {
	// TimeMs is when the snapshot was taken (unix ms).
	TimeMs        int64  `json:"time_ms"`
	Version       string `json:"version"`
	UptimeSeconds int64  `json:"uptime_seconds"`

	// This node and its Raft state. Role is leader, follower, candidate,
	// shutdown, or standalone (no replication: unit tests).
	NodeID            string `json:"node_id"`
	RaftAddr          string `json:"raft_addr"`
	RESPAddr          string `json:"resp_addr"`
	Role              string `json:"role"`
	LeaderID          string `json:"leader_id"`
	LeaderRaftAddr    string `json:"leader_raft_addr"`
	Term              uint64 `json:"term"`
	CommitIndex       uint64 `json:"commit_index"`
	AppliedIndex      uint64 `json:"applied_index"`
	LastLogIndex      uint64 `json:"last_log_index"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index"`
	// Members is the configuration as this node knows it.
	Members []OverviewMember `json:"members"`

	Clients  OverviewClients  `json:"clients"`
	Commands OverviewCommands `json:"commands"`
	// Keyspace lists the databases holding keys (as INFO keyspace).
	Keyspace []OverviewDB   `json:"keyspace"`
	Memory   OverviewMemory `json:"memory"`
	// History is the last minutes of ops/s and p99 latency, oldest first.
	History OverviewHistory `json:"history"`
	Slowlog OverviewSlowlog `json:"slowlog"`
	Queues  OverviewQueues  `json:"queues"`
}

// OverviewMember is one member of the Raft configuration.
type OverviewMember struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
	Self     bool   `json:"self"`
}

// OverviewClients counts this node's client connections.
type OverviewClients struct {
	Connected int64 `json:"connected"`
	// Blocked are clients waiting in BLPOP and friends; BlockingKeys the
	// keys they wait on.
	Blocked      int64 `json:"blocked"`
	BlockingKeys int64 `json:"blocking_keys"`
	// TotalReceived counts connections accepted since start (or RESETSTAT).
	TotalReceived int64 `json:"total_received"`
}

// OverviewCommands is this node's command throughput and latency.
type OverviewCommands struct {
	// Total is total_commands_processed: every command this node executed,
	// forwarded ones included (a follower's forwarded write counts on the
	// follower and, as SKIFF.FWD plus the command, on the leader).
	Total int64 `json:"total"`
	// OpsPerSec and P99Micros are the last one-second sample (0 until the
	// first sample, about a second after the first Overview call).
	OpsPerSec float64 `json:"ops_per_sec"`
	P99Micros float64 `json:"p99_us"`
}

// OverviewDB is one database's key counts.
type OverviewDB struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
}

// OverviewMemory is the process's memory as the Go runtime sees it.
type OverviewMemory struct {
	// HeapBytes is the Go heap in use (runtime.MemStats.HeapAlloc, read
	// through runtime/metrics so no stop-the-world is needed): what INFO
	// reports as used_memory. Not the RSS.
	HeapBytes uint64 `json:"heap_bytes"`
	// SysBytes is all memory the Go runtime obtained from the OS
	// (MemStats.Sys; INFO used_memory_rss).
	SysBytes uint64 `json:"sys_bytes"`
	Note     string `json:"note"`
}

// OverviewHistory holds one-second samples as parallel columns, oldest
// first: TimesMs[i] (unix ms) is when sample i was taken, OpsPerSec[i] the
// command rate over the second before it and P99Micros[i] the 99th
// percentile of the durations of the commands finished in it (0 when none
// finished). Sampling starts with the first Overview call of the process
// and keeps going until the server stops.
type OverviewHistory struct {
	IntervalMs int64     `json:"interval_ms"`
	TimesMs    []int64   `json:"t_ms"`
	OpsPerSec  []float64 `json:"ops_per_sec"`
	P99Micros  []float64 `json:"p99_us"`
}

// overviewSlowEntries is how many SLOWLOG entries the dashboard shows.
const overviewSlowEntries = 10

// OverviewSlowlog is the newest SLOWLOG entries (as SLOWLOG GET 10 shows
// them: arguments cut and redacted), newest first.
type OverviewSlowlog struct {
	// SlowerThanMicros is slowlog-log-slower-than: commands at least this
	// slow are logged; negative = the slow log is off.
	SlowerThanMicros int64               `json:"slower_than_us"`
	Entries          []OverviewSlowEntry `json:"entries"`
}

// OverviewSlowEntry is one SLOWLOG entry.
type OverviewSlowEntry struct {
	ID             int64    `json:"id"`
	TimeUnix       int64    `json:"time_unix"`
	DurationMicros int64    `json:"duration_us"`
	Args           []string `json:"args"`
	Client         string   `json:"client"`
	ClientName     string   `json:"client_name"`
}

// OverviewQueues is the queues' depths. skiff has no Streams yet, so there
// are none to show; the page says so instead of inventing a stand-in.
type OverviewQueues struct {
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
}

// Overview returns this node's dashboard snapshot. The first call starts
// the once-a-second sampler behind History (it ends with the server's
// context). Safe for concurrent use; it takes the store's read lock briefly
// (key counts) and never blocks on the network or the log.
func (s *Server) Overview() Overview {
	s.ovw.start(s)
	now := time.Now()
	o := Overview{
		TimeMs:        now.UnixMilli(),
		Version:       s.version,
		UptimeSeconds: int64(now.Sub(s.started) / time.Second),
		RESPAddr:      s.addr,
		Role:          "standalone",
		Members:       []OverviewMember{},
		Keyspace:      []OverviewDB{},
	}
	if s.cluster != nil {
		st := s.cluster.Status()
		o.NodeID, o.RaftAddr, o.Role = st.NodeID, st.RaftAddr, strings.ToLower(st.State)
		o.LeaderID, o.LeaderRaftAddr = st.LeaderID, st.LeaderRaftAddr
		o.Term, o.CommitIndex, o.AppliedIndex = st.Term, st.CommitIndex, st.Applied
		o.LastLogIndex, o.LastSnapshotIndex = st.LastIndex, st.LastSnapshot
		for _, m := range st.Members {
			o.Members = append(o.Members, OverviewMember{ID: m.ID, RaftAddr: m.RaftAddr, Voter: m.Voter, Leader: m.Leader, Self: m.Self})
		}
	}
	o.Clients = OverviewClients{
		Connected:     int64(s.clients.count()),
		Blocked:       s.blk.n.Load(),
		BlockingKeys:  s.blk.nkeys.Load(),
		TotalReceived: s.stats.connections.Load(),
	}
	for _, ks := range s.eng.Store().Keyspace(s.eng.Now()) {
		o.Keyspace = append(o.Keyspace, OverviewDB{DB: ks.DB, Keys: ks.Keys, Expires: ks.Expires})
	}
	o.Memory = readMemory()
	o.History = s.ovw.history()
	o.Commands.Total = s.stats.commands.Load()
	if n := len(o.History.TimesMs); n > 0 {
		o.Commands.OpsPerSec, o.Commands.P99Micros = o.History.OpsPerSec[n-1], o.History.P99Micros[n-1]
	}
	o.Slowlog = OverviewSlowlog{SlowerThanMicros: -1, Entries: []OverviewSlowEntry{}}
	if v, err := strconv.ParseInt(s.params.Get("slowlog-log-slower-than"), 10, 64); err == nil {
		o.Slowlog.SlowerThanMicros = v
	}
	for _, e := range s.Slowlog(overviewSlowEntries) {
		o.Slowlog.Entries = append(o.Slowlog.Entries, OverviewSlowEntry{
			ID: e.ID, TimeUnix: e.TimeUnix, DurationMicros: e.DurationMicros, Args: e.Args, Client: e.Client, ClientName: e.ClientName,
		})
	}
	o.Queues = OverviewQueues{Note: "none yet (Streams arrive in a later issue)"}
	return o
}

// readMemory reads the heap in use and the memory obtained from the OS
// through runtime/metrics (no stop-the-world, unlike ReadMemStats).
func readMemory() OverviewMemory {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
	metrics.Read(samples)
	m := OverviewMemory{Note: "Go heap in use (HeapAlloc, as INFO used_memory), not RSS"}
	if samples[0].Value.Kind() == metrics.KindUint64 {
		m.HeapBytes = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 {
		m.SysBytes = samples[1].Value.Uint64()
	}
	return m
}

// overviewState is the dashboard's sampler: a ring of one-second samples
// of ops/s and p99, the latter from the per-command latency histograms that
// INFO latencystats keeps (latency.go: nothing is recorded twice; with
// latency-tracking no the p99 reads 0). Its zero value is ready; the sampler
// goroutine starts with the first Overview call.
type overviewState struct {
	started sync.Once
	done    chan struct{} // closed when the sampler goroutine has ended
	mu      struct {
		sync.Mutex
		ring [historyLen]sample
		n    int // samples held (≤ historyLen)
		next int // ring index of the next sample
		// the counters at the previous sample
		prevAt       time.Time
		prevCommands int64
		prevLat      [cmdHistBuckets]uint64
	}
}

// sample is one second of the history.
type sample struct {
	atMs int64
	ops  float64
	p99  float64 // µs
}

// start starts the sampler once; it runs until s's context ends.
func (o *overviewState) start(s *Server) {
	o.started.Do(func() {
		o.done = make(chan struct{})
		o.mu.Lock()
		o.mu.prevAt, o.mu.prevCommands, o.mu.prevLat = time.Now(), s.stats.commands.Load(), s.latencyTotals()
		o.mu.Unlock()
		go o.run(s)
	})
}

// run is the sampler goroutine: a sample every sampleEvery until s.ctx ends.
func (o *overviewState) run(s *Server) {
	defer close(o.done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			o.sample(time.Now(), s.stats.commands.Load(), s.latencyTotals())
		}
	}
}

// sample appends the sample for the interval ending at now, given the
// total commands processed then and the latency histogram of them all.
func (o *overviewState) sample(now time.Time, commands int64, cur [cmdHistBuckets]uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	el := now.Sub(o.mu.prevAt).Seconds()
	ran := commands - o.mu.prevCommands
	if ran < 0 { // CONFIG RESETSTAT cleared the counter
		ran = commands
	}
	var delta [cmdHistBuckets]uint64
	var total uint64
	for i := range cur {
		if cur[i] >= o.mu.prevLat[i] { // CONFIG RESETSTAT clears the histograms
			delta[i] = cur[i] - o.mu.prevLat[i]
			total += delta[i]
		}
	}
	sm := sample{atMs: now.UnixMilli(), p99: float64(histPercentile(&delta, total, 99)) / 1000}
	if el > 0 {
		sm.ops = math.Round(float64(ran)/el*10) / 10
	}
	o.mu.ring[o.mu.next] = sm
	o.mu.next = (o.mu.next + 1) % historyLen
	o.mu.n = min(o.mu.n+1, historyLen)
	o.mu.prevAt, o.mu.prevCommands, o.mu.prevLat = now, commands, cur
}

// history returns the samples, oldest first.
func (o *overviewState) history() OverviewHistory {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := OverviewHistory{
		IntervalMs: sampleEvery.Milliseconds(),
		TimesMs:    make([]int64, 0, o.mu.n),
		OpsPerSec:  make([]float64, 0, o.mu.n),
		P99Micros:  make([]float64, 0, o.mu.n),
	}
	first := (o.mu.next - o.mu.n + historyLen) % historyLen
	for i := 0; i < o.mu.n; i++ {
		sm := o.mu.ring[(first+i)%historyLen]
		h.TimesMs = append(h.TimesMs, sm.atMs)
		h.OpsPerSec = append(h.OpsPerSec, sm.ops)
		h.P99Micros = append(h.P99Micros, sm.p99)
	}
	return h
}

// latencyTotals sums every command's latency histogram (subcommands
// included): the node-wide distribution the dashboard's p99 reads.
func (s *Server) latencyTotals() (out [cmdHistBuckets]uint64) {
	add := func(c *Command) {
		if b, _ := c.stats.histSnapshot(); b != nil {
			for i, n := range b {
				out[i] += n
			}
		}
	}
	for _, c := range s.table.All() {
		add(c)
		for _, sub := range c.Subcommands {
			add(sub)
		}
	}
	return out
}
