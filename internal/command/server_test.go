package command

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServer_DBSizeFlushSwap(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("DBSIZE"), ":0\r\n"},
		{srvA("MSET", "a", "1", "b", "2"), "+OK\r\n"},
		{srvA("DBSIZE"), ":2\r\n"},
		{srvA("DBSIZE", "x"), "-ERR wrong number of arguments for 'dbsize' command\r\n"},
		{srvA("SWAPDB", "0"), "-ERR wrong number of arguments for 'swapdb' command\r\n"},
		{srvA("SWAPDB", "a", "1"), "-ERR invalid first DB index\r\n"},
		{srvA("SWAPDB", "1", "a"), "-ERR invalid second DB index\r\n"},
		{srvA("SWAPDB", "2147483648", "0"), "-ERR invalid first DB index\r\n"},
		{srvA("SWAPDB", "0", "16"), "-ERR DB index is out of range\r\n"},
		{srvA("SWAPDB", "-1", "0"), "-ERR DB index is out of range\r\n"},
		{srvA("SWAPDB", "0", "1"), "+OK\r\n"},
		{srvA("DBSIZE"), ":0\r\n"},
		{srvA("SELECT", "1"), "+OK\r\n"},
		{srvA("DBSIZE"), ":2\r\n"},
		{srvA("FLUSHDB", "x"), "-ERR syntax error\r\n"},
		{srvA("FLUSHDB", "async", "x"), "-ERR syntax error\r\n"},
		{srvA("FLUSHDB", "ASYNC"), "+OK\r\n"},
		{srvA("DBSIZE"), ":0\r\n"},
		{srvA("SET", "c", "3"), "+OK\r\n"},
		{srvA("SELECT", "0"), "+OK\r\n"},
		{srvA("SET", "d", "4"), "+OK\r\n"},
		{srvA("FLUSHALL", "sync"), "+OK\r\n"},
		{srvA("DBSIZE"), ":0\r\n"},
		{srvA("SELECT", "1"), "+OK\r\n"},
		{srvA("DBSIZE"), ":0\r\n"},
		{srvA("FLUSHALL", "x"), "-ERR syntax error\r\n"},
	})
}

func TestServer_TimeLastSaveSave(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	before := time.Now().UnixMicro()
	got := sc.exec("TIME")
	after := time.Now().UnixMicro()
	m := regexp.MustCompile(`^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("TIME: %q", got)
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	usec, _ := strconv.ParseInt(m[2], 10, 64)
	if us := sec*1e6 + usec; us < before || us > after || usec >= 1e6 {
		t.Fatalf("TIME %d.%06d not within [%d, %d]", sec, usec, before, after)
	}
	if got, want := sc.exec("LASTSAVE"), ":"+strconv.FormatInt(s.started.Unix(), 10)+"\r\n"; got != want {
		t.Fatalf("LASTSAVE = %q, want server start %q", got, want)
	}
	srvRun(t, sc, []srvCase{
		{srvA("SAVE"), "+OK\r\n"},
		{srvA("BGSAVE"), "+Background saving started\r\n"},
		{srvA("BGSAVE", "SCHEDULE"), "+Background saving started\r\n"},
		{srvA("BGSAVE", "x"), "-ERR syntax error\r\n"},
		{srvA("TIME", "x"), "-ERR wrong number of arguments for 'time' command\r\n"},
	})
	s.fam.lastSave.Store(12345)
	if got := sc.exec("LASTSAVE"); got != ":12345\r\n" {
		t.Fatalf("LASTSAVE after SAVE = %q", got)
	}
}

func TestServer_ClusterDisabled(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	const off = "-ERR This instance has cluster support disabled\r\n"
	srvRun(t, sc, []srvCase{
		{srvA("CLUSTER", "INFO"), off},
		{srvA("cluster", "slots"), off},
		{srvA("CLUSTER", "SHARDS"), off},
		{srvA("CLUSTER", "NODES"), off},
		{srvA("CLUSTER", "MYID"), off},
		{srvA("CLUSTER", "KEYSLOT", "k"), off},
		{srvA("CLUSTER", "HELP"), off},
		{srvA("CLUSTER", "FOO"), "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"},
		{srvA("CLUSTER"), "-ERR wrong number of arguments for 'cluster' command\r\n"},
		{srvA("CLUSTER", "KEYSLOT"), "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"},
	})
}

// clientLine matches a CLIENT LIST line and captures id, addr, name, age,
// flags, db, cmd, resp, lib-name and lib-ver.
var clientLine = regexp.MustCompile(`^id=(\d+) addr=(\S*) laddr=127\.0\.0\.1:6399 fd=-1 name=(\S*) age=(\d+) idle=\d+ flags=(\S+) db=(\d+) sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=(\S+) user=default redir=-1 resp=(\d) lib-name=(\S*) lib-ver=(\S*)$`)

// srvBulk returns the payload of a RESP2 bulk reply.
func srvBulk(t *testing.T, reply string) string {
	t.Helper()
	head, body, ok := strings.Cut(reply, "\r\n")
	if !ok || !strings.HasPrefix(head, "$") || !strings.HasSuffix(body, "\r\n") {
		t.Fatalf("not a bulk reply: %q", reply)
	}
	body = strings.TrimSuffix(body, "\r\n")
	if n, _ := strconv.Atoi(head[1:]); n != len(body) {
		t.Fatalf("bulk length %d, payload %d bytes: %q", n, len(body), reply)
	}
	return body
}

func TestClient_ListInfoAndNames(t *testing.T) {
	s := srvNew(t, nil)
	c1 := srvDial(t, s, "127.0.0.1:5001")
	c2 := srvDial(t, s, "127.0.0.1:5002")
	srvRun(t, c1, []srvCase{
		{srvA("CLIENT", "SETNAME", "a b"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{srvA("CLIENT", "SETNAME", "a\nb"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{srvA("CLIENT", "SETNAME", "\xc3\xa9"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{srvA("CLIENT", "SETNAME", "first"), "+OK\r\n"},
		{srvA("CLIENT", "SETINFO", "lib-name", "go-redis(,go1.26)"), "+OK\r\n"},
		{srvA("CLIENT", "SETINFO", "LIB-VER", "9.0 1"), "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n"},
		{srvA("CLIENT", "SETINFO", "lib-ver", "9.0.1"), "+OK\r\n"},
		{srvA("CLIENT", "SETINFO", "foo", "x"), "-ERR Unrecognized option 'foo'\r\n"},
		{srvA("CLIENT", "SETINFO", "lib-name"), "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{srvA("CLIENT", "NO-EVICT", "on"), "+OK\r\n"},
		{srvA("CLIENT", "NO-TOUCH", "ON"), "+OK\r\n"},
		{srvA("CLIENT", "NO-TOUCH", "maybe"), "-ERR syntax error\r\n"},
		{srvA("SELECT", "3"), "+OK\r\n"},
		{srvA("CLIENT", "LIST", "TYPE", "foo"), "-ERR Unknown client type 'foo'\r\n"},
		{srvA("CLIENT", "LIST", "ID", "x"), "-ERR Invalid client ID\r\n"},
		{srvA("CLIENT", "LIST", "foo"), "-ERR syntax error\r\n"},
		{srvA("CLIENT", "LIST", "ID", "999"), "$0\r\n\r\n"},
		{srvA("CLIENT", "LIST", "TYPE", "pubsub"), "$0\r\n\r\n"},
		{srvA("CLIENT", "ID"), ":1\r\n"},
	})
	c2.exec("PING")

	list := srvBulk(t, c1.exec("CLIENT", "LIST"))
	if !strings.HasSuffix(list, "\n") {
		t.Fatalf("CLIENT LIST does not end with a newline: %q", list)
	}
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST has %d lines, want 2: %q", len(lines), list)
	}
	want := [][]string{
		{"1", "127.0.0.1:5001", "first", "eT", "3", "client|list", "2", "go-redis(,go1.26)", "9.0.1"},
		{"2", "127.0.0.1:5002", "", "N", "0", "ping", "2", "", ""},
	}
	for i, line := range lines {
		m := clientLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d does not have Redis's shape: %q", i, line)
		}
		got := []string{m[1], m[2], m[3], m[5], m[6], m[7], m[8], m[9], m[10]}
		if strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d fields %q, want %q", i, got, want[i])
		}
	}
	// Listed in the order asked, unknown IDs skipped.
	byID := strings.Split(srvBulk(t, c1.exec("CLIENT", "LIST", "ID", "2", "77", "1")), "\n")
	if len(byID) != 3 || !strings.HasPrefix(byID[0], "id=2 ") || !strings.HasPrefix(byID[1], "id=1 ") || byID[2] != "" {
		t.Errorf("CLIENT LIST ID 2 77 1 = %q", byID)
	}
	if got := srvBulk(t, c1.exec("CLIENT", "LIST", "TYPE", "normal")); strings.Count(got, "\n") != 2 {
		t.Errorf("CLIENT LIST TYPE normal = %q", got)
	}
	info := srvBulk(t, c1.exec("CLIENT", "INFO"))
	if m := clientLine.FindStringSubmatch(strings.TrimSuffix(info, "\n")); m == nil || m[7] != "client|info" || !strings.HasSuffix(info, "\n") {
		t.Errorf("CLIENT INFO = %q", info)
	}
	// RESP3: CLIENT INFO and LIST are verbatim strings.
	c2.exec("HELLO", "3")
	if got := c2.exec("CLIENT", "INFO"); !strings.HasPrefix(got, "=") || !strings.Contains(got, "\r\ntxt:id=2 ") || !strings.Contains(got, " resp=3 ") {
		t.Errorf("RESP3 CLIENT INFO = %q", got)
	}
}

func TestClient_Kill(t *testing.T) {
	s := srvNew(t, nil)
	c1 := srvDial(t, s, "127.0.0.1:5001")
	c2 := srvDial(t, s, "127.0.0.1:5002")
	c3 := srvDial(t, s, "127.0.0.1:5003")
	srvRun(t, c1, []srvCase{
		{srvA("CLIENT", "KILL"), "-ERR wrong number of arguments for 'client|kill' command\r\n"},
		{srvA("CLIENT", "KILL", "1.2.3.4:5"), "-ERR No such client\r\n"},
		{srvA("CLIENT", "KILL", "ID", "x"), "-ERR client-id should be greater than 0\r\n"},
		{srvA("CLIENT", "KILL", "ID", "0"), "-ERR client-id should be greater than 0\r\n"},
		{srvA("CLIENT", "KILL", "foo", "bar"), "-ERR syntax error\r\n"},
		{srvA("CLIENT", "KILL", "ID", "2", "SKIPME"), "-ERR syntax error\r\n"},
		{srvA("CLIENT", "KILL", "SKIPME", "maybe"), "-ERR syntax error\r\n"},
		{srvA("CLIENT", "KILL", "TYPE", "foo"), "-ERR Unknown client type 'foo'\r\n"},
		{srvA("CLIENT", "KILL", "USER", "bob"), "-ERR No such user 'bob'\r\n"},
		{srvA("CLIENT", "KILL", "TYPE", "master"), ":0\r\n"},
		{srvA("CLIENT", "KILL", "ID", "999"), ":0\r\n"},
	})
	if c2.killed || c3.killed || c1.c.CloseAfterReply {
		t.Fatal("a failed CLIENT KILL killed someone")
	}
	srvRun(t, c1, []srvCase{
		{srvA("CLIENT", "KILL", "127.0.0.1:5002"), "+OK\r\n"},
		{srvA("CLIENT", "KILL", "ID", "3", "LADDR", "127.0.0.1:6399"), ":1\r\n"},
	})
	if !c2.killed || !c3.killed {
		t.Fatalf("killed: c2=%v c3=%v", c2.killed, c3.killed)
	}
	// The new form skips the caller unless SKIPME no.
	if got := c1.exec("CLIENT", "KILL", "ADDR", "127.0.0.1:5001"); got != ":0\r\n" || c1.c.CloseAfterReply {
		t.Fatalf("SKIPME default: %q close=%v", got, c1.c.CloseAfterReply)
	}
	if got := c1.exec("CLIENT", "KILL", "ADDR", "127.0.0.1:5001", "SKIPME", "no"); got != ":1\r\n" || !c1.c.CloseAfterReply || c1.killed {
		t.Fatalf("SKIPME no: %q close=%v killed=%v", got, c1.c.CloseAfterReply, c1.killed)
	}
	// The old form may kill the caller: it replies, then closes.
	c4 := srvDial(t, s, "127.0.0.1:5004")
	if got := c4.exec("CLIENT", "KILL", "127.0.0.1:5004"); got != "+OK\r\n" || !c4.c.CloseAfterReply || c4.killed {
		t.Fatalf("old form on self: %q close=%v killed=%v", got, c4.c.CloseAfterReply, c4.killed)
	}
}

func TestClient_Reply(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("CLIENT", "REPLY", "maybe"), "-ERR syntax error\r\n"},
		{srvA("CLIENT", "REPLY", "OFF"), ""},
		{srvA("PING"), ""},
		{srvA("NOSUCH"), ""},
		{srvA("SET", "k", "v"), ""},
		{srvA("CLIENT", "REPLY", "SKIP"), ""},
		{srvA("CLIENT", "REPLY", "ON"), "+OK\r\n"},
		{srvA("GET", "k"), "$1\r\nv\r\n"},
		{srvA("CLIENT", "REPLY", "SKIP"), ""},
		{srvA("PING", "dropped"), ""},
		{srvA("PING", "kept"), "$4\r\nkept\r\n"},
	})
	// RESET turns replies back on, is answered, and goes back to RESP2.
	sc.exec("HELLO", "3")
	sc.exec("CLIENT", "REPLY", "OFF")
	if got := sc.exec("RESET"); got != "+RESET\r\n" || sc.w.Proto() != 2 {
		t.Fatalf("RESET while muted: %q, proto %d", got, sc.w.Proto())
	}
	// A protocol switch made while muted still reaches the connection.
	sc.exec("CLIENT", "REPLY", "OFF")
	sc.exec("HELLO", "3")
	if got := sc.exec("CLIENT", "REPLY", "ON"); got != "+OK\r\n" || sc.w.Proto() != 3 {
		t.Fatalf("after muted HELLO 3: %q proto %d", got, sc.w.Proto())
	}
}

func TestClient_HelpShape(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	for _, cmd := range []string{"CLIENT", "CONFIG", "COMMAND"} {
		got := sc.exec(cmd, "HELP")
		lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
		n, _ := strconv.Atoi(strings.TrimPrefix(lines[0], "*"))
		if n != len(lines)-1 || lines[1] != "+"+cmd+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" ||
			lines[len(lines)-2] != "+HELP" {
			t.Errorf("%s HELP = %q", cmd, got)
		}
	}
}

func TestConfig_GetSet(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	cfg := func(name, val string) string {
		return "*2\r\n$" + strconv.Itoa(len(name)) + "\r\n" + name + "\r\n$" + strconv.Itoa(len(val)) + "\r\n" + val + "\r\n"
	}
	failed := func(name, why string) string {
		return "-ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why + "\r\n"
	}
	srvRun(t, sc, []srvCase{
		{srvA("CONFIG", "GET"), "-ERR wrong number of arguments for 'config|get' command\r\n"},
		{srvA("CONFIG", "SET", "maxmemory"), "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{srvA("CONFIG", "SET", "maxmemory", "1", "hz"), "-ERR syntax error\r\n"},
		{srvA("CONFIG", "SET", "foo", "bar"), "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"},
		{srvA("CONFIG", "GET", "port"), cfg("port", "6399")},
		{srvA("CONFIG", "GET", "Port"), cfg("Port", "6399")},
		{srvA("CONFIG", "GET", "nosuch"), "*0\r\n"},
		{srvA("CONFIG", "SET", "maxmemory", "100mb"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "maxmemory"), cfg("maxmemory", "104857600")},
		{srvA("CONFIG", "SET", "maxmemory", "1.5gb"), failed("maxmemory", "argument must be a memory value")},
		{srvA("CONFIG", "SET", "maxmemory", "-1"), failed("maxmemory", "argument must be a memory value")},
		{srvA("CONFIG", "SET", "maxmemory", "1KB"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "maxmemory"), cfg("maxmemory", "1024")},
		{srvA("CONFIG", "SET", "maxmemory-policy", "foo"), failed("maxmemory-policy", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")},
		{srvA("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "maxmemory-policy"), cfg("maxmemory-policy", "allkeys-lru")},
		{srvA("CONFIG", "SET", "appendonly", "maybe"), failed("appendonly", "argument must be 'yes' or 'no'")},
		{srvA("CONFIG", "SET", "appendonly", "YES"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "appendonly"), cfg("appendonly", "yes")},
		{srvA("CONFIG", "SET", "databases", "5"), failed("databases", "can't set immutable config")},
		{srvA("CONFIG", "SET", "dir", "/tmp"), failed("dir", "can't set protected config")},
		{srvA("CONFIG", "SET", "hz", "abc"), failed("hz", "argument couldn't be parsed into an integer")},
		{srvA("CONFIG", "SET", "HZ", "-1"), failed("hz", "argument must be between 0 and 2147483647 inclusive")},
		{srvA("CONFIG", "SET", "hz", "1000"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "hz"), cfg("hz", "500")},
		{srvA("CONFIG", "SET", "maxclients", "0"), failed("maxclients", "argument must be between 1 and 4294967295 inclusive")},
		{srvA("CONFIG", "SET", "tcp-keepalive", "01"), failed("tcp-keepalive", "argument couldn't be parsed into an integer")},
		// Atomic: a bad pair anywhere leaves every parameter as it was.
		{srvA("CONFIG", "SET", "hz", "5", "maxmemory-policy", "bad"), failed("maxmemory-policy", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")},
		{srvA("CONFIG", "GET", "hz"), cfg("hz", "500")},
		{srvA("CONFIG", "SET", "hz", "5", "HZ", "6"), failed("HZ", "duplicate parameter")},
		{srvA("CONFIG", "SET", "cluster-enabled", "yes", "foo", "1"), failed("cluster-enabled", "can't set immutable config")},
		{srvA("CONFIG", "SET", "hz", "abc", "foo", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"},
		{srvA("CONFIG", "SET", "hz", "20", "maxmemory", "2mb"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "hz", "HZ", "maxmemory"), "*4\r\n$2\r\nhz\r\n$2\r\n20\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n"},
		{srvA("CONFIG", "SET", "hash-max-ziplist-entries", "100"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "hash-max-*-entries"), "*4\r\n$25\r\nhash-max-listpack-entries\r\n$3\r\n100\r\n$24\r\nhash-max-ziplist-entries\r\n$3\r\n100\r\n"},
		{srvA("CONFIG", "SET", "lua-time-limit", "100"), "+OK\r\n"},
		{srvA("CONFIG", "GET", "busy-reply-threshold"), cfg("busy-reply-threshold", "100")},
		{srvA("CONFIG", "REWRITE"), "-ERR The server is running without a config file\r\n"},
		{srvA("CONFIG", "FOO"), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"},
	})
	if s.params.Get("maxmemory-policy") != "allkeys-lru" {
		t.Fatal("Params.Get does not see CONFIG SET")
	}
	sc.exec("HELLO", "3")
	if got := sc.exec("CONFIG", "GET", "maxmemory"); got != "%1\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n" {
		t.Fatalf("RESP3 CONFIG GET = %q", got)
	}
}

func TestConfig_RequirepassTakesEffect(t *testing.T) {
	s := srvNew(t, nil)
	admin := srvDial(t, s, "127.0.0.1:5001")
	if got := admin.exec("CONFIG", "SET", "requirepass", "pw"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	// Existing connections stay authenticated; new ones must AUTH.
	if got := admin.exec("PING"); got != "+PONG\r\n" {
		t.Fatalf("existing connection: %q", got)
	}
	other := srvDial(t, s, "127.0.0.1:5002")
	srvRun(t, other, []srvCase{
		{srvA("PING"), "-NOAUTH Authentication required.\r\n"},
		{srvA("AUTH", "pw"), "+OK\r\n"},
		{srvA("PING"), "+PONG\r\n"},
	})
}

func TestConfig_ResetStat(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	sc.exec("GET", "x")
	sc.exec("GET")
	sc.exec("INCR")
	if !strings.Contains(sc.exec("INFO", "commandstats"), "cmdstat_get:calls=1,") {
		t.Fatal("GET not counted")
	}
	if got := sc.exec("CONFIG", "RESETSTAT"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	info := srvBulk(t, sc.exec("INFO", "commandstats", "errorstats", "stats"))
	for _, gone := range []string{"cmdstat_get", "errorstat_ERR", "cmdstat_incr"} {
		if strings.Contains(info, gone) {
			t.Errorf("%s survived CONFIG RESETSTAT:\n%s", gone, info)
		}
	}
	if !strings.Contains(info, "cmdstat_config|resetstat:calls=1,") || !strings.Contains(info, "total_error_replies:0\r\n") {
		t.Errorf("after RESETSTAT:\n%s", info)
	}
}

func TestCommand_CountListInfo(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	if got, want := sc.exec("COMMAND", "COUNT"), ":"+strconv.Itoa(s.table.Len())+"\r\n"; got != want {
		t.Fatalf("COMMAND COUNT = %q, want %q", got, want)
	}
	getInfo := "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n" +
		"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n" +
		"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
	srvRun(t, sc, []srvCase{
		{srvA("COMMAND", "INFO", "GET", "nosuch"), "*2\r\n" + getInfo + "$-1\r\n"},
		{srvA("COMMAND", "INFO", "client|id"), "*1\r\n*10\r\n$9\r\nclient|id\r\n:2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"},
		{srvA("COMMAND", "INFO", "lastsave"), "*1\r\n*10\r\n$8\r\nlastsave\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@fast\r\n+@dangerous\r\n*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n"},
		{srvA("COMMAND", "DOCS", "nosuch"), "*0\r\n"},
		{srvA("COMMAND", "DOCS", "ping"), "*2\r\n$4\r\nping\r\n*8\r\n$7\r\nsummary\r\n$41\r\nReturns the server's liveliness response.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"},
		{srvA("COMMAND", "GETKEYS", "get"), "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{srvA("COMMAND", "GETKEYS", "get", "k"), "*1\r\n$1\r\nk\r\n"},
		{srvA("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{srvA("COMMAND", "GETKEYS", "nosuch", "a"), "-ERR Invalid command specified\r\n"},
		{srvA("COMMAND", "GETKEYS", "ping", "x"), "-ERR The command has no key arguments\r\n"},
		{srvA("COMMAND", "GETKEYS", "set", "a"), "-ERR Invalid number of arguments specified for command\r\n"},
		{srvA("COMMAND", "GETKEYS", "object", "encoding", "k"), "*1\r\n$1\r\nk\r\n"},
		{srvA("COMMAND", "GETKEYS", "client", "nosuch"), "-ERR Invalid command specified\r\n"},
		{srvA("COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"), "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RW\r\n+update\r\n"},
		{srvA("COMMAND", "LIST", "FILTERBY", "foo", "x"), "-ERR syntax error\r\n"},
		{srvA("COMMAND", "LIST", "FILTERBY", "pattern"), "-ERR syntax error\r\n"},
		{srvA("COMMAND", "LIST", "FILTERBY", "module", "x"), "*0\r\n"},
		{srvA("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"), "*0\r\n"},
		{srvA("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|s*"), "*2\r\n$14\r\nclient|setinfo\r\n$14\r\nclient|setname\r\n"},
		{srvA("COMMAND", "FOO"), "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
	})
	all := sc.exec("COMMAND")
	if !strings.HasPrefix(all, "*"+strconv.Itoa(s.table.Len())+"\r\n") || !strings.Contains(all, getInfo) {
		t.Fatalf("COMMAND does not list every command's info: %.200q", all)
	}
	list := sc.exec("COMMAND", "LIST")
	for _, name := range []string{"$3\r\nget\r\n", "$11\r\nclient|list\r\n", "$10\r\nconfig|set\r\n", "$13\r\ncommand|count\r\n"} {
		if !strings.Contains(list, name) {
			t.Errorf("COMMAND LIST lacks %q", name)
		}
	}
	cat := sc.exec("COMMAND", "LIST", "FILTERBY", "ACLCAT", "Connection")
	if !strings.Contains(cat, "$4\r\nping\r\n") || strings.Contains(cat, "$3\r\nget\r\n") {
		t.Errorf("FILTERBY ACLCAT connection = %q", cat)
	}
	// COMMAND DOCS of a container nests its subcommands' docs in a map.
	docs := sc.exec("COMMAND", "DOCS", "config")
	if !strings.Contains(docs, "$11\r\nsubcommands\r\n*10\r\n$10\r\nconfig|get\r\n*8\r\n$7\r\nsummary\r\n") {
		t.Errorf("COMMAND DOCS config = %q", docs)
	}
	// RESP3: flags and categories are sets.
	sc.exec("HELLO", "3")
	if got := sc.exec("COMMAND", "INFO", "ping"); !strings.HasPrefix(got, "*1\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n") {
		t.Errorf("RESP3 COMMAND INFO ping = %q", got)
	}
}

func TestCommand_CategoriesMatchRedis(t *testing.T) {
	s := srvNew(t, nil)
	// Categories as redis-server 7.2 reports them.
	for name, want := range map[string]string{
		"get":            "read string fast",
		"set":            "write string slow",
		"del":            "keyspace write slow",
		"ttl":            "keyspace read fast",
		"keys":           "keyspace read slow dangerous",
		"dbsize":         "keyspace read fast",
		"flushall":       "keyspace write slow dangerous",
		"swapdb":         "keyspace write fast dangerous",
		"info":           "slow dangerous",
		"time":           "fast",
		"select":         "fast connection",
		"hello":          "fast connection",
		"client":         "slow",
		"client|kill":    "admin slow dangerous connection",
		"config|get":     "admin slow dangerous",
		"config|help":    "slow",
		"command":        "slow connection",
		"command|docs":   "slow connection",
		"cluster|info":   "slow",
		"save":           "admin slow dangerous",
		"object|freq":    "keyspace read slow",
		"cluster|slaves": "admin slow dangerous",
	} {
		cmd := s.table.lookupFull(name)
		if cmd == nil {
			t.Errorf("%s: not in the table", name)
			continue
		}
		if got := strings.Join(categories(cmd), " "); got != want {
			t.Errorf("%s: categories %q, want %q", name, got, want)
		}
	}
}
