package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// scrape fetches and parses a node's GET /metrics.
func scrape(t *testing.T, n *nodetest.Node) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metric returns the value of the sample of family name whose labels
// include labels (a histogram's sample count), and whether there is one.
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
next:
	for _, m := range fams[name].GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Traffic through all three front doors shows up in the node's /metrics,
// and a second node in the same process scrapes only its own.
func TestMetrics_EndToEnd(t *testing.T) {
	a := nodetest.Start(t, nil)
	b := nodetest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// RESP.
	rc := redis.NewClient(&redis.Options{Addr: a.Addr})
	defer rc.Close()
	for i := 0; i < 10; i++ {
		if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Set(ctx, "ttl", "v", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rc.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET: %q %v", v, err)
	}
	if err := rc.Incr(ctx, "k").Err(); err == nil {
		t.Fatal("INCR of a non-integer succeeded")
	}
	pipe := rc.Pipeline()
	for i := 0; i < 8; i++ {
		pipe.RPush(ctx, "list", i)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rc.Do(ctx, "SKIFF.CLUSTER", "SNAPSHOT").Err(); err != nil {
		t.Fatal(err)
	}

	// gRPC.
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv := skiffv1.NewKVClient(conn)
	if _, err := kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("g"), Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("g")}); err != nil {
		t.Fatal(err)
	}

	// REST.
	req, _ := http.NewRequest("PUT", "http://"+a.HTTPAddr()+"/v1/kv/r", strings.NewReader("1"))
	for _, r := range []*http.Request{req, mustReq(t, "GET", "http://"+a.HTTPAddr()+"/v1/kv/r")} {
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d", r.Method, r.URL, res.StatusCode)
		}
	}

	fa := scrape(t, a)
	atLeast := func(min float64, name string, labels ...string) {
		t.Helper()
		v, ok := metric(fa, name, labels...)
		if !ok || v < min {
			t.Errorf("%s%v = %v (present %v), want >= %v", name, labels, v, ok, min)
		}
	}
	atLeast(11, "skiff_commands_total", "command", "set", "result", "ok")
	atLeast(1, "skiff_commands_total", "command", "get", "result", "ok")
	atLeast(1, "skiff_commands_total", "command", "incr", "result", "error")
	atLeast(8, "skiff_commands_total", "command", "rpush", "result", "ok")
	atLeast(1, "skiff_commands_total", "command", "skiff.kv.put", "result", "ok")           // gRPC and REST run through the command table
	atLeast(13, "skiff_command_duration_seconds", "front_door", "resp", "family", "string") // 11 SET, GET, INCR
	atLeast(8, "skiff_command_duration_seconds", "front_door", "resp", "family", "list")
	atLeast(2, "skiff_command_duration_seconds", "front_door", "grpc", "family", "kv")
	atLeast(2, "skiff_command_duration_seconds", "front_door", "rest", "family", "kv")
	// Every family's histogram exists from the start (at 0); the API's
	// internal SKIFF.KV.* commands are not RESP requests.
	if v, ok := metric(fa, "skiff_command_duration_seconds", "front_door", "resp", "family", "skiff"); !ok || v != 0 {
		t.Errorf("RESP latency of the skiff family: %v (present %v), want 0", v, ok)
	}
	atLeast(1, "skiff_clients_connected")
	atLeast(1, "skiff_connections_received_total")
	atLeast(1, "skiff_raft_term")
	atLeast(1, "skiff_raft_state", "state", "leader")
	atLeast(1, "skiff_raft_leader_changes_total")
	atLeast(3, "skiff_raft_commit_index")
	atLeast(3, "skiff_raft_applied_index")
	atLeast(1, "skiff_raft_snapshot_index")
	atLeast(1, "skiff_raft_log_fsync_duration_seconds")
	atLeast(1, "skiff_raft_log_append_duration_seconds")
	atLeast(1, "skiff_raft_log_append_entries")
	atLeast(10, "skiff_raft_entry_ops")
	atLeast(1, "skiff_raft_snapshot_duration_seconds")
	atLeast(1, "skiff_raft_snapshot_size_bytes")
	atLeast(5, "skiff_keyspace_keys", "db", "0") // k, ttl, list, g, r
	atLeast(1, "skiff_keyspace_expiring_keys", "db", "0")
	atLeast(1, "skiff_store_memory_bytes")
	atLeast(1, "go_goroutines")
	atLeast(0, "process_cpu_seconds_total")
	if v, _ := metric(fa, "skiff_raft_state", "state", "follower"); v != 0 {
		t.Errorf("a leader reports follower state %v", v)
	}
	// The pipeline of 8 RPUSHes was one entry of 8 operations.
	if h := fa["skiff_raft_entry_ops"].GetMetric()[0].GetHistogram(); h.GetSampleSum() < 18 {
		t.Errorf("ops per entry: sum %v over %d entries", h.GetSampleSum(), h.GetSampleCount())
	}

	// b saw none of it.
	fb := scrape(t, b)
	if v, ok := metric(fb, "skiff_commands_total", "command", "set", "result", "ok"); ok && v > 0 {
		t.Errorf("b counts a's SETs: %v", v)
	}
	if v, _ := metric(fb, "skiff_command_duration_seconds", "front_door", "grpc", "family", "kv"); v != 0 {
		t.Errorf("b has a's gRPC latencies: %v", v)
	}
	if v, _ := metric(fb, "skiff_keyspace_keys", "db", "0"); v != 0 {
		t.Errorf("b: keys = %v, want 0", v)
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPprof: /debug/pprof/ is served only with --enable-pprof.
func TestPprof(t *testing.T) {
	get := func(n *nodetest.Node, path string) int {
		res, err := http.Get("http://" + n.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	off := nodetest.Start(t, nil)
	if code := get(off, "/debug/pprof/cmdline"); code != http.StatusNotFound {
		t.Fatalf("pprof without --enable-pprof: %d", code)
	}
	on := nodetest.Start(t, func(c *config.Config) { c.EnablePprof = true })
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1"} {
		if code := get(on, path); code != http.StatusOK {
			t.Fatalf("GET %s with --enable-pprof: %d", path, code)
		}
	}
	locked := nodetest.Start(t, func(c *config.Config) { c.EnablePprof, c.RequirePass = true, "secret" })
	if code := get(locked, "/debug/pprof/cmdline"); code != http.StatusUnauthorized {
		t.Fatalf("pprof with requirepass and no password: %d", code)
	}
}
