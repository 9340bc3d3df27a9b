package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gather returns the registry's families by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// find returns the metric of fam whose labels include all of want.
func find(fam *dto.MetricFamily, want map[string]string) *dto.Metric {
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		for k, v := range want {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}

// Two nodes in one process each have their own registry: creating both and
// observing into one leaves the other untouched (the global registry would
// panic on the second registration).
func TestMetrics_PerNodeRegistries(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.CommandDuration(FrontDoorRESP, "string").Observe(0.0002)
	a.CommandDuration(FrontDoorRESP, "string").Observe(0.004)
	a.ObserveLogSync(3 * time.Millisecond)

	fa, fb := gather(t, a), gather(t, b)
	h := find(fa["skiff_command_duration_seconds"], map[string]string{"front_door": "resp", "family": "string"})
	if h == nil || h.GetHistogram().GetSampleCount() != 2 {
		t.Fatalf("a: command duration = %v, want 2 samples", h)
	}
	if got := h.GetHistogram().GetSampleSum(); got < 0.0041 || got > 0.0043 {
		t.Errorf("a: sample sum = %v, want 0.0042", got)
	}
	// The first bucket is 25µs, fine enough for sub-millisecond commands.
	if ub := h.GetHistogram().GetBucket()[0].GetUpperBound(); ub > 30e-6 {
		t.Errorf("first bucket %v, want <= 25µs", ub)
	}
	if fb["skiff_command_duration_seconds"] != nil {
		t.Errorf("b has a's observations: %v", fb["skiff_command_duration_seconds"])
	}
	if got := fa["skiff_raft_log_fsync_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("a: fsync samples = %d, want 1", got)
	}
	if got := fb["skiff_raft_log_fsync_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); got != 0 {
		t.Errorf("b: fsync samples = %d, want 0", got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes"} {
		if fa[name] == nil || fb[name] == nil {
			t.Errorf("%s missing: the Go collector is not registered", name)
		}
	}
}

// A nil *Metrics is metrics off: every method is a no-op.
func TestMetrics_NilIsOff(t *testing.T) {
	var m *Metrics
	if m.CommandDuration(FrontDoorGRPC, "kv") != nil {
		t.Error("CommandDuration on nil: want nil")
	}
	m.ObserveLogSync(time.Millisecond)
	m.ObserveLogAppend(3, time.Millisecond)
	m.ObserveEntryOps(2)
	m.ObserveSnapshot(time.Second, 10)
	if err := m.AddServer(&fakeServer{}); err != nil {
		t.Error(err)
	}
	if err := m.AddRaft(func() RaftStats { return RaftStats{} }); err != nil {
		t.Error(err)
	}
}

type fakeServer struct {
	cmds []CommandStat
	st   ServerStats
	dbs  []DBStats
	mem  int64
}

func (f *fakeServer) MetricsCommandStats(yield func(CommandStat)) {
	for _, c := range f.cmds {
		yield(c)
	}
}
func (f *fakeServer) MetricsServerStats() ServerStats     { return f.st }
func (f *fakeServer) MetricsKeyspace() ([]DBStats, int64) { return f.dbs, f.mem }

func TestMetrics_ServerCollector(t *testing.T) {
	m := NewMetrics()
	src := &fakeServer{
		cmds: []CommandStat{
			{Name: "set", Calls: 10, Failed: 1, Rejected: 2},
			{Name: "get", Calls: 5},
			{Name: "client|list", Calls: 1},
			{Name: "lpush"}, // never called: no series
		},
		st:  ServerStats{ConnectedClients: 3, ConnectionsReceived: 7, ConnectionsRejected: 1, BlockedClients: 2, TrackingClients: 1, PubSubChannels: 4, PubSubPatterns: 5, PubSubShardChannels: 6, PubSubSubscribers: 2},
		dbs: []DBStats{{DB: 0, Keys: 100, Expires: 10}, {DB: 3, Keys: 1}},
		mem: 12345,
	}
	if err := m.AddServer(src); err != nil {
		t.Fatal(err)
	}
	if err := m.AddServer(src); err == nil {
		t.Error("a second AddServer on one registry: want an error")
	}
	f := gather(t, m)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"skiff_commands_total", map[string]string{"command": "set", "result": "ok"}, 9},
		{"skiff_commands_total", map[string]string{"command": "set", "result": "error"}, 3},
		{"skiff_commands_total", map[string]string{"command": "get", "result": "ok"}, 5},
		{"skiff_commands_total", map[string]string{"command": "get", "result": "error"}, 0},
		{"skiff_commands_total", map[string]string{"command": "client|list", "result": "ok"}, 1},
		{"skiff_clients_connected", nil, 3},
		{"skiff_connections_received_total", nil, 7},
		{"skiff_connections_rejected_total", nil, 1},
		{"skiff_clients_blocked", nil, 2},
		{"skiff_clients_tracking", nil, 1},
		{"skiff_pubsub_channels", nil, 4},
		{"skiff_pubsub_patterns", nil, 5},
		{"skiff_pubsub_shard_channels", nil, 6},
		{"skiff_pubsub_subscribers", nil, 2},
		{"skiff_keyspace_keys", map[string]string{"db": "0"}, 100},
		{"skiff_keyspace_expiring_keys", map[string]string{"db": "0"}, 10},
		{"skiff_keyspace_keys", map[string]string{"db": "3"}, 1},
		{"skiff_store_memory_bytes", nil, 12345},
	}
	for _, c := range checks {
		if got := value(find(f[c.name], c.labels)); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if find(f["skiff_commands_total"], map[string]string{"command": "lpush"}) != nil {
		t.Error("a command never called has series")
	}

	// A database that empties stays reported, at 0, instead of vanishing.
	src.dbs = []DBStats{{DB: 0, Keys: 1}}
	f = gather(t, m)
	if got := value(find(f["skiff_keyspace_keys"], map[string]string{"db": "3"})); got != 0 {
		t.Errorf("emptied db 3: keys = %v, want 0", got)
	}
}

func TestMetrics_RaftCollector(t *testing.T) {
	m := NewMetrics()
	st := RaftStats{State: "Leader", Term: 3, CommitIndex: 40, AppliedIndex: 39, LastIndex: 41, SnapshotIndex: 20, LeaderChanges: 2,
		FollowerLag: map[string]uint64{"n2": 0, "n3": 5}}
	if err := m.AddRaft(func() RaftStats { return st }); err != nil {
		t.Fatal(err)
	}
	m.ObserveLogAppend(8, 2*time.Millisecond)
	m.ObserveEntryOps(16)
	m.ObserveSnapshot(1500*time.Millisecond, 4096)
	f := gather(t, m)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"skiff_raft_state", map[string]string{"state": "leader"}, 1},
		{"skiff_raft_state", map[string]string{"state": "follower"}, 0},
		{"skiff_raft_term", nil, 3},
		{"skiff_raft_commit_index", nil, 40},
		{"skiff_raft_applied_index", nil, 39},
		{"skiff_raft_last_index", nil, 41},
		{"skiff_raft_snapshot_index", nil, 20},
		{"skiff_raft_leader_changes_total", nil, 2},
		{"skiff_raft_follower_lag_entries", map[string]string{"follower": "n3"}, 5},
		{"skiff_raft_follower_lag_entries", map[string]string{"follower": "n2"}, 0},
		{"skiff_raft_snapshot_size_bytes", nil, 4096},
	}
	for _, c := range checks {
		if got := value(find(f[c.name], c.labels)); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"skiff_raft_log_append_duration_seconds", "skiff_raft_log_append_entries", "skiff_raft_entry_ops", "skiff_raft_snapshot_duration_seconds"} {
		if fam := f[name]; fam == nil || fam.GetMetric()[0].GetHistogram().GetSampleCount() != 1 {
			t.Errorf("%s: want one sample, got %v", name, fam)
		}
	}
	if got := f["skiff_raft_log_append_entries"].GetMetric()[0].GetHistogram().GetSampleSum(); got != 8 {
		t.Errorf("entries per append: sum %v, want 8", got)
	}

	// A follower reports no lag series.
	st = RaftStats{State: "Follower", Term: 3}
	f = gather(t, m)
	if f["skiff_raft_follower_lag_entries"] != nil {
		t.Errorf("follower has lag series: %v", f["skiff_raft_follower_lag_entries"])
	}
}

// The handler serves the text exposition format.
func TestMetrics_Handler(t *testing.T) {
	m := NewMetrics()
	m.CommandDuration(FrontDoorREST, "kv").Observe(0.001)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`skiff_command_duration_seconds_count{family="kv",front_door="rest"} 1`,
		"# TYPE skiff_command_duration_seconds histogram",
		"process_cpu_seconds_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q", want)
		}
	}
}

// Latency buckets double from 25µs; a value on a bound falls in its bucket.
func TestLatencyHistogram_Buckets(t *testing.T) {
	var h LatencyHistogram
	for _, d := range []time.Duration{0, 25 * time.Microsecond, 25*time.Microsecond + 1, 100 * time.Microsecond,
		time.Millisecond, 13107200 * time.Microsecond, 20 * time.Second} {
		h.ObserveDuration(d)
	}
	buckets, count, sum := h.snapshot()
	if count != 7 {
		t.Errorf("count %d, want 7", count)
	}
	if want := (25*time.Microsecond*2 + 1 + 100*time.Microsecond + time.Millisecond + 13107200*time.Microsecond + 20*time.Second).Seconds(); sum < want-1e-9 || sum > want+1e-9 {
		t.Errorf("sum %v, want %v", sum, want)
	}
	for bound, want := range map[float64]uint64{25e-6: 2, 50e-6: 3, 100e-6: 4, 800e-6: 4, 1.6e-3: 5, 13.1072: 6} {
		if got, ok := buckets[bound]; !ok || got != want {
			t.Errorf("le %v: %d (present %v), want %d", bound, got, ok, want)
		}
	}
	if len(buckets) != 20 {
		t.Errorf("%d buckets, want 20 (+Inf)", len(buckets))
	}
}
