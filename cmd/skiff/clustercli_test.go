package main

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// TestClusterCLI_AgainstANode runs `skiff cluster` against one started node
// (with a password, so both ways of giving it are covered).
func TestClusterCLI_AgainstANode(t *testing.T) {
	_, addr := startNode(t, t.TempDir(), "--requirepass", "sesame")
	cli := func(env []string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := skiffCmd(t, append([]string{"cluster"}, args...)...)
		cmd.Env = append(cmd.Env, env...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return o.String(), e.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), 0
	}

	waitFor(t, 30*time.Second, "cluster status to show state: Leader", func() bool {
		out, _, code := cli(nil, "status", "--addr", addr, "--password", "sesame")
		return code == 0 && strings.Contains(out, "\nstate: Leader\n")
	})

	// The address and password from the environment, the flags after or
	// before the command.
	out, errOut, code := cli([]string{"SKIFF_ADDR=" + addr, "SKIFF_PASSWORD=sesame"}, "status")
	if code != 0 || !strings.HasPrefix(out, "node_id: ") || !strings.Contains(out, "\nresp_addr: "+addr+"\n") {
		t.Fatalf("status (env): exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = cli(nil, "--addr", addr, "--password", "sesame", "members")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) != 2 || !reflect.DeepEqual(strings.Fields(rows[1])[2:], []string{"yes", "yes", "yes"}) {
		t.Fatalf("members: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = cli(nil, "add", "n9", "not-an-address", "--addr", addr, "--password", "sesame")
	if code != 1 || out != "" || !strings.Contains(errOut, "invalid raft address") {
		t.Fatalf("add with a bad address: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = cli([]string{"SKIFF_PASSWORD="}, "status", "--addr", addr)
	if code != 1 || !strings.Contains(errOut, "NOAUTH") {
		t.Fatalf("status without the password: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(nil, "status", "--addr", addr, "--password", "wrong")
	if code != 1 || !strings.Contains(errOut, "WRONGPASS") {
		t.Fatalf("status with a wrong password: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code = cli(nil, "snapshot", "--addr", addr, "--password", "sesame")
	if code != 0 || out != "OK\n" {
		t.Fatalf("snapshot: exit %d\n%s%s", code, out, errOut)
	}
}

func TestClusterCLI_UsageAndConnectionErrors(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	var out, errOut bytes.Buffer
	if code := runCluster([]string{"--help"}, noEnv, &out, &errOut); code != 0 || !strings.Contains(out.String(), "add <id> <raft-addr>") {
		t.Fatalf("--help: exit %d, %q", code, out.String())
	}
	for _, args := range [][]string{{}, {"bogus"}, {"add", "n9"}, {"remove"}, {"transfer", "a", "b"}, {"status", "--bogus"}} {
		out.Reset()
		errOut.Reset()
		if code := runCluster(args, noEnv, &out, &errOut); code != 2 || !strings.HasPrefix(errOut.String(), "skiff cluster: ") {
			t.Errorf("cluster %q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	errOut.Reset()
	if code := runCluster([]string{"status", "--addr", closed}, noEnv, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "refused") {
		t.Errorf("status against a closed port: exit %d, stderr %q", code, errOut.String())
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	pos, err := parseInterleaved(fs, []string{"add", "--addr", "h:1", "n4", "h:2"})
	if err != nil || *addr != "h:1" || !reflect.DeepEqual(pos, []string{"add", "n4", "h:2"}) {
		t.Fatalf("got %q %q %v", pos, *addr, err)
	}
}

func TestPrintMembersAndStatus_RESP2AndRESP3(t *testing.T) {
	read := func(s string) resp.Value {
		v, err := resp.NewReader(strings.NewReader(s), 0).ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	member := "$2\r\nid\r\n$2\r\nn1\r\n$9\r\nraft_addr\r\n$3\r\nh:1\r\n$5\r\nvoter\r\n:1\r\n$6\r\nleader\r\n:0\r\n$4\r\nself\r\n:1\r\n"
	want := "ID  RAFT ADDR  VOTER  LEADER  SELF\nn1  h:1        yes    no      yes\n"
	for _, reply := range []string{"*1\r\n*10\r\n" + member, "*1\r\n%5\r\n" + member} {
		var b bytes.Buffer
		if err := printMembers(&b, read(reply)); err != nil || b.String() != want {
			t.Errorf("members %q:\n%s%v", reply, b.String(), err)
		}
	}
	var b bytes.Buffer
	if err := printStatus(&b, read("%2\r\n$5\r\nstate\r\n$6\r\nLeader\r\n$4\r\nterm\r\n$1\r\n3\r\n")); err != nil || b.String() != "state: Leader\nterm: 3\n" {
		t.Errorf("status:\n%s%v", b.String(), err)
	}
	if err := printStatus(&b, read("+OK\r\n")); err == nil {
		t.Error("status: a simple string was accepted as a map")
	}
}

func TestWithSubcommands(t *testing.T) {
	in := "skiff 0.1.0: a store.\n\nUsage:\n  skiff [server] [flags]   run a node\n\nFlags:\n  --x\n"
	got := withSubcommands(in)
	if !strings.HasPrefix(got, "skiff 0.1.0: a store.\n\n"+subcommandUsage+"\nFlags:\n  --x\n") {
		t.Fatalf("got %q", got)
	}
	if withSubcommands("no usage here") != "no usage here" {
		t.Fatal("text without a Usage block changed")
	}
}
