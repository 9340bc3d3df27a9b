package command

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// srvNew returns a Server over an in-memory engine, listening (for INFO and
// CONFIG) on 127.0.0.1:6399.
func srvNew(t *testing.T, params map[string]string) *Server {
	t.Helper()
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := NewServer(context.Background(), Options{Engine: eng, Version: "9.9.9-test", RESPAddr: "127.0.0.1:6399", Params: params})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// srvConn is one fake connection: a registered Client and its reply writer.
type srvConn struct {
	t      *testing.T
	s      *Server
	c      *Client
	out    bytes.Buffer
	w      *resp.Writer
	killed bool
}

func srvDial(t *testing.T, s *Server, addr string) *srvConn {
	t.Helper()
	sc := &srvConn{t: t, s: s}
	sc.c = s.NewClient(addr, "127.0.0.1:6399")
	sc.c.Kill = func() { sc.killed = true }
	sc.w = resp.NewWriter(&sc.out)
	t.Cleanup(func() { s.RemoveClient(sc.c) })
	return sc
}

// exec runs one command and returns the raw reply bytes.
func (sc *srvConn) exec(args ...string) string {
	sc.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	sc.s.Exec(sc.c, argv, sc.w)
	if err := sc.w.Flush(); err != nil {
		sc.t.Fatal(err)
	}
	r := sc.out.String()
	sc.out.Reset()
	return r
}

// srvCase is one command and its exact expected reply.
type srvCase struct {
	args []string
	want string
}

func srvRun(t *testing.T, sc *srvConn, cases []srvCase) {
	t.Helper()
	for _, tc := range cases {
		if got := sc.exec(tc.args...); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
}

func srvA(s ...string) []string { return s }

func TestConnection_PingEchoSelect(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("PING"), "+PONG\r\n"},
		{srvA("ping", "hi"), "$2\r\nhi\r\n"},
		{srvA("PING", "a", "b"), "-ERR wrong number of arguments for 'ping' command\r\n"},
		{srvA("ECHO", ""), "$0\r\n\r\n"},
		{srvA("ECHO"), "-ERR wrong number of arguments for 'echo' command\r\n"},
		{srvA("SELECT", "16"), "-ERR DB index is out of range\r\n"},
		{srvA("SELECT", "-1"), "-ERR DB index is out of range\r\n"},
		{srvA("SELECT", "01"), "-ERR value is not an integer or out of range\r\n"},
		{srvA("SELECT", "1.5"), "-ERR value is not an integer or out of range\r\n"},
		{srvA("SELECT", "99999999999999999999"), "-ERR value is not an integer or out of range\r\n"},
		{srvA("SELECT", "2147483648"), "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
		{srvA("SELECT", "15"), "+OK\r\n"},
	})
	if sc.c.DB != 15 {
		t.Fatalf("DB = %d after SELECT 15", sc.c.DB)
	}
}

func TestConnection_Hello(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	id := "1"
	hello2 := "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:" + id +
		"\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
	hello3 := "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:" + id +
		"\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
	srvRun(t, sc, []srvCase{
		{srvA("HELLO"), hello2},
		{srvA("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n"},
		{srvA("HELLO", "1"), "-NOPROTO unsupported protocol version\r\n"},
		{srvA("HELLO", "abc"), "-ERR Protocol version is not an integer or out of range\r\n"},
		{srvA("HELLO", "3", "FOO"), "-ERR Syntax error in HELLO option 'FOO'\r\n"},
		{srvA("HELLO", "3", "AUTH", "a"), "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
		{srvA("HELLO", "3", "SETNAME", "a b"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{srvA("HELLO", "3", "AUTH", "bob", "x"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		// Still RESP2: every failed HELLO above left the protocol alone.
		{srvA("CLIENT", "GETNAME"), "$-1\r\n"},
		// No password: the default user accepts any password.
		{srvA("HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "conn1"), hello3},
		{srvA("CLIENT", "GETNAME"), "$5\r\nconn1\r\n"},
		{srvA("CLIENT", "GETNAME", "x"), "-ERR wrong number of arguments for 'client|getname' command\r\n"},
		{srvA("PING", "x"), "$1\r\nx\r\n"},
		{srvA("CLIENT", "ID"), ":1\r\n"},
		{srvA("CONFIG", "GET", "hz"), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"},
		{srvA("HELLO", "2"), hello2},
		{srvA("CONFIG", "GET", "hz"), "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"},
	})
	if sc.c.Proto != 2 || sc.w.Proto() != 2 {
		t.Fatalf("proto client=%d writer=%d after HELLO 2", sc.c.Proto, sc.w.Proto())
	}
}

func TestConnection_AuthWithoutPassword(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("AUTH", "x"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"},
		{srvA("AUTH", "default", "x"), "+OK\r\n"},
		{srvA("AUTH", "bob", "x"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{srvA("AUTH", "a", "b", "c"), "-ERR syntax error\r\n"},
		{srvA("AUTH"), "-ERR wrong number of arguments for 'auth' command\r\n"},
	})
}

func TestConnection_AuthWithPassword(t *testing.T) {
	s := srvNew(t, map[string]string{"requirepass": "secret"})
	sc := srvDial(t, s, "127.0.0.1:5001")
	noauth := "-NOAUTH Authentication required.\r\n"
	helloNoAuth := "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
	srvRun(t, sc, []srvCase{
		{srvA("PING"), noauth},
		{srvA("CLIENT", "ID"), noauth},
		// Unknown (sub)commands and arity errors come before NOAUTH, as in Redis.
		{srvA("NOPE"), "-ERR unknown command 'NOPE', with args beginning with: \r\n"},
		{srvA("CLIENT", "NOPE"), "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n"},
		{srvA("GET"), "-ERR wrong number of arguments for 'get' command\r\n"},
		{srvA("HELLO"), helloNoAuth},
		{srvA("HELLO", "3"), helloNoAuth},
		{srvA("HELLO", "3", "AUTH", "default", "bad"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{srvA("AUTH", "wrong"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{srvA("AUTH", "default", "wrong"), "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{srvA("PING"), noauth},
		{srvA("AUTH", "secret"), "+OK\r\n"},
		{srvA("PING"), "+PONG\r\n"},
		{srvA("SELECT", "3"), "+OK\r\n"},
		// RESET forgets the authentication when a password is set.
		{srvA("RESET"), "+RESET\r\n"},
		{srvA("PING"), noauth},
		{srvA("AUTH", "default", "secret"), "+OK\r\n"},
		{srvA("PING"), "+PONG\r\n"},
		{srvA("QUIT"), "+OK\r\n"},
	})
	if sc.c.DB != 0 {
		t.Errorf("DB = %d after RESET", sc.c.DB)
	}
	if !sc.c.CloseAfterReply {
		t.Error("QUIT did not set CloseAfterReply")
	}
	sc2 := srvDial(t, s, "127.0.0.1:5002")
	if got := sc2.exec("HELLO", "3", "AUTH", "default", "secret"); !strings.HasPrefix(got, "%7\r\n") {
		t.Fatalf("HELLO 3 AUTH: %q", got)
	}
	if !sc2.c.Authed {
		t.Fatal("HELLO AUTH did not authenticate")
	}
}

func TestConnection_Reset(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	if got := sc.exec("HELLO", "3", "SETNAME", "n"); !strings.HasPrefix(got, "%7\r\n") {
		t.Fatalf("HELLO 3: %q", got)
	}
	srvRun(t, sc, []srvCase{
		{srvA("SELECT", "2"), "+OK\r\n"},
		{srvA("CLIENT", "NO-EVICT", "on"), "+OK\r\n"},
		{srvA("RESET", "x"), "-ERR wrong number of arguments for 'reset' command\r\n"},
		{srvA("RESET"), "+RESET\r\n"},
		{srvA("CLIENT", "GETNAME"), "$-1\r\n"},
	})
	if sc.c.DB != 0 || sc.c.Proto != 2 || sc.w.Proto() != 2 || sc.c.noEvict.Load() || !sc.c.Authed {
		t.Fatalf("after RESET: db=%d proto=%d/%d noevict=%v authed=%v", sc.c.DB, sc.c.Proto, sc.w.Proto(), sc.c.noEvict.Load(), sc.c.Authed)
	}
}

func TestConnection_SelectThenKeys(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("SET", "k", "v"), "+OK\r\n"},
		{srvA("SELECT", "1"), "+OK\r\n"},
		{srvA("GET", "k"), "$-1\r\n"},
		{srvA("SELECT", "0"), "+OK\r\n"},
		{srvA("GET", "k"), "$1\r\nv\r\n"},
	})
}
