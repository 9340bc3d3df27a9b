package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// fakeServer is a tiny RESP server on 127.0.0.1:0 that answers every command
// with a canned reply and counts commands by name.
type fakeServer struct {
	ln     net.Listener
	silent bool // read commands, never reply
	wg     sync.WaitGroup
	mu     struct {
		sync.Mutex
		conns  map[net.Conn]struct{}
		counts map[string]int
	}
}

// cannedReply is the fake server's answer to a command.
func cannedReply(cmd string) []byte {
	switch cmd {
	case "PING":
		return []byte("+PONG\r\n")
	case "SET", "MSET":
		return []byte("+OK\r\n")
	case "GET", "RPOP", "LPOP", "SPOP":
		return []byte("$-1\r\n")
	case "INCR", "LPUSH", "RPUSH", "SADD", "HSET":
		return []byte(":1\r\n")
	default:
		return []byte("-ERR unknown command '" + cmd + "'\r\n")
	}
}

func startFakeServer(t testing.TB, silent bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, silent: silent}
	s.mu.conns = map[net.Conn]struct{}{}
	s.mu.counts = map[string]int{}
	s.wg.Go(s.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.mu.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		s.mu.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.handleConn(c) })
	}
}

func (s *fakeServer) handleConn(c net.Conn) {
	defer func() {
		_ = c.Close()
		s.mu.Lock()
		delete(s.mu.conns, c)
		s.mu.Unlock()
	}()
	rd := resp.NewReader(c, 0)
	bw := bufio.NewWriter(c)
	for { // ends when the client or the test's cleanup closes c
		args, err := rd.ReadCommand()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(string(args[0]))
		s.mu.Lock()
		s.mu.counts[cmd]++
		s.mu.Unlock()
		if s.silent {
			continue
		}
		_, _ = bw.Write(cannedReply(cmd))
		if rd.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

func (s *fakeServer) count(cmd string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.counts[cmd]
}

func runBench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeResults(t *testing.T, out string) []jsonResult {
	t.Helper()
	var res []jsonResult
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r jsonResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		res = append(res, r)
	}
	return res
}

func TestRun_EndToEnd(t *testing.T) {
	s := startFakeServer(t, false)
	tests := []string{"set", "get", "incr", "ping", "mset"}
	code, out, errOut := runBench(t, "-addr", s.addr(), "-n", "1000", "-c", "4", "-P", "4",
		"-t", strings.Join(tests, ","), "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	res := decodeResults(t, out)
	if len(res) != len(tests) {
		t.Fatalf("%d results, want %d: %s", len(res), len(tests), out)
	}
	for i, r := range res {
		if r.Test != tests[i] || r.Mode != "resp" {
			t.Errorf("result %d is %s/%s, want resp/%s", i, r.Mode, r.Test, tests[i])
		}
		if r.Requests != 1000 || r.Errors != 0 || r.StoppedBy != "count" {
			t.Errorf("%s: requests %d errors %d stopped by %s, want 1000 0 count", r.Test, r.Requests, r.Errors, r.StoppedBy)
		}
		if r.RPS <= 0 || r.Seconds <= 0 {
			t.Errorf("%s: rps %v seconds %v", r.Test, r.RPS, r.Seconds)
		}
		l := r.LatencyMs
		if !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) || l.Max <= 0 {
			t.Errorf("%s: latencies out of order: %+v", r.Test, l)
		}
		if r.Connections != 4 || r.Pipeline != 4 || r.DataSize != 3 {
			t.Errorf("%s: config echoed as %+v", r.Test, r)
		}
	}
	// The server saw exactly -n of each command.
	for _, cmd := range []string{"SET", "GET", "INCR", "PING", "MSET"} {
		if got := s.count(cmd); got != 1000 {
			t.Errorf("server saw %d %s, want 1000", got, cmd)
		}
	}
}

// -n not a multiple of -c × -P, random keys, warmup, quiet output.
func TestRun_UnevenWithWarmup(t *testing.T) {
	s := startFakeServer(t, false)
	code, out, errOut := runBench(t, "-addr", s.addr(), "-n", "1001", "-c", "3", "-P", "4",
		"-r", "100", "-warmup", "50", "-t", "set", "-q")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "SET: ") || !strings.Contains(lines[0], " 1001 requests, 0 errors") {
		t.Fatalf("quiet output %q", out)
	}
	if got := s.count("SET"); got != 1051 {
		t.Fatalf("server saw %d SET, want 1001 + 50 warmup", got)
	}
}

func TestRun_DefaultOutput(t *testing.T) {
	s := startFakeServer(t, false)
	code, out, errOut := runBench(t, "-addr", s.addr(), "-n", "100", "-c", "2", "-t", "ping")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"====== PING ======", "100 requests completed", "0 errors",
		"requests per second", "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRun_CountsErrorReplies(t *testing.T) {
	s := startFakeServer(t, false)
	code, out, errOut := runBench(t, "-addr", s.addr(), "-n", "200", "-c", "2", "-P", "3", "-t", "xadd", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	res := decodeResults(t, out)
	if len(res) != 1 || res[0].Requests != 200 || res[0].Errors != 200 {
		t.Fatalf("results %+v, want 200 requests, 200 errors", res)
	}
}

// A server that never answers: the test ends at -duration, not -n, and the
// tool still reports and exits 0.
func TestRun_DurationCap(t *testing.T) {
	s := startFakeServer(t, true)
	start := time.Now()
	code, out, errOut := runBench(t, "-addr", s.addr(), "-n", "1000000", "-c", "2", "-P", "2",
		"-duration", "200ms", "-t", "get", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v with -duration 200ms", el)
	}
	res := decodeResults(t, out)
	if len(res) != 1 || res[0].Requests != 0 || res[0].StoppedBy != "duration" {
		t.Fatalf("results %+v, want 0 requests stopped by duration", res)
	}
}

// The server closing connections mid-test fails the run with one line.
func TestRun_ConnectionClosed(t *testing.T) {
	// A listener that accepts and closes at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	})
	code, _, errOut := runBench(t, "-addr", ln.Addr().String(), "-n", "100", "-c", "2", "-t", "set", "-duration", "10s")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "skiff-bench: set: ") {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", code, errOut)
	}
}

func TestRun_CannotConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	code, out, errOut := runBench(t, "-addr", addr, "-n", "10", "-t", "ping")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "skiff-bench: cannot connect to "+addr+": ") {
		t.Fatalf("stdout %q stderr %q, want one error line", out, errOut)
	}
}

func TestRun_BadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-c", "0"},
		{"-n", "0"},
		{"-P", "0"},
		{"-d", "0"},
		{"-r", "-1"},
		{"-r", "1000000000001"},
		{"-duration", "0s"},
		{"-mode", "nope"},
		{"-t", "set,bogus"},
		{"-t", ","},
		{"extra"},
	} {
		code, out, errOut := runBench(t, append([]string{"-addr", "127.0.0.1:1"}, args...)...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d stdout %q stderr %q, want 2 and an error", args, code, out, errOut)
		}
	}
	if code, _, _ := runBench(t, "-h"); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
}

func TestPhase_Claim(t *testing.T) {
	p := &phase{total: 10}
	var got []int
	for range 6 {
		got = append(got, p.claim(4))
	}
	want := []int{4, 4, 2, 0, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("claims %v, want %v", got, want)
		}
	}
}

// BenchmarkRespWorker_Ping is the client's cost per request against the fake
// server (one connection, so it includes the syscalls and the server).
func BenchmarkRespWorker_Ping(b *testing.B) {
	for _, p := range []int{1, 16} {
		b.Run("P"+strconv.Itoa(p), func(b *testing.B) {
			s := startFakeServer(b, false)
			cmd, _ := findRespCommand("ping")
			w, err := dialResp(s.addr(), time.Now().Add(5*time.Second), newRequestTemplate(cmd.args, nil, p), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer w.close()
			h := newHistogram()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := w.do(p, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*p), "ns/request")
		})
	}
}
