package command

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// nopConn stands for a RESP connection (respserver sets Client.Conn).
type nopConn struct{}

func (nopConn) Push([]byte, OutputLimit) bool          { return true }
func (nopConn) Pending() int64                         { return 0 }
func (nopConn) Flush(w *resp.Writer) error             { return w.Flush() }
func (nopConn) WaitStart(*resp.Writer) <-chan struct{} { return nil }
func (nopConn) WaitEnd()                               {}

func metricsSrv(t testing.TB) (*Server, *telemetry.Metrics) {
	t.Helper()
	m := telemetry.NewMetrics()
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := NewServer(context.Background(), Options{Engine: eng, Version: "9.9.9-test", RESPAddr: "127.0.0.1:6399", Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddServer(s); err != nil {
		t.Fatal(err)
	}
	return s, m
}

// respCount returns the RESP latency histogram's sample count of family.
func respCount(t *testing.T, m *telemetry.Metrics, family string) uint64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "skiff_command_duration_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range mt.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["front_door"] == "resp" && labels["family"] == family {
				return mt.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// Only commands from RESP connections are RESP latencies: not the keyspace
// API's internal clients (gRPC and REST measure those), not requests
// forwarded by another node, not blocking commands.
func TestMetrics_RESPLatency(t *testing.T) {
	s, m := metricsSrv(t)
	sc := srvDial(t, s, "127.0.0.1:5001")
	sc.c.Conn = nopConn{}
	sc.exec("SET", "a", "1")
	sc.exec("GET", "a")
	sc.exec("LPUSH", "l", "x")
	sc.exec("CLIENT", "SETNAME", "x")

	internal := srvDial(t, s, "127.0.0.1:5002")
	internal.c.Conn, internal.c.Internal = nopConn{}, true
	internal.exec("GET", "a")
	if _, err := s.Put(context.Background(), PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}

	for fam, want := range map[string]uint64{"string": 2, "list": 1, "connection": 1, "skiff": 0} {
		if got := respCount(t, m, fam); got != want {
			t.Errorf("RESP latency samples of %s = %d, want %d", fam, got, want)
		}
	}
	if o := s.metrics.byCmd[s.table.Lookup([]byte("blpop"))]; o != nil {
		t.Error("BLPOP is observed: its time is mostly waiting")
	}
	if o := s.metrics.byCmd[s.table.Lookup([]byte("client")).Subcommands["list"]]; o == nil {
		t.Error("subcommands are not observed")
	}
}

// The scrape-time accessors read what INFO reads.
func TestMetrics_Accessors(t *testing.T) {
	s, _ := metricsSrv(t)
	sc := srvDial(t, s, "127.0.0.1:5001")
	sc.c.Conn = nopConn{}
	sub := srvDial(t, s, "127.0.0.1:5002")
	sub.c.Conn = nopConn{}
	sc.exec("SET", "a", "1")
	sc.exec("SET", "t", "1", "EX", "100")
	sc.exec("INCR", "a")
	sc.exec("INCR", "a", "b") // wrong arity: rejected
	sc.exec("SELECT", "2")
	sc.exec("SET", "x", "abc")
	sc.exec("SET", "x", "abc", "NX") // not an error
	sc.exec("INCR", "x")             // not an integer: failed
	sub.exec("SUBSCRIBE", "c1", "c2")
	sub.exec("PSUBSCRIBE", "p*")

	stats := map[string]telemetry.CommandStat{}
	s.MetricsCommandStats(func(st telemetry.CommandStat) { stats[st.Name] = st })
	if st := stats["set"]; st.Calls != 4 || st.Failed != 0 {
		t.Errorf("set: %+v", st)
	}
	if st := stats["incr"]; st.Calls != 2 || st.Failed != 1 || st.Rejected != 1 {
		t.Errorf("incr: %+v", st)
	}
	if _, ok := stats["client|list"]; !ok {
		t.Error("subcommands are missing")
	}

	ss := s.MetricsServerStats()
	want := telemetry.ServerStats{ConnectedClients: 2, ConnectionsReceived: 2, PubSubChannels: 2, PubSubPatterns: 1, PubSubSubscribers: 1}
	if ss != want {
		t.Errorf("server stats %+v\nwant %+v", ss, want)
	}

	dbs, mem := s.MetricsKeyspace()
	if len(dbs) != 2 || dbs[0] != (telemetry.DBStats{DB: 0, Keys: 2, Expires: 1}) || dbs[1] != (telemetry.DBStats{DB: 2, Keys: 1}) {
		t.Errorf("keyspace %+v", dbs)
	}
	if mem <= 0 {
		t.Errorf("memory %d", mem)
	}
}

// benchExecMetrics is benchExec (multi_test.go) on a client marked as a
// RESP connection, with metrics on or off, so the difference is what
// finish() pays to observe every command.
func benchExecMetrics(b *testing.B, on bool, args ...string) {
	s, _ := metricsSrv(b)
	if !on {
		s.metrics = nil
	}
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Conn = nopConn{}
	c.Batching = true
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.Exec(c, [][]byte{[]byte("SET"), argv[1], []byte("v")}, w)
	s.FlushBatch(c, w)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Exec(c, argv, w)
		s.FlushBatch(c, w)
		_ = w.Flush()
		out.Reset()
	}
}

func BenchmarkExecMetrics_GETOff(b *testing.B) { benchExecMetrics(b, false, "GET", "key:000000000001") }
func BenchmarkExecMetrics_GETOn(b *testing.B)  { benchExecMetrics(b, true, "GET", "key:000000000001") }
func BenchmarkExecMetrics_SETOff(b *testing.B) {
	benchExecMetrics(b, false, "SET", "key:000000000001", "xxx")
}
func BenchmarkExecMetrics_SETOn(b *testing.B) {
	benchExecMetrics(b, true, "SET", "key:000000000001", "xxx")
}

// BenchmarkRESPMetricsObserve is finish()'s added cost alone: the lookup
// of the command's histogram and one observation.
func BenchmarkRESPMetricsObserve(b *testing.B) {
	s, _ := metricsSrv(b)
	c := &Client{Conn: nopConn{}}
	cmd := s.table.Lookup([]byte("get"))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.metrics.observe(c, cmd, 150*time.Microsecond)
	}
}
