package command

import (
	"time"

	"github.com/skiffdb/skiff/internal/telemetry"
)

// Metrics: the RESP front door's latency histogram, observed in finish(),
// and the accessors a scrape reads (Server implements
// telemetry.ServerSource). Everything else a scrape reports is read from
// counters the server keeps anyway (command stats, INFO's), so the command
// path pays one map lookup and one histogram observation (two atomic adds),
// and nothing when metrics are off.

// respMetrics maps every command and subcommand to its family's histogram,
// resolved once in NewServer; the map is never written afterwards.
type respMetrics struct {
	byCmd map[*Command]*telemetry.LatencyHistogram // nil: not observed
}

// newRESPMetrics returns nil (metrics off) when m is nil.
func newRESPMetrics(m *telemetry.Metrics, t *Table) *respMetrics {
	if m == nil {
		return nil
	}
	rm := &respMetrics{byCmd: make(map[*Command]*telemetry.LatencyHistogram)}
	fams := make(map[string]*telemetry.LatencyHistogram)
	add := func(c *Command) {
		if c.Flags&Blocking != 0 {
			return // its time is mostly waiting for data, not serving
		}
		fam := c.Group
		if fam == "" {
			fam = "other"
		}
		o, ok := fams[fam]
		if !ok {
			o = m.CommandDuration(telemetry.FrontDoorRESP, fam)
			fams[fam] = o
		}
		rm.byCmd[c] = o
	}
	for _, c := range t.All() {
		add(c)
		for _, sub := range c.Subcommands {
			add(sub)
		}
	}
	return rm
}

// observe records one command's latency. Only commands from RESP
// connections count: the keyspace API's internal clients (no connection)
// are measured by the gRPC and REST front doors, and requests forwarded by
// a follower (Internal) by the node that received them.
func (m *respMetrics) observe(c *Client, cmd *Command, d time.Duration) {
	if m == nil || c.Conn == nil || c.Internal {
		return
	}
	if o := m.byCmd[cmd]; o != nil {
		o.ObserveDuration(d)
	}
}

var _ telemetry.ServerSource = (*Server)(nil)

// MetricsCommandStats calls yield with every command's and subcommand's
// counters (those INFO commandstats reports). Safe from any goroutine.
func (s *Server) MetricsCommandStats(yield func(telemetry.CommandStat)) {
	stat := func(c *Command) telemetry.CommandStat {
		return telemetry.CommandStat{Name: c.Name, Calls: c.stats.calls.Load(), Failed: c.stats.failed.Load(), Rejected: c.stats.rejected.Load()}
	}
	for _, c := range s.table.All() {
		yield(stat(c))
		for _, sub := range c.Subcommands {
			yield(stat(sub))
		}
	}
}

// MetricsServerStats returns the connection and client figures INFO clients
// and INFO stats report. Safe from any goroutine.
func (s *Server) MetricsServerStats() telemetry.ServerStats {
	st := telemetry.ServerStats{
		ConnectedClients:    int64(s.clients.count()),
		ConnectionsReceived: s.stats.connections.Load(),
		ConnectionsRejected: s.stats.rejectedConns.Load(),
		BlockedClients:      s.blk.n.Load(),
		TrackingClients:     s.track.n.Load(),
		PubSubSubscribers:   s.pubsub.subscribed.Load(),
	}
	h := &s.pubsub
	h.mu.RLock()
	st.PubSubChannels = int64(len(h.subs[subChannel]))
	st.PubSubPatterns = int64(len(h.subs[subPattern]))
	st.PubSubShardChannels = int64(len(h.subs[subShard]))
	h.mu.RUnlock()
	return st
}

// MetricsKeyspace returns the keys and keys with a deadline of every
// non-empty database, and the store's estimate of the bytes it holds
// (store.Store.MemoryBytes). Safe from any goroutine.
func (s *Server) MetricsKeyspace() ([]telemetry.DBStats, int64) {
	st := s.eng.Store()
	ks := st.Keyspace(s.eng.Now()) // the time only matters for avg_ttl, unused here
	out := make([]telemetry.DBStats, len(ks))
	for i, k := range ks {
		out[i] = telemetry.DBStats{DB: k.DB, Keys: k.Keys, Expires: k.Expires}
	}
	return out, st.MemoryBytes()
}
