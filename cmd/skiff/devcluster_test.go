package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDevCluster_ServesStopsOnSIGTERM starts a three-node dev-cluster, writes
// through node 2 and reads through node 3, lists the members with the
// cluster CLI, then sends SIGTERM and expects exit 0 with every node gone.
func TestDevCluster_ServesStopsOnSIGTERM(t *testing.T) {
	var (
		p    *proc
		base int
	)
	// The ports are picked free, but another process may take one before the
	// nodes bind it; dev-cluster then exits 1 and the test tries another base.
	for attempt := 1; ; attempt++ {
		base = freeBasePort(t, 3)
		dir := t.TempDir()
		var dc *proc
		// Registered before startProc's cleanup, so it runs after it.
		t.Cleanup(func() {
			if dc != nil && t.Failed() {
				killNodes(dc)
			}
		})
		dc = startProc(t, "dev-cluster", "--nodes", "3", "--base-port", strconv.Itoa(base), "--grpc-base-port", "0", "--http-base-port", "0", "--dir", dir)
		p = dc
		if devWrite(t, p, base) {
			break
		}
		if attempt == 5 || !strings.Contains(p.stderr.String(), "address already in use") {
			t.Fatalf("dev-cluster exited before serving: %v", p.err)
		}
		t.Logf("base port %d: a port was taken; retrying", base)
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(base+i) }

	waitFor(t, 30*time.Second, "node 3 to read the value written through node 2", func() bool {
		v, err := doOnce(addr(2), "GET", "dev:key")
		if err != nil || retriable(v) {
			return false
		}
		if v.Type != '$' || v.Null {
			t.Fatalf("GET through node 3: %s", render(v))
		}
		return string(v.Str) == "hello"
	})

	out, err := skiffCmd(t, "cluster", "members", "--addr", addr(0)).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster members: %v\n%s", err, out)
	}
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "ID") {
		t.Fatalf("cluster members: want a header and 3 rows, got\n%s", out)
	}
	for i, id := range []string{"n1", "n2", "n3"} {
		f := strings.Fields(rows[i+1])
		if len(f) != 5 || f[0] != id || f[1] != "127.0.0.1:"+strconv.Itoa(base+10000+i) || f[2] != "yes" {
			t.Fatalf("cluster members row %d: %q", i+1, rows[i+1])
		}
	}

	pids := nodePIDs(t, p)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !p.wait(20 * time.Second) {
		t.Fatal("dev-cluster did not exit within 20s of SIGTERM")
	}
	if p.err != nil {
		t.Fatalf("dev-cluster exit after SIGTERM: %v", p.err)
	}
	for id, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after dev-cluster exited: kill -0 = %v", id, pid, err)
		}
	}
}

// devWrite polls until a SET through node 2 answers +OK and reports true, or
// reports false if dev-cluster exits first.
func devWrite(t *testing.T, p *proc, base int) bool {
	t.Helper()
	ok := false
	waitFor(t, 30*time.Second, "a write through node 2 to answer +OK", func() bool {
		if p.exited() {
			return true
		}
		v, err := doOnce("127.0.0.1:"+strconv.Itoa(base+1), "SET", "dev:key", "hello")
		if err != nil || retriable(v) {
			return false
		}
		if v.Type != '+' {
			t.Fatalf("SET through node 2: %s", render(v))
		}
		ok = true
		return true
	})
	return ok
}

var nodeLineRe = regexp.MustCompile(`(?m)^\s+(n\d+)\s+resp \S+\s+raft \S+\s+grpc \S+\s+http \S+\s+data \S+\s+pid (\d+)$`)

// nodePIDs reads the nodes' process ids from dev-cluster's start-up table.
func nodePIDs(t *testing.T, p *proc) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, m := range nodeLineRe.FindAllStringSubmatch(p.stdout.String(), -1) {
		pid, _ := strconv.Atoi(m[2])
		pids[m[1]] = pid
	}
	if len(pids) != 3 {
		t.Fatalf("want 3 node lines with pids in dev-cluster's output, got %v:\n%s", pids, p.stdout.String())
	}
	return pids
}

// killNodes is a last resort for a failed test: SIGKILL any node dev-cluster
// left behind once dev-cluster itself has been stopped.
func killNodes(p *proc) {
	for _, m := range nodeLineRe.FindAllStringSubmatch(p.stdout.String(), -1) {
		if pid, err := strconv.Atoi(m[2]); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// freeBasePort returns a port P such that P..P+n-1 and P+10000..P+10000+n-1
// are free on 127.0.0.1 now. P is below 22000, so both ranges stay under
// Linux's ephemeral range (32768 up) and outgoing connections do not take them.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 10000 + rand.IntN(12000-n)
		var lns []net.Listener
		free := true
		for i := range n {
			for _, port := range []int{base + i, base + 10000 + i} {
				ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
				if err != nil {
					free = false
					break
				}
				lns = append(lns, ln)
			}
		}
		for _, ln := range lns {
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free base port found")
	return 0
}

func TestDevCluster_BadFlagsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--nodes", "0"},
		{"--base-port", "60000"},
		{"--fsync", "never"},
		{"--dir", ""},
		{"--bogus"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := runDevCluster(args, &out, &errOut); code != 2 {
			t.Errorf("dev-cluster %q: exit %d, want 2", args, code)
		}
		if !strings.HasPrefix(errOut.String(), "skiff dev-cluster: ") {
			t.Errorf("dev-cluster %q: stderr %q", args, errOut.String())
		}
	}
	var out bytes.Buffer
	if code := runDevCluster([]string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "--base-port") {
		t.Errorf("dev-cluster --help: exit %d, output %q", code, out.String())
	}
}

func TestPrefixWriter_PrefixesWholeLines(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	w := &prefixWriter{mu: &mu, out: &out, prefix: []byte("n1 | ")}
	for _, s := range []string{"a", "b\nc", "\n", "d\ne\n", "f"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	if got, want := out.String(), "n1 | ab\nn1 | c\nn1 | d\nn1 | e\nn1 | f\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	out.Reset()
	long := strings.Repeat("x", maxLogLine+1)
	w.Write([]byte(long))
	w.Write([]byte("y\n"))
	if got, want := out.String(), fmt.Sprintf("n1 | %s\nn1 | y\n", long); got != want {
		t.Fatalf("long line: got %d bytes, want %d", len(got), len(want))
	}
}
