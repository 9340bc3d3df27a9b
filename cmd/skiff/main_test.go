package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// The test binary doubles as the skiff binary: run with SKIFF_TEST_AS_MAIN=1
// it executes main's run() with its arguments, so the tests below exercise
// the real process behaviour (signals, exit codes, stderr) without a build step.
func TestMain(m *testing.M) {
	if os.Getenv("SKIFF_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func skiffCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	// Tests run in parallel with others: never the default gRPC/REST ports.
	cmd.Env = append(os.Environ(), "SKIFF_TEST_AS_MAIN=1", "SKIFF_GRPC_ADDR=127.0.0.1:0", "SKIFF_HTTP_ADDR=127.0.0.1:0")
	return cmd
}

func TestVersion(t *testing.T) {
	out, err := skiffCmd(t, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "skiff ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestHelp_ListsFlagsAndEnv(t *testing.T) {
	out, err := skiffCmd(t, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help exited with %v", err)
	}
	for _, want := range []string{"--redis-addr", "SKIFF_REDIS_ADDR", "--data-dir", "--log-format",
		"skiff [server] [flags]", "skiff dev-cluster", "skiff cluster <command>", "skiff version"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestBadFlag_ExitsWithOneLine(t *testing.T) {
	cmd := skiffCmd(t, "--log-format", "xml", "--data-dir", t.TempDir())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want 2", err)
	}
	if !strings.Contains(string(out), "--log-format") {
		t.Fatalf("output %q", out)
	}
}

func TestPortInUse_OneLineErrorExit1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := skiffCmd(t, "--redis-addr", ln.Addr().String(), "--raft-addr", "127.0.0.1:0", "--data-dir", t.TempDir()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1; output %q", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "address already in use") {
		t.Fatalf("want one line naming the address in use, got %q", out)
	}
}

// TestSignal_ServesThenExitsZero starts the binary on a free port, talks to it,
// sends SIGTERM and expects exit status 0 and the start-up line on stderr.
func TestSignal_ServesThenExitsZero(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := skiffCmd(t, "--redis-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			sc := bufio.NewScanner(stderr)
			addrRe := regexp.MustCompile(`"resp_addr":"([^"]+)"`)
			var addr string
			for sc.Scan() {
				if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
					addr = m[1]
					break
				}
			}
			if addr == "" {
				t.Fatal("no start-up line with resp_addr")
			}
			go func() {
				for sc.Scan() {
				}
			}()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			rd := bufio.NewReader(c)
			// The first second or so is the leader election: writes answer
			// CLUSTERDOWN until then (retriable), so poll.
			for {
				c.Write([]byte("SET a 1\r\n"))
				l, err := rd.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if l == "+OK\r\n" {
					break
				}
				if !strings.HasPrefix(l, "-CLUSTERDOWN") {
					t.Fatalf("SET: %q", l)
				}
				time.Sleep(20 * time.Millisecond)
			}
			c.Write([]byte("GET a\r\n"))
			var got string
			for i := 0; i < 2; i++ {
				l, err := rd.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				got += l
			}
			if got != "$1\r\n1\r\n" {
				t.Fatalf("GET: %q", got)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after %v: %v", sig, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("did not exit after %v", sig)
			}
			c.Close()
		})
	}
}

// TestKill9_AcknowledgedWritesSurvive writes 500 keys to a node, each
// acknowledged, kills the process with SIGKILL (no shutdown of any kind),
// starts it again on the same data dir and reads every key back: with the
// default --fsync always an acknowledged write is on disk.
func TestKill9_AcknowledgedWritesSurvive(t *testing.T) {
	dir := t.TempDir()
	p, addr := startNode(t, dir)
	c := dialRESP(t, addr)
	waitWritable(t, c)
	const keys = 500
	for i := range keys {
		v, err := c.do("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d", i))
		if err != nil || v.Type != '+' || string(v.Str) != "OK" {
			t.Fatalf("SET key:%d: %s %v", i, render(v), err)
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if !p.wait(10 * time.Second) {
		t.Fatal("process did not die after SIGKILL")
	}
	c.close()

	_, addr = startNode(t, dir)
	c = dialRESP(t, addr)
	// Reads are linearizable: they answer CLUSTERDOWN until the restarted
	// node has elected itself again.
	waitFor(t, 30*time.Second, "the restarted node to answer a read", func() bool {
		v, err := c.do("GET", "key:0")
		if err != nil {
			t.Fatal(err)
		}
		if retriable(v) {
			return false
		}
		if v.Type != '$' || string(v.Str) != "value-0" {
			t.Fatalf("GET key:0 after restart: %s", render(v))
		}
		return true
	})
	for i := range keys {
		v, err := c.do("GET", fmt.Sprintf("key:%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("value-%d", i); v.Type != '$' || v.Null || string(v.Str) != want {
			t.Fatalf("GET key:%d after kill -9 and restart = %s, want %q", i, render(v), want)
		}
	}
}

// proc is a skiff process started by a test. Its output is collected; it is
// stopped (SIGTERM, then SIGKILL) in t.Cleanup, and its output is logged if
// the test failed.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *outBuf
	done           chan struct{}
	err            error // Wait's result, valid once done is closed
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: skiffCmd(t, args...), stdout: &outBuf{}, stderr: &outBuf{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			if !p.wait(15 * time.Second) {
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("skiff %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), tail(p.stdout.String()), tail(p.stderr.String()))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to exit and reports whether it did
// (p.err is then Wait's result).
func (p *proc) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

func tail(s string) string {
	const max = 16 << 10
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// outBuf collects output written by os/exec's copying goroutines.
type outBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// startNode starts one node on ephemeral ports with data in dir and returns
// it with its RESP address, read from the JSON start-up log line.
func startNode(t *testing.T, dir string, extra ...string) (*proc, string) {
	t.Helper()
	args := append([]string{"--redis-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, extra...)
	p := startProc(t, args...)
	addrRe := regexp.MustCompile(`"resp_addr":"([^"]+)"`)
	var addr string
	waitFor(t, 30*time.Second, "the start-up line with resp_addr", func() bool {
		if m := addrRe.FindStringSubmatch(p.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		if p.exited() {
			t.Fatalf("skiff exited before starting: %v", p.err)
		}
		return false
	})
	return p, addr
}

// waitFor polls cond every 20ms until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// respConn is a minimal RESP client for tests.
type respConn struct {
	c  net.Conn
	rd *resp.Reader
}

func dialRESP(t *testing.T, addr string) *respConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rc := &respConn{c: c, rd: resp.NewReader(c, 4096)}
	t.Cleanup(rc.close)
	return rc
}

func (rc *respConn) close() { rc.c.Close() }

// do sends one command and reads its reply; an error reply is a Value of
// type '-', not an error.
func (rc *respConn) do(args ...string) (resp.Value, error) {
	_ = rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := rc.c.Write(resp.AppendCommandString(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	return rc.rd.ReadValue()
}

// doOnce dials addr, sends one command and returns the reply.
func doOnce(addr string, args ...string) (resp.Value, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return resp.Value{}, err
	}
	defer c.Close()
	rc := &respConn{c: c, rd: resp.NewReader(c, 4096)}
	return rc.do(args...)
}

// retriable reports the errors a client retries: no leader yet, or
// leadership changed under the request.
func retriable(v resp.Value) bool {
	return v.Type == '-' && (bytes.HasPrefix(v.Str, []byte("CLUSTERDOWN")) || bytes.HasPrefix(v.Str, []byte("TRYAGAIN")))
}

// waitWritable polls with a SET until the node accepts writes.
func waitWritable(t *testing.T, c *respConn) {
	t.Helper()
	waitFor(t, 30*time.Second, "a SET to answer +OK", func() bool {
		v, err := c.do("SET", "ready", "1")
		if err != nil {
			t.Fatal(err)
		}
		if retriable(v) {
			return false
		}
		if v.Type != '+' || string(v.Str) != "OK" {
			t.Fatalf("SET: %s", render(v))
		}
		return true
	})
}
