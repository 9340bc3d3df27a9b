package command

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/resp"
)

// The command path without sockets or a log (the engine applies directly):
// what MULTI's check in Exec must not slow down.
func benchExec(b *testing.B, batching bool, depth int, args ...string) {
	s := srvNew(&testing.T{}, nil)
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Batching = batching
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
		if (i+1)%depth == 0 {
			s.FlushBatch(c, w)
			_ = w.Flush()
			out.Reset()
		}
	}
}

func BenchmarkExec_GET(b *testing.B)        { benchExec(b, true, 1, "GET", "key:000000000001") }
func BenchmarkExec_SET(b *testing.B)        { benchExec(b, false, 1, "SET", "key:000000000001", "xxx") }
func BenchmarkExec_SETBatch16(b *testing.B) { benchExec(b, true, 16, "SET", "key:000000000001", "xxx") }

func TestMulti_Basics(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("SET", "a", "1"), "+OK\r\n"},
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("GET", "a"), "+QUEUED\r\n"},
		{srvA("SET", "a", "2"), "+QUEUED\r\n"},
		{srvA("GET", "a"), "+QUEUED\r\n"},
		{srvA("PING"), "+QUEUED\r\n"},
		{srvA("INCR", "a"), "+QUEUED\r\n"},
		{srvA("LPUSH", "a", "x"), "+QUEUED\r\n"},
		{srvA("EXEC"), "*6\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n+PONG\r\n:3\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{srvA("GET", "a"), "$1\r\n3\r\n"},
	})
}

// A watched key that expires between WATCH and EXEC aborts EXEC; one that had
// already expired when it was watched does not (Redis 7.0).
func TestMulti_WatchedKeyExpires(t *testing.T) {
	now := fakeT0
	sc := clockSrv(t, &now)
	srvRun(t, sc, []srvCase{
		{srvA("SET", "k", "v", "PX", "100"), "+OK\r\n"},
		{srvA("WATCH", "k"), "+OK\r\n"},
	})
	now += 100
	srvRun(t, sc, []srvCase{
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("SET", "x", "1"), "+QUEUED\r\n"},
		{srvA("EXEC"), "*-1\r\n"},
		{srvA("EXISTS", "x"), ":0\r\n"},
		{srvA("WATCH", "k"), "+OK\r\n"}, // expired already: absent
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("SET", "x", "2"), "+QUEUED\r\n"},
		{srvA("EXEC"), "*1\r\n+OK\r\n"},
		// Every command of a transaction runs at EXEC's time.
		{srvA("SET", "t", "v", "PX", "50"), "+OK\r\n"},
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("PTTL", "t"), "+QUEUED\r\n"},
		{srvA("SET", "u", "v", "PX", "70"), "+QUEUED\r\n"},
		{srvA("PTTL", "u"), "+QUEUED\r\n"},
	})
	now += 10
	srvRun(t, sc, []srvCase{
		{srvA("EXEC"), "*3\r\n:40\r\n+OK\r\n:70\r\n"},
	})
}

// Queued arguments are copies: the connection's read buffer is reused.
func TestMulti_QueuedArgsAreCopies(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	sc.exec("MULTI")
	args := [][]byte{[]byte("SET"), []byte("key"), []byte("val")}
	s.Exec(sc.c, args, sc.w)
	copy(args[1], "XXX")
	copy(args[2], "YYY")
	srvRun(t, sc, []srvCase{
		{srvA("EXEC"), "+QUEUED\r\n*1\r\n+OK\r\n"},
		{srvA("GET", "key"), "$3\r\nval\r\n"},
	})
}

// Commands run by EXEC count in INFO commandstats, as in Redis.
func TestMulti_CommandStats(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("INCR", "n"), "+QUEUED\r\n"},
		{srvA("INCR", "n"), "+QUEUED\r\n"},
		{srvA("GET", "n"), "+QUEUED\r\n"},
		{srvA("LPUSH", "n", "x"), "+QUEUED\r\n"},
		{srvA("EXEC"), "*4\r\n:1\r\n:2\r\n$1\r\n2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	})
	info := sc.exec("INFO", "commandstats")
	for _, want := range []string{"cmdstat_incr:calls=2,", "cmdstat_get:calls=1,", "cmdstat_exec:calls=1,", "cmdstat_lpush:calls=1,"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO commandstats lacks %q:\n%s", want, info)
		}
	}
	if !strings.Contains(info, "cmdstat_lpush:calls=1,usec=") || !strings.Contains(info, "failed_calls=1") {
		t.Errorf("the failed LPUSH is not counted:\n%s", info)
	}
}

// A pipeline that ends with EXEC: the writes before MULTI are proposed
// first, and the transaction after them.
func TestMulti_AfterBatchedWrites(t *testing.T) {
	s := srvNew(t, nil)
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Batching = true
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	for _, cmd := range [][]string{{"SET", "a", "1"}, {"MULTI"}, {"GET", "a"}, {"SET", "a", "2"}, {"EXEC"}, {"SET", "a", "3"}, {"GET", "a"}} {
		argv := make([][]byte, len(cmd))
		for i, a := range cmd {
			argv[i] = []byte(a)
		}
		s.Exec(c, argv, w)
	}
	s.FlushBatch(c, w)
	_ = w.Flush()
	want := "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$1\r\n1\r\n+OK\r\n+OK\r\n$1\r\n3\r\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
}

// BenchmarkExec_Txn is MULTI, SET, GET, EXEC: one Txn with a write and a
// read step (no log: the engine applies directly).
func BenchmarkExec_Txn(b *testing.B) {
	s := srvNew(&testing.T{}, nil)
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	cmds := [][][]byte{{[]byte("MULTI")}, {[]byte("SET"), []byte("k"), []byte("v")}, {[]byte("GET"), []byte("k")}, {[]byte("EXEC")}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, a := range cmds {
			s.Exec(c, a, w)
		}
		_ = w.Flush()
		out.Reset()
	}
}
