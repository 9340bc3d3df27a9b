package command_test

// SLOWLOG, LATENCY, MONITOR, INFO latencystats/raft, MEMORY, DEBUG and
// CLIENT LIST over real connections to a real node. The replies that do
// not vary (errors, HELP, counts) are in testdata/introspection.txt,
// recorded from redis-server 7.0.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/node/nodetest"
	"github.com/skiffdb/skiff/internal/resp"
)

// rconn is a raw RESP2 connection with a small reply parser.
type rconn struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

type respErr string

func dialRESP(t *testing.T, addr string) *rconn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rconn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (rc *rconn) send(args ...string) {
	rc.t.Helper()
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	if _, err := rc.c.Write(resp.AppendCommand(nil, b...)); err != nil {
		rc.t.Fatal(err)
	}
}

// do sends a command and returns its parsed reply: string, respErr, int64,
// nil or []any (maps as flat key/value lists).
func (rc *rconn) do(args ...string) any {
	rc.t.Helper()
	rc.send(args...)
	return rc.read()
}

func (rc *rconn) read() any {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := readValue(rc.rd)
	if err != nil {
		rc.t.Fatalf("reading a reply: %v", err)
	}
	return v
}

func readValue(rd *bufio.Reader) (any, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+', ',':
		return body, nil
	case '-':
		return respErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '_':
		return nil, nil
	case '$', '=':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		if line[0] == '=' {
			s = s[4:] // "txt:"
		}
		return s, nil
	case '*', '%', '~', '>':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		if line[0] == '%' {
			n *= 2
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readValue(rd); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

func (rc *rconn) str(args ...string) string {
	rc.t.Helper()
	v := rc.do(args...)
	s, ok := v.(string)
	if !ok {
		rc.t.Fatalf("%q: reply %#v, want a string", args, v)
	}
	return s
}

func (rc *rconn) int(args ...string) int64 {
	rc.t.Helper()
	v := rc.do(args...)
	n, ok := v.(int64)
	if !ok {
		rc.t.Fatalf("%q: reply %#v, want an integer", args, v)
	}
	return n
}

func (rc *rconn) arr(args ...string) []any {
	rc.t.Helper()
	v := rc.do(args...)
	a, ok := v.([]any)
	if !ok && v != nil {
		rc.t.Fatalf("%q: reply %#v, want an array", args, v)
	}
	return a
}

func (rc *rconn) ok(args ...string) {
	rc.t.Helper()
	if s := rc.str(args...); s != "OK" {
		rc.t.Fatalf("%q: reply %q, want OK", args, s)
	}
}

// infoFields runs INFO section and returns its fields.
func (rc *rconn) infoFields(section string) map[string]string {
	rc.t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(rc.str("INFO", section), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func strs(a []any) []string {
	out := make([]string, len(a))
	for i, v := range a {
		out[i] = fmt.Sprint(v)
	}
	return out
}

func TestSlowlog_Entries(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	c.ok("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.ok("SLOWLOG", "RESET")
	c.ok("CLIENT", "SETNAME", "slowpoke")
	c.ok("DEBUG", "SLEEP", "0.05")
	args := []string{"RPUSH", "list"}
	for i := range 40 {
		args = append(args, strconv.Itoa(i))
	}
	c.int(args...)
	c.ok("SET", "big", strings.Repeat("y", 200))
	if _, ok := c.do("AUTH", "secret").(respErr); !ok {
		t.Fatal("AUTH without requirepass should fail")
	}
	c.int("HSET", "h", "f", "v")

	entries := c.arr("SLOWLOG", "GET", "-1")
	// Newest first: HSET, AUTH, SET, RPUSH, DEBUG, CLIENT SETNAME, SLOWLOG RESET.
	if len(entries) != 7 {
		t.Fatalf("SLOWLOG GET -1: %d entries, want 7: %v", len(entries), entries)
	}
	local := c.c.LocalAddr().String()
	want := [][]string{
		{"HSET", "h", "f", "v"},
		{"AUTH", "(redacted)"},
		{"SET", "big", strings.Repeat("y", 128) + "... (72 more bytes)"},
		append(append([]string{}, args[:31]...), "... (11 more arguments)"),
		{"DEBUG", "SLEEP", "0.05"},
		{"CLIENT", "SETNAME", "slowpoke"},
		{"SLOWLOG", "RESET"},
	}
	var prevID int64 = -1
	for i, e := range entries {
		f := e.([]any)
		if len(f) != 6 {
			t.Fatalf("entry %d has %d fields: %v", i, len(f), f)
		}
		id, ts, us := f[0].(int64), f[1].(int64), f[2].(int64)
		if prevID >= 0 && id != prevID-1 {
			t.Errorf("entry %d: id %d after %d", i, id, prevID)
		}
		prevID = id
		if d := time.Now().Unix() - ts; d < 0 || d > 60 {
			t.Errorf("entry %d: time %d is not now", i, ts)
		}
		if got := strings.Join(strs(f[3].([]any)), " "); got != strings.Join(want[i], " ") {
			t.Errorf("entry %d: args %q, want %q", i, got, want[i])
		}
		if f[4] != local {
			t.Errorf("entry %d: client %v, want %s", i, f[4], local)
		}
		name := "slowpoke"
		if i == len(entries)-1 {
			name = "" // SLOWLOG RESET ran before CLIENT SETNAME
		}
		if f[5] != name {
			t.Errorf("entry %d: client name %q, want %q", i, f[5], name)
		}
		if i == 4 && us < 50_000 {
			t.Errorf("DEBUG SLEEP 0.05 logged %d us", us)
		}
	}
	if n := c.int("SLOWLOG", "LEN"); n != 8 { // the SLOWLOG GET too
		t.Errorf("SLOWLOG LEN = %d, want 8", n)
	}
	if got := len(c.arr("SLOWLOG", "GET")); got != 9 {
		t.Errorf("SLOWLOG GET (default 10) = %d entries, want 9", got)
	}
	if got := len(c.arr("SLOWLOG", "GET", "2")); got != 2 {
		t.Errorf("SLOWLOG GET 2 = %d entries", got)
	}

	// A threshold: only what is slower is logged; CONFIG SET applies at once.
	c.ok("CONFIG", "SET", "slowlog-log-slower-than", "200000")
	c.ok("SLOWLOG", "RESET")
	c.ok("DEBUG", "SLEEP", "0.01")
	c.ok("DEBUG", "SLEEP", "0.25")
	entries = c.arr("SLOWLOG", "GET")
	if len(entries) == 0 || strings.Join(strs(entries[0].([]any)[3].([]any)), " ") != "DEBUG SLEEP 0.25" {
		t.Fatalf("with a 200ms threshold: %v", entries)
	}
	for _, e := range entries {
		if strings.Join(strs(e.([]any)[3].([]any)), " ") == "DEBUG SLEEP 0.01" {
			t.Errorf("a 10ms command was logged with a 200ms threshold: %v", e)
		}
	}
	if us := entries[0].([]any)[2].(int64); us < 250_000 {
		t.Errorf("DEBUG SLEEP 0.25 logged as %d us", us)
	}
	// EXEC is skip_slowlog; negative disables.
	c.ok("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.ok("SLOWLOG", "RESET")
	c.ok("MULTI")
	c.str("PING")
	c.arr("EXEC")
	for _, e := range c.arr("SLOWLOG", "GET") {
		if name := e.([]any)[3].([]any)[0]; name == "EXEC" {
			t.Errorf("EXEC was logged: %v", e)
		}
	}
	c.ok("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	c.ok("SLOWLOG", "RESET")
	c.ok("DEBUG", "SLEEP", "0.01")
	if n := c.int("SLOWLOG", "LEN"); n != 0 {
		t.Errorf("SLOWLOG LEN with the log disabled = %d", n)
	}
	c.ok("CONFIG", "SET", "slowlog-max-len", "3")
	c.ok("CONFIG", "SET", "slowlog-log-slower-than", "0")
	for range 10 {
		c.str("PING")
	}
	if n := c.int("SLOWLOG", "LEN"); n != 3 {
		t.Errorf("SLOWLOG LEN with slowlog-max-len 3 = %d", n)
	}
}

func TestLatency_LatestAfterSleep(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	c.ok("CONFIG", "SET", "latency-monitor-threshold", "150")
	c.int("LATENCY", "RESET")
	c.ok("DEBUG", "SLEEP", "0.02") // below the threshold
	if got := c.arr("LATENCY", "LATEST"); len(got) != 0 {
		t.Fatalf("LATENCY LATEST after a 20ms command: %v", got)
	}
	c.ok("DEBUG", "SLEEP", "0.2")
	latest := c.arr("LATENCY", "LATEST")
	if len(latest) != 1 {
		t.Fatalf("LATENCY LATEST = %v, want one event", latest)
	}
	ev := latest[0].([]any)
	if ev[0] != "command" || ev[2].(int64) < 200 || ev[3].(int64) < ev[2].(int64) {
		t.Errorf("LATENCY LATEST event %v, want [command time >=200 >=latest]", ev)
	}
	if d := time.Now().Unix() - ev[1].(int64); d < 0 || d > 60 {
		t.Errorf("event time %v is not now", ev[1])
	}
	hist := c.arr("LATENCY", "HISTORY", "command")
	if len(hist) != 1 || hist[0].([]any)[1].(int64) < 200 {
		t.Errorf("LATENCY HISTORY command = %v", hist)
	}
	if doc := c.str("LATENCY", "DOCTOR"); !strings.Contains(doc, "1. command: 1 latency spikes") {
		t.Errorf("LATENCY DOCTOR = %q", doc)
	}
	graph := c.str("LATENCY", "GRAPH", "command")
	if !strings.HasPrefix(graph, "command - high ") || !strings.Contains(graph, "\n"+strings.Repeat("-", 80)+"\n") {
		t.Errorf("LATENCY GRAPH command = %q", graph)
	}
	if n := c.int("LATENCY", "RESET", "command", "nosuch"); n != 1 {
		t.Errorf("LATENCY RESET command nosuch = %d, want 1", n)
	}
	if got := c.arr("LATENCY", "LATEST"); len(got) != 0 {
		t.Errorf("LATENCY LATEST after RESET: %v", got)
	}
	// Threshold 0 turns the monitor off at once.
	c.ok("CONFIG", "SET", "latency-monitor-threshold", "0")
	c.ok("DEBUG", "SLEEP", "0.06")
	if got := c.arr("LATENCY", "LATEST"); len(got) != 0 {
		t.Errorf("LATENCY LATEST with the monitor off: %v", got)
	}
}

// monitorLine matches a MONITOR line (without the leading '+').
var monitorLine = regexp.MustCompile(`^(\d{10,})\.(\d{6}) \[(\d+) ([0-9.:]+)\] (.*)$`)

// readLine reads one "+..." line within d, or returns "" on timeout.
func (rc *rconn) readLine(d time.Duration) string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	l, err := rc.rd.ReadString('\n')
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return ""
		}
		rc.t.Fatalf("reading: %v", err)
	}
	if !strings.HasPrefix(l, "+") || !strings.HasSuffix(l, "\r\n") {
		rc.t.Fatalf("not a status line: %q", l)
	}
	return strings.TrimSuffix(l[1:], "\r\n")
}

// monitorCmd reads the next MONITOR line and returns db, addr and the
// command part.
func (rc *rconn) monitorCmd() (db, addr, cmd string) {
	rc.t.Helper()
	l := rc.readLine(5 * time.Second)
	m := monitorLine.FindStringSubmatch(l)
	if m == nil {
		rc.t.Fatalf("not a MONITOR line: %q", l)
	}
	if d := time.Now().Unix() - mustInt(rc.t, m[1]); d < 0 || d > 60 {
		rc.t.Errorf("MONITOR time %s is not now", m[1])
	}
	return m[3], m[4], m[5]
}

func mustInt(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMonitor_StreamsCommands(t *testing.T) {
	n := nodetest.Start(t, nil)
	mon := dialRESP(t, n.Addr)
	mon3 := dialRESP(t, n.Addr)
	c := dialRESP(t, n.Addr)
	if v := mon3.do("HELLO", "3"); v == nil {
		t.Fatal("HELLO 3")
	}
	mon.ok("MONITOR")
	mon3.ok("MONITOR")
	addr := c.c.LocalAddr().String()

	c.ok("SET", "k", "v")
	c.str("GET", "k")
	c.do("AUTH", "pw")
	c.do("HELLO", "2", "AUTH", "default", "pw")
	c.do("CONFIG", "GET", "maxmemory") // admin: not shown
	c.ok("SELECT", "2")
	c.ok("SET", "a b", "c\"d\n\x01\\")
	c.ok("MULTI")
	c.str("INCR", "n")
	c.arr("EXEC")
	want := []struct{ db, cmd string }{
		{"0", `"SET" "k" "v"`},
		{"0", `"GET" "k"`},
		{"0", `"AUTH" "(redacted)"`},
		{"0", `"HELLO" "2" "AUTH" "(redacted)" "(redacted)"`},
		{"2", `"SELECT" "2"`},
		{"2", `"SET" "a b" "c\"d\n\x01\\"`},
		{"2", `"MULTI"`},
		{"2", `"exec"`},
	}
	for _, m := range []*rconn{mon, mon3} {
		for _, w := range want {
			db, a, cmd := m.monitorCmd()
			if db != w.db || a != addr || cmd != w.cmd {
				t.Errorf("MONITOR line [%s %s] %s, want [%s %s] %s", db, a, cmd, w.db, addr, w.cmd)
			}
		}
	}
	// A monitor is a replica to Redis: the keyspace is off limits.
	if v := mon.do("GET", "k"); v != respErr("ERR Replica can't interact with the keyspace") {
		t.Fatalf("GET from a monitor = %#v", v)
	}
	// The monitor sees its own commands after their replies; RESET ends it.
	if s := mon.str("PING"); s != "PONG" {
		t.Fatalf("PING = %q", s)
	}
	if _, a, cmd := mon.monitorCmd(); cmd != `"PING"` || a != mon.c.LocalAddr().String() {
		t.Errorf("own PING shown as %s %s", a, cmd)
	}
	mon3.monitorCmd() // mon's PING
	if s := mon.str("RESET"); s != "RESET" {
		t.Fatalf("RESET = %q", s)
	}
	if _, _, cmd := mon3.monitorCmd(); cmd != `"RESET"` {
		t.Errorf("RESET shown as %s", cmd)
	}
	c.ok("SET", "after", "reset")
	if _, _, cmd := mon3.monitorCmd(); cmd != `"SET" "after" "reset"` {
		t.Errorf("got %s", cmd)
	}
	if l := mon.readLine(200 * time.Millisecond); l != "" {
		t.Errorf("after RESET the client still monitors: %q", l)
	}
	// QUIT: the monitor goes; the others do not notice.
	mon3.send("QUIT")
	c.ok("SET", "x", "y")
	if s := c.str("PING"); s != "PONG" {
		t.Fatal(s)
	}
	list := c.str("CLIENT", "LIST")
	if strings.Contains(list, "flags=O") {
		t.Errorf("a client still has flag O after RESET and QUIT:\n%s", list)
	}
}

func TestMonitor_SlowReaderNeverBlocks(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	c.ok("CONFIG", "SET", "client-output-buffer-limit", "pubsub 8mb 0 0")
	mon := dialRESP(t, n.Addr)
	mon.ok("MONITOR") // and never reads again
	monAddr := mon.c.LocalAddr().String()
	list := c.str("CLIENT", "LIST")
	if !regexp.MustCompile(`addr=` + regexp.QuoteMeta(monAddr) + ` .*flags=O .*cmd=monitor`).MatchString(list) {
		t.Fatalf("CLIENT LIST does not show the monitor with flag O:\n%s", list)
	}
	// The monitor's socket buffers fill, then its queue: omem shows it, and
	// past 8mb it is closed. The executing client never waits.
	payload := strings.Repeat("x", 64<<10)
	start := time.Now()
	sawOmem := false
	for i := 0; i < 400; i++ {
		c.str("ECHO", payload)
		if i%5 == 4 {
			l := c.str("CLIENT", "LIST")
			if m := regexp.MustCompile(`addr=` + regexp.QuoteMeta(monAddr) + ` .* omem=(\d+) tot-mem=\d+ events=(\w+)`).FindStringSubmatch(l); m != nil {
				if m[1] != "0" && m[2] == "rw" {
					sawOmem = true
				}
			} else if !strings.Contains(l, monAddr) {
				break // closed
			}
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("400 commands took %v with a stuck monitor", d)
	}
	if !sawOmem {
		t.Error("CLIENT LIST never showed the monitor's pending output (omem, events=rw)")
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(c.str("CLIENT", "LIST"), monAddr) {
		if time.Now().After(deadline) {
			t.Fatal("the monitor past its output limit was not closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInfo_LatencystatsAndRaft(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	c.ok("CONFIG", "RESETSTAT")
	for range 20 {
		c.do("GET", "k")
	}
	c.ok("CLIENT", "SETNAME", "x")
	pct := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	f := c.infoFields("latencystats")
	for _, name := range []string{"get", "client|setname", "config|resetstat"} {
		v, ok := f["latency_percentiles_usec_"+name]
		if !ok || !pct.MatchString(v) {
			t.Errorf("latency_percentiles_usec_%s = %q (present %v)", name, v, ok)
		}
	}
	if _, ok := f["latency_percentiles_usec_set"]; ok {
		t.Error("latencystats lists SET, never called")
	}
	// p50 <= p99 <= p99.9.
	var ps []float64
	for _, kv := range strings.Split(f["latency_percentiles_usec_get"], ",") {
		_, v, _ := strings.Cut(kv, "=")
		x, _ := strconv.ParseFloat(v, 64)
		ps = append(ps, x)
	}
	if len(ps) != 3 || ps[0] > ps[1] || ps[1] > ps[2] || ps[0] <= 0 {
		t.Errorf("GET percentiles %v", ps)
	}
	c.ok("CONFIG", "SET", "latency-tracking-info-percentiles", "50 90")
	if v := c.infoFields("latencystats")["latency_percentiles_usec_get"]; !regexp.MustCompile(`^p50=[\d.]+,p90=[\d.]+$`).MatchString(v) {
		t.Errorf("with percentiles 50 90: %q", v)
	}
	// LATENCY HISTOGRAM: calls and cumulative power-of-two buckets.
	h := c.arr("LATENCY", "HISTOGRAM", "get", "nosuch")
	if len(h) != 2 || h[0] != "get" {
		t.Fatalf("LATENCY HISTOGRAM get = %v", h)
	}
	body := h[1].([]any)
	if body[0] != "calls" || body[1].(int64) != 20 || body[2] != "histogram_usec" {
		t.Fatalf("LATENCY HISTOGRAM get = %v", body)
	}
	buckets := body[3].([]any)
	if len(buckets) == 0 || buckets[len(buckets)-1].(int64) != 20 {
		t.Errorf("buckets %v do not end at 20 calls", buckets)
	}
	// A container stands for its subcommands.
	var names []string
	h = c.arr("LATENCY", "HISTOGRAM", "CONFIG")
	for i := 0; i < len(h); i += 2 {
		names = append(names, h[i].(string))
	}
	if got := strings.Join(names, " "); got != "config|resetstat config|set" {
		t.Errorf("LATENCY HISTOGRAM CONFIG lists %q", got)
	}
	c.ok("CONFIG", "SET", "latency-tracking", "no")
	if f := c.infoFields("latencystats"); len(f) != 0 {
		t.Errorf("latency-tracking no: latencystats %v", f)
	}
	c.ok("CONFIG", "SET", "latency-tracking", "yes")
	c.ok("CONFIG", "RESETSTAT")
	if _, ok := c.infoFields("latencystats")["latency_percentiles_usec_get"]; ok {
		t.Error("CONFIG RESETSTAT kept GET's histogram")
	}

	// commandstats and errorstats.
	c.do("GET", "k")
	c.do("GET")
	c.do("INCR", "notanumber-key-is-fine")
	c.ok("SET", "s", "x")
	c.do("INCR", "s")
	cs := c.infoFields("commandstats")
	if v := cs["cmdstat_get"]; !regexp.MustCompile(`^calls=1,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=1,failed_calls=0$`).MatchString(v) {
		t.Errorf("cmdstat_get = %q", v)
	}
	if v := cs["cmdstat_incr"]; !strings.Contains(v, "calls=2,") || !strings.HasSuffix(v, "failed_calls=1") {
		t.Errorf("cmdstat_incr = %q", v)
	}
	if v := c.infoFields("errorstats")["errorstat_ERR"]; v != "count=2" {
		t.Errorf("errorstat_ERR = %q", v)
	}

	// raft: a one-node cluster led by this node.
	r := c.infoFields("raft")
	if r["raft_enabled"] != "1" || r["raft_state"] != "leader" || r["raft_node_id"] == "" || r["raft_leader_id"] != r["raft_node_id"] {
		t.Errorf("INFO raft: %v", r)
	}
	if term, _ := strconv.Atoi(r["raft_term"]); term < 1 {
		t.Errorf("raft_term %q", r["raft_term"])
	}
	commit, _ := strconv.Atoi(r["raft_commit_index"])
	last, _ := strconv.Atoi(r["raft_last_log_index"])
	if commit < 1 || last < commit {
		t.Errorf("raft_commit_index %d, raft_last_log_index %d", commit, last)
	}
	if r["raft_members"] != "1" || r["raft_voters"] != "1" || !strings.Contains(r["raft_member0"], "leader=1,self=1") {
		t.Errorf("raft members: %v", r)
	}
	if !strings.Contains(c.str("INFO"), "# Raft\r\n") {
		t.Error("INFO (default) has no Raft section")
	}
	for _, sec := range []string{"all", "everything"} {
		all := c.str("INFO", sec)
		if !strings.Contains(all, "# Raft\r\n") || !strings.Contains(all, "# Latencystats\r\n") {
			t.Errorf("INFO %s lacks Raft or Latencystats", sec)
		}
	}
}

func TestMemory_UsageGrowsWithValue(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	c.ok("SET", "s", "short")
	small := c.int("MEMORY", "USAGE", "s")
	c.ok("SET", "s", strings.Repeat("v", 10000))
	big := c.int("MEMORY", "USAGE", "s")
	if small <= 5 || big < small+10000 {
		t.Errorf("MEMORY USAGE of a string: %d then %d", small, big)
	}
	if v := c.do("MEMORY", "USAGE", "nokey"); v != nil {
		t.Errorf("MEMORY USAGE nokey = %v", v)
	}
	for _, tc := range []struct {
		key string
		add func(i int) []string
	}{
		{"list", func(i int) []string { return []string{"RPUSH", "list", strings.Repeat("e", 100)} }},
		{"hash", func(i int) []string { return []string{"HSET", "hash", "f" + strconv.Itoa(i), strings.Repeat("e", 100)} }},
		{"set", func(i int) []string { return []string{"SADD", "set", strings.Repeat("m", 100) + strconv.Itoa(i)} }},
		{"zset", func(i int) []string {
			return []string{"ZADD", "zset", strconv.Itoa(i), strings.Repeat("m", 100) + strconv.Itoa(i)}
		}},
	} {
		var sizes []int64
		i := 0
		for _, upTo := range []int{10, 100, 1000} {
			var cmds [][]byte
			for ; i < upTo; i++ {
				a := tc.add(i)
				bs := make([][]byte, len(a))
				for j := range a {
					bs[j] = []byte(a[j])
				}
				cmds = append(cmds, resp.AppendCommand(nil, bs...))
			}
			for _, cmd := range cmds {
				if _, err := c.c.Write(cmd); err != nil {
					t.Fatal(err)
				}
			}
			for range cmds {
				c.read()
			}
			sizes = append(sizes, c.int("MEMORY", "USAGE", tc.key))
		}
		if sizes[0] <= 10*100 || sizes[1] < sizes[0]+90*100 || sizes[2] < sizes[1]+900*100 {
			t.Errorf("MEMORY USAGE %s at 10, 100, 1000 elements: %v", tc.key, sizes)
		}
		all := c.int("MEMORY", "USAGE", tc.key, "SAMPLES", "0")
		if all < sizes[2]*9/10 || all > sizes[2]*11/10 {
			t.Errorf("MEMORY USAGE %s SAMPLES 0 = %d, sampled %d", tc.key, all, sizes[2])
		}
	}
	st := c.arr("MEMORY", "STATS")
	stats := map[string]any{}
	for i := 0; i+1 < len(st); i += 2 {
		stats[st[i].(string)] = st[i+1]
	}
	for _, k := range []string{"peak.allocated", "total.allocated", "startup.allocated", "clients.normal", "overhead.total",
		"keys.count", "keys.bytes-per-key", "dataset.bytes", "dataset.percentage", "peak.percentage", "allocator.allocated",
		"allocator.active", "allocator.resident", "fragmentation", "fragmentation.bytes", "db.0"} {
		if _, ok := stats[k]; !ok {
			t.Errorf("MEMORY STATS lacks %s", k)
		}
	}
	if stats["keys.count"] != int64(5) {
		t.Errorf("keys.count = %v, want 5", stats["keys.count"])
	}
	if ds := stats["dataset.bytes"].(int64); ds < 400_000 || ds > stats["total.allocated"].(int64) {
		t.Errorf("dataset.bytes = %d (total.allocated %v)", ds, stats["total.allocated"])
	}
	if doc := c.str("MEMORY", "DOCTOR"); !strings.Contains(doc, "Sam") {
		t.Errorf("MEMORY DOCTOR = %q", doc)
	}
}

func TestDebug_SleepObjectHelp(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	other := dialRESP(t, n.Addr)
	// Replies recorded from redis-server 7.0 with enable-debug-command yes.
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"DEBUG", "foo"}, respErr("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "sleep"}, respErr("ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "sleep", "0", "1"}, respErr("ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "object"}, respErr("ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "help", "x"}, respErr("ERR unknown subcommand or wrong number of arguments for 'help'. Try DEBUG HELP.")},
		{[]string{"DEBUG", "object", "nokey"}, respErr("ERR no such key")},
		{[]string{"DEBUG", "sleep", "abc"}, "OK"},
		{[]string{"DEBUG", "sleep", "-1"}, "OK"},
		{[]string{"DEBUG", "sleep", "0"}, "OK"},
	} {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("%q = %#v, want %#v", tc.args, got, tc.want)
		}
	}
	help := strs(c.arr("DEBUG", "HELP"))
	if help[0] != "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[len(help)-1] != "    Prints this help." {
		t.Errorf("DEBUG HELP = %q", help)
	}

	// DEBUG SLEEP blocks its client only.
	start := time.Now()
	c.send("DEBUG", "SLEEP", "1")
	time.Sleep(50 * time.Millisecond)
	if s := other.str("PING"); s != "PONG" || time.Since(start) > 700*time.Millisecond {
		t.Errorf("another client waited for DEBUG SLEEP: %q after %v", s, time.Since(start))
	}
	if s := c.read(); s != "OK" || time.Since(start) < time.Second {
		t.Errorf("DEBUG SLEEP 1 answered %v after %v", s, time.Since(start))
	}

	obj := regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:1 encoding:(\S+) serializedlength:(\d+) lru:\d+ lru_seconds_idle:\d+( ql_nodes:\d+ ql_avg_node:\d+\.\d\d ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:\d+)?$`)
	c.ok("SET", "str", "hello")
	c.ok("SET", "num", "12345")
	c.int("RPUSH", "small", "a", "b", "c")
	for i := 0; i < 200; i++ {
		c.int("RPUSH", "big", strings.Repeat("x", 100))
	}
	c.int("HSET", "h", "a", "1")
	for _, tc := range []struct{ key, enc string }{
		{"str", "embstr"}, {"num", "int"}, {"small", "listpack"}, {"big", "quicklist"}, {"h", "listpack"},
	} {
		line := c.str("DEBUG", "OBJECT", tc.key)
		m := obj.FindStringSubmatch(line)
		if m == nil || m[1] != tc.enc || m[2] == "0" || (tc.enc == "quicklist") != (m[3] != "") {
			t.Errorf("DEBUG OBJECT %s = %q", tc.key, line)
		}
	}
}

func TestClientList_Fields(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := dialRESP(t, n.Addr)
	sub := dialRESP(t, n.Addr)
	sub.do("SUBSCRIBE", "ch")
	c.ok("MULTI")
	c.str("SET", "a", "1")
	c.str("CLIENT", "INFO")
	res := c.arr("EXEC")
	info := res[1].(string)
	if !regexp.MustCompile(`flags=x db=0 sub=0 psub=0 ssub=0 multi=2 .*omem=0 tot-mem=0 events=r cmd=exec `).MatchString(info) {
		t.Errorf("CLIENT INFO inside EXEC = %q", info)
	}
	info = c.str("CLIENT", "INFO")
	if !regexp.MustCompile(`flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 .*events=r cmd=client\|info `).MatchString(info) {
		t.Errorf("CLIENT INFO = %q", info)
	}
	list := c.str("CLIENT", "LIST")
	subAddr := sub.c.LocalAddr().String()
	if !regexp.MustCompile(`addr=` + regexp.QuoteMeta(subAddr) + ` .*flags=P db=0 sub=1 psub=0 ssub=0 multi=-1 `).MatchString(list) {
		t.Errorf("CLIENT LIST does not show the subscriber:\n%s", list)
	}
}
