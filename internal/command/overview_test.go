package command

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// overviewCluster is a fixed command.Cluster for Overview.
type overviewCluster struct{ st ClusterStatus }

func (c overviewCluster) Status() ClusterStatus            { return c.st }
func (overviewCluster) AddVoter(id, raftAddr string) error { return nil }
func (overviewCluster) RemoveServer(id string) error       { return nil }
func (overviewCluster) TransferLeadership(id string) error { return nil }
func (overviewCluster) Snapshot() error                    { return nil }

// overviewServer returns a server whose context ends with the test, and
// waits for the dashboard sampler (when started) to end with it.
func overviewServer(t *testing.T, cl Cluster) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := NewServer(ctx, Options{Engine: eng, Version: "9.9.9-test", RESPAddr: "127.0.0.1:6399", Cluster: cl})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if s.ovw.done == nil {
			return
		}
		select {
		case <-s.ovw.done:
		case <-time.After(5 * time.Second):
			t.Error("the dashboard sampler did not stop with the server's context")
		}
	})
	return s
}

// The dashboard's p99 reads the per-command histograms (cmdHist): their
// buckets are contiguous, hold what they say, and are at most 12.5% wide.
func TestOverview_LatencyBuckets(t *testing.T) {
	prev := -1
	for ns := uint64(0); ns < 1<<16; ns++ {
		i := cmdHistBucket(ns)
		if i < prev || i > prev+1 {
			t.Fatalf("bucket(%d) = %d after %d: not contiguous", ns, i, prev)
		}
		prev = i
		lo, hi := cmdHistBounds(i)
		if ns < lo || ns >= hi {
			t.Fatalf("%d ns in bucket %d = [%v, %v)", ns, i, lo, hi)
		}
		if ns >= 16 && float64(hi-lo)/float64(lo) > 0.125 {
			t.Fatalf("bucket %d = [%v, %v) is wider than 12.5%%", i, lo, hi)
		}
	}
	for _, ns := range []uint64{1 << 30, 1<<37 + 12345, 1<<38 - 1} {
		i := cmdHistBucket(ns)
		if lo, hi := cmdHistBounds(i); ns < lo || ns >= hi {
			t.Errorf("%d ns in bucket %d = [%v, %v)", ns, i, lo, hi)
		}
	}
	if i := cmdHistBucket(1 << 62); i != cmdHistBuckets-1 {
		t.Errorf("a huge duration goes to bucket %d, want the last (%d)", i, cmdHistBuckets-1)
	}
}

// p99Micros is the dashboard's estimate over one command's histogram.
func p99Micros(st *cmdStats, q float64) float64 {
	b, total := st.histSnapshot()
	if b == nil {
		return 0
	}
	return float64(histPercentile(b, total, q)) / 1000
}

func TestOverview_Quantile(t *testing.T) {
	var st cmdStats
	if q := p99Micros(&st, 99); q != 0 {
		t.Errorf("p99 of nothing = %v, want 0", q)
	}
	for i := 0; i < 985; i++ {
		st.observe(100 * time.Microsecond)
	}
	for i := 0; i < 15; i++ {
		st.observe(50 * time.Millisecond)
	}
	// p99 is the 990th of 1000 values: one of the 50ms ones.
	if q := p99Micros(&st, 99); q < 50_000*0.75 || q > 50_000*1.25 {
		t.Errorf("p99 = %v µs, want about 50000", q)
	}
	if q := p99Micros(&st, 50); q < 75 || q > 125 {
		t.Errorf("p50 = %v µs, want about 100", q)
	}

	// Against the exact quantile of random durations: within a bucket's
	// width.
	var r cmdStats
	vals := make([]int, 10000)
	for i := range vals {
		vals[i] = 1 + rand.IntN(20000)
		r.observe(time.Duration(vals[i]) * time.Microsecond)
	}
	got := p99Micros(&r, 99)
	n := 0
	for _, v := range vals {
		if float64(v) <= got {
			n++
		}
	}
	if frac := float64(n) / float64(len(vals)); frac < 0.97 || frac > 1.0 {
		t.Errorf("p99 estimate %v µs is above %.3f of the values, want about 0.99", got, frac)
	}
}

func TestOverview_SamplesAndRing(t *testing.T) {
	var o overviewState
	t0 := time.UnixMilli(1_700_000_000_000)
	o.mu.prevAt = t0
	var st cmdStats
	for i := 0; i < 50; i++ {
		st.observe(2 * time.Millisecond)
	}
	b, _ := st.histSnapshot()
	o.sample(t0.Add(time.Second), 50, *b)
	o.sample(t0.Add(3*time.Second), 250, *b) // 200 commands in 2s, none timed
	h := o.history()
	if h.IntervalMs != 1000 || len(h.TimesMs) != 2 || len(h.OpsPerSec) != 2 || len(h.P99Micros) != 2 {
		t.Fatalf("history %+v", h)
	}
	if h.TimesMs[0] != t0.Add(time.Second).UnixMilli() || h.OpsPerSec[0] != 50 || h.OpsPerSec[1] != 100 {
		t.Errorf("history %+v, want 50 then 100 ops/s", h)
	}
	if p := h.P99Micros[0]; p < 1500 || p > 2500 {
		t.Errorf("p99 %v µs, want about 2000", p)
	}
	if h.P99Micros[1] != 0 {
		t.Errorf("p99 of a second without commands = %v, want 0", h.P99Micros[1])
	}
	// CONFIG RESETSTAT: the total drops; the rate counts from zero.
	o.sample(t0.Add(4*time.Second), 7, *b)
	if h := o.history(); h.OpsPerSec[2] != 7 {
		t.Errorf("after a reset: %v ops/s, want 7", h.OpsPerSec[2])
	}

	// The ring keeps the last historyLen samples, oldest first.
	for i := 0; i < historyLen+25; i++ {
		o.sample(t0.Add(time.Duration(10+i)*time.Second), 0, *b)
	}
	h = o.history()
	if len(h.TimesMs) != historyLen {
		t.Fatalf("%d samples kept, want %d", len(h.TimesMs), historyLen)
	}
	if want := t0.Add(time.Duration(10+25) * time.Second).UnixMilli(); h.TimesMs[0] != want {
		t.Errorf("oldest sample at %d, want %d", h.TimesMs[0], want)
	}
	for i := 1; i < len(h.TimesMs); i++ {
		if h.TimesMs[i]-h.TimesMs[i-1] != 1000 {
			t.Fatalf("samples %d and %d out of order: %d, %d", i-1, i, h.TimesMs[i-1], h.TimesMs[i])
		}
	}
}

func TestOverview_Snapshot(t *testing.T) {
	st := ClusterStatus{
		NodeID: "n2", RaftAddr: "127.0.0.1:16380", State: "Follower", LeaderID: "n1", LeaderRaftAddr: "127.0.0.1:16379",
		Term: 4, CommitIndex: 40, Applied: 39, LogApplied: 39, LastIndex: 41, LastSnapshot: 8,
		Members: []ClusterMember{
			{ID: "n1", RaftAddr: "127.0.0.1:16379", Voter: true, Leader: true},
			{ID: "n2", RaftAddr: "127.0.0.1:16380", Voter: true, Self: true},
			{ID: "n3", RaftAddr: "127.0.0.1:16381"},
		},
	}
	s := overviewServer(t, overviewCluster{st})
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("PING"), "+PONG\r\n"},
		{srvA("ECHO", "x"), "$1\r\nx\r\n"},
	})
	o := s.Overview()
	if o.NodeID != "n2" || o.Role != "follower" || o.LeaderID != "n1" || o.Term != 4 ||
		o.CommitIndex != 40 || o.AppliedIndex != 39 || o.LastLogIndex != 41 || o.LastSnapshotIndex != 8 {
		t.Errorf("raft state %+v", o)
	}
	if len(o.Members) != 3 || !o.Members[0].Leader || !o.Members[1].Self || o.Members[2].Voter {
		t.Errorf("members %+v", o.Members)
	}
	if o.Clients.Connected != 1 || o.Commands.Total != 2 || o.Version != "9.9.9-test" || o.RESPAddr != "127.0.0.1:6399" {
		t.Errorf("clients %+v, commands %+v, version %q, addr %q", o.Clients, o.Commands, o.Version, o.RESPAddr)
	}
	if o.Memory.HeapBytes == 0 || o.Memory.SysBytes < o.Memory.HeapBytes {
		t.Errorf("memory %+v", o.Memory)
	}
	if o.Slowlog.SlowerThanMicros != 10000 || len(o.Slowlog.Entries) != 0 || o.Queues.Available || o.Queues.Note == "" {
		t.Errorf("slowlog %+v, queues %+v", o.Slowlog, o.Queues)
	}
	// Empty lists are [] in JSON, not null: the page iterates them.
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"keyspace", "members"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s = %v in JSON, want an array", k, m[k])
		}
	}
	hist := m["history"].(map[string]any)
	for _, k := range []string{"t_ms", "ops_per_sec", "p99_us"} {
		if _, ok := hist[k].([]any); !ok {
			t.Errorf("history.%s = %v in JSON, want an array", k, hist[k])
		}
	}
	if _, ok := m["slowlog"].(map[string]any)["entries"].([]any); !ok {
		t.Errorf("slowlog.entries is not an array: %s", b)
	}
}

func TestOverview_KeyspaceAndLiveSampler(t *testing.T) {
	s := overviewServer(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("MSET", "a", "1", "b", "2"), "+OK\r\n"},
		{srvA("SET", "c", "3", "EX", "100"), "+OK\r\n"},
		{srvA("SELECT", "3"), "+OK\r\n"},
		{srvA("SET", "d", "4"), "+OK\r\n"},
	})
	o := s.Overview()
	if o.Role != "standalone" || len(o.Members) != 0 {
		t.Errorf("without replication: role %q, members %+v", o.Role, o.Members)
	}
	want := []OverviewDB{{DB: 0, Keys: 3, Expires: 1}, {DB: 3, Keys: 1}}
	if len(o.Keyspace) != 2 || o.Keyspace[0] != want[0] || o.Keyspace[1] != want[1] {
		t.Errorf("keyspace %+v, want %+v", o.Keyspace, want)
	}

	// The sampler started with the first call: commands run now show up
	// as a non-zero rate and p99 in a later sample.
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc.exec("PING")
		o = s.Overview()
		if n := len(o.History.TimesMs); n > 0 && o.Commands.OpsPerSec > 0 && o.Commands.P99Micros > 0 {
			if o.Commands.OpsPerSec != o.History.OpsPerSec[n-1] {
				t.Errorf("ops/s %v is not the last sample's %v", o.Commands.OpsPerSec, o.History.OpsPerSec[n-1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no non-zero sample within 10s: commands %+v, history %+v", o.Commands, o.History)
		}
		time.Sleep(5 * time.Millisecond) // keep a steady trickle of commands
	}
}

func TestOverview_Slowlog(t *testing.T) {
	s := overviewServer(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("CONFIG", "SET", "slowlog-log-slower-than", "0"), "+OK\r\n"},
		{srvA("SET", "slowkey", "v"), "+OK\r\n"},
	})
	o := s.Overview()
	if o.Slowlog.SlowerThanMicros != 0 || len(o.Slowlog.Entries) == 0 {
		t.Fatalf("slowlog %+v", o.Slowlog)
	}
	found := false
	for _, e := range o.Slowlog.Entries {
		if len(e.Args) == 3 && e.Args[0] == "SET" && e.Args[1] == "slowkey" && e.Client == "127.0.0.1:5001" {
			found = true
		}
	}
	if !found || len(o.Slowlog.Entries) > overviewSlowEntries {
		t.Errorf("slowlog entries %+v: want SET slowkey v from 127.0.0.1:5001, at most %d", o.Slowlog.Entries, overviewSlowEntries)
	}
	sc.exec("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	if o := s.Overview(); o.Slowlog.SlowerThanMicros != -1 {
		t.Errorf("slower_than_us %d after turning the slow log off", o.Slowlog.SlowerThanMicros)
	}
}

// TestReady: a leader must be known, and the node may be at most readyLag
// committed entries from having applied them (a follower under load is always
// a little behind; a node replaying a long log is not ready).
func TestReady(t *testing.T) {
	for _, tc := range []struct {
		leader          string
		applied, commit uint64
		want            bool
	}{
		{"", 10, 10, false},
		{"n1", 10, 10, true},
		{"n1", 10, 10 + readyLag, true},
		{"n1", 10, 11 + readyLag, false},
	} {
		s := overviewServer(t, overviewCluster{st: ClusterStatus{LeaderID: tc.leader, LogApplied: tc.applied, CommitIndex: tc.commit}})
		if ok, reason := s.Ready(); ok != tc.want || ok != (reason == "") {
			t.Fatalf("leader %q applied %d commit %d: Ready = %v %q", tc.leader, tc.applied, tc.commit, ok, reason)
		}
	}
}
