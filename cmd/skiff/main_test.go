package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cmd.Env = append(os.Environ(), "SKIFF_TEST_AS_MAIN=1")
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
	for _, want := range []string{"--redis-addr", "SKIFF_REDIS_ADDR", "--data-dir", "--log-format"} {
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
