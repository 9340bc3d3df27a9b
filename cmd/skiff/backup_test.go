package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node/nodetest"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(kv ...string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1], true
			}
		}
		return "", false
	}
}

func cli(run func([]string, func(string) (string, bool), *bytes.Buffer, *bytes.Buffer) int, env func(string) (string, bool), args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := run(args, env, &o, &e)
	return code, o.String(), e.String()
}

func backupCLI(args []string, env func(string) (string, bool), o, e *bytes.Buffer) int {
	return runBackup(args, env, o, e)
}

func restoreCLI(args []string, env func(string) (string, bool), o, e *bytes.Buffer) int {
	return runRestore(args, env, o, e)
}

// TestBackupCLI_RoundTrip: `skiff backup` from one node (with a password)
// and `skiff restore` into another give the second the first's data; a
// damaged file is refused before it is sent.
func TestBackupCLI_RoundTrip(t *testing.T) {
	src := nodetest.Start(t, func(c *config.Config) { c.RequirePass = "sesame" })
	rc := dialRESP(t, src.Addr)
	if v, err := rc.do("AUTH", "sesame"); err != nil || v.Type != '+' {
		t.Fatalf("AUTH: %v %v", render(v), err)
	}
	waitWritable(t, rc)
	for i := range 20 {
		if v, err := rc.do("SET", "k"+strconv.Itoa(i), "v", "EX", "3600"); err != nil || v.Type != '+' {
			t.Fatalf("SET: %v %v", render(v), err)
		}
	}
	for _, args := range [][]string{{"RPUSH", "l", "a", "b"}, {"HSET", "h", "f", "v"}, {"SADD", "s", "m"}, {"ZADD", "z", "1", "m"}} {
		if v, err := rc.do(args...); err != nil || v.Type != ':' {
			t.Fatalf("%s: %v %v", args[0], render(v), err)
		}
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "b.skiffbak")
	code, out, errOut := cli(backupCLI, envOf("SKIFF_PASSWORD", "sesame"), "--to", file, "--addr", src.HTTPAddr())
	if code != 0 || !strings.Contains(out, "wrote "+file) || !strings.Contains(out, "revision ") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(data, []byte("SKIFFBAK")) {
		t.Fatalf("backup file: %v", err)
	}
	// Without the password: refused.
	code, _, errOut = cli(backupCLI, noEnv, "--to", filepath.Join(dir, "x"), "--addr", src.HTTPAddr())
	if code != 1 || !strings.Contains(errOut, "unauthenticated") {
		t.Fatalf("backup without the password: exit %d %s", code, errOut)
	}
	// To stdout.
	code, out, errOut = cli(backupCLI, noEnv, "--to", "-", "--addr", "http://"+src.HTTPAddr(), "--password", "sesame")
	if code != 0 || !strings.HasPrefix(out, "SKIFFBAK") || !strings.Contains(errOut, "wrote -") {
		t.Fatalf("backup to stdout: exit %d, %d bytes, %s", code, len(out), errOut)
	}

	dst := nodetest.Start(t, nil)
	bad := bytes.Clone(data)
	bad[len(bad)-10] ^= 1
	badFile := filepath.Join(dir, "bad.skiffbak")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	before := dst.Store().Digest()
	code, _, errOut = cli(restoreCLI, noEnv, "--from", badFile, "--addr", dst.HTTPAddr())
	if code != 1 || !strings.Contains(errOut, "not a valid backup (nothing was sent)") || !strings.Contains(errOut, "checksum") {
		t.Fatalf("restore of a damaged file: exit %d %s", code, errOut)
	}
	if dst.Store().Digest() != before {
		t.Fatal("a refused restore changed the node")
	}
	code, out, errOut = cli(restoreCLI, envOf("SKIFF_HTTP_ADDR", dst.HTTPAddr()), "--from", file)
	if code != 0 || !strings.Contains(out, "now holds "+file) {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if dst.Store().Digest() != src.Store().Digest() {
		t.Fatal("the restored node holds other data")
	}
}

// TestBackupCLI_NeverLeavesAPartialFile: a transfer cut short, or an answer
// that is not a valid backup, leaves no file (and no temporary file).
func TestBackupCLI_NeverLeavesAPartialFile(t *testing.T) {
	var short atomic.Bool // answer a short body instead of cutting the transfer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if short.Load() {
			_, _ = w.Write([]byte("SKIFFBAK\x01\x00\x00"))
			return
		}
		_, _ = w.Write([]byte("SKIFFBAK\x01"))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "b.skiffbak")
	code, _, errOut := cli(backupCLI, noEnv, "--to", file, "--addr", srv.URL)
	if code != 1 || !strings.Contains(errOut, "transfer failed") || !strings.Contains(errOut, "nothing was written to") {
		t.Fatalf("cut transfer: exit %d %s", code, errOut)
	}
	short.Store(true)
	code, _, errOut = cli(backupCLI, noEnv, "--to", file, "--addr", srv.URL)
	if code != 1 || !strings.Contains(errOut, "invalid") {
		t.Fatalf("short answer: exit %d %s", code, errOut)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left behind: %v", ents)
	}
	srv.Close()
	code, _, errOut = cli(backupCLI, noEnv, "--to", file, "--addr", srv.URL)
	if code != 1 || errOut == "" {
		t.Fatalf("no server: exit %d %s", code, errOut)
	}
}

func TestBackupCLI_Usage(t *testing.T) {
	for _, tc := range []struct {
		run  func([]string, func(string) (string, bool), *bytes.Buffer, *bytes.Buffer) int
		args []string
		code int
		out  string
	}{
		{backupCLI, []string{"--help"}, 0, "Usage: skiff backup --to FILE"},
		{backupCLI, []string{"help"}, 0, "Usage: skiff backup --to FILE"},
		{backupCLI, nil, 2, "--to FILE is required"},
		{backupCLI, []string{"--to", "f", "extra"}, 2, `unexpected argument "extra"`},
		{restoreCLI, []string{"-h"}, 0, "Usage: skiff restore --from FILE"},
		{restoreCLI, []string{"--to", "x"}, 2, "flag provided but not defined"},
		{restoreCLI, []string{"--from", filepath.Join(t.TempDir(), "none")}, 1, "no such file"},
	} {
		code, out, errOut := cli(tc.run, noEnv, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.out) {
			t.Errorf("%v: exit %d\n%s%s\nwant exit %d and %q", tc.args, code, out, errOut, tc.code, tc.out)
		}
	}
}
