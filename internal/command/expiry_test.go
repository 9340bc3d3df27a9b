package command

import (
	"context"
	"strconv"
	"testing"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

const fakeT0 = int64(1_800_000_000_000)

// clockSrv returns a server whose command clock is *now (unix ms), so TTL
// arithmetic can be asserted exactly.
func clockSrv(t *testing.T, now *int64) *srvConn {
	t.Helper()
	eng := engine.New(store.New(store.Options{}), engine.Options{Now: func() int64 { return *now }})
	s, err := NewServer(context.Background(), Options{Engine: eng, Now: func() int64 { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return srvDial(t, s, "127.0.0.1:5999")
}

func i64(n int64) string { return ":" + strconv.FormatInt(n, 10) + "\r\n" }

// TestExpiry_RelativeBecomesAbsolute: every relative TTL option is turned into
// the absolute deadline now+ttl, where now is the command's clock.
func TestExpiry_RelativeBecomesAbsolute(t *testing.T) {
	now := fakeT0
	sc := clockSrv(t, &now)
	srvRun(t, sc, []srvCase{
		{srvA("SET", "a", "v", "EX", "10"), "+OK\r\n"},
		{srvA("PEXPIRETIME", "a"), i64(fakeT0 + 10_000)},
		{srvA("SET", "b", "v", "PX", "1500"), "+OK\r\n"},
		{srvA("PEXPIRETIME", "b"), i64(fakeT0 + 1500)},
		{srvA("SET", "c", "v", "EXAT", "1800000100"), "+OK\r\n"},
		{srvA("PEXPIRETIME", "c"), i64(1_800_000_100_000)},
		{srvA("SET", "d", "v", "PXAT", "1800000000123"), "+OK\r\n"},
		{srvA("PEXPIRETIME", "d"), i64(1_800_000_000_123)},
		{srvA("SETEX", "e", "7", "v"), "+OK\r\n"},
		{srvA("PTTL", "e"), i64(7000)},
		{srvA("PSETEX", "f", "250", "v"), "+OK\r\n"},
		{srvA("PTTL", "f"), i64(250)},
		{srvA("GETEX", "f", "PX", "900"), "$1\r\nv\r\n"},
		{srvA("PTTL", "f"), i64(900)},
		{srvA("EXPIRE", "f", "3"), ":1\r\n"},
		{srvA("PTTL", "f"), i64(3000)},
		{srvA("PEXPIRE", "f", "42"), ":1\r\n"},
		{srvA("PTTL", "f"), i64(42)},
		{srvA("TTL", "f"), i64(0)},
		{srvA("EXPIREAT", "f", "1800000060"), ":1\r\n"},
		{srvA("TTL", "f"), i64(60)},
	})
}

// TestExpiry_AtTheDeadline: a key is readable until its deadline and absent
// from the deadline on, for reads and writes alike.
func TestExpiry_AtTheDeadline(t *testing.T) {
	now := fakeT0
	sc := clockSrv(t, &now)
	srvRun(t, sc, []srvCase{
		{srvA("SET", "k", "v", "PX", "100"), "+OK\r\n"},
		{srvA("INCR", "n"), ":1\r\n"},
		{srvA("PEXPIRE", "n", "100"), ":1\r\n"},
	})
	now = fakeT0 + 99
	srvRun(t, sc, []srvCase{
		{srvA("GET", "k"), "$1\r\nv\r\n"},
		{srvA("PTTL", "k"), i64(1)},
		{srvA("EXISTS", "k"), ":1\r\n"},
	})
	now = fakeT0 + 100
	srvRun(t, sc, []srvCase{
		{srvA("GET", "k"), "$-1\r\n"},
		{srvA("TTL", "k"), ":-2\r\n"},
		{srvA("EXISTS", "k", "n"), ":0\r\n"},
		{srvA("TYPE", "k"), "+none\r\n"},
		{srvA("INCR", "n"), ":1\r\n"}, // the expired counter restarts
		{srvA("PTTL", "n"), ":-1\r\n"},
		{srvA("SET", "k", "new", "NX"), "+OK\r\n"},
		{srvA("TTL", "k"), ":-1\r\n"},
		{srvA("SET", "g", "v", "EX", "1"), "+OK\r\n"},
		{srvA("GETEX", "g", "PXAT", strconv.FormatInt(fakeT0+50, 10)), "$1\r\nv\r\n"}, // deadline in the past deletes
		{srvA("EXISTS", "g"), ":0\r\n"},
		{srvA("SET", "p", "v", "EX", "5"), "+OK\r\n"},
		{srvA("PERSIST", "p"), ":1\r\n"},
	})
	now = fakeT0 + 10_000
	srvRun(t, sc, []srvCase{
		{srvA("GET", "p"), "$1\r\nv\r\n"},
	})
}

// TestStrings_Table covers reply shapes the transcripts do not reach.
func TestStrings_Table(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5998")
	srvRun(t, sc, []srvCase{
		{srvA("SET", "k", "v", "GET", "NX"), "$-1\r\n"},
		{srvA("GET", "k"), "$1\r\nv\r\n"},
		{srvA("SET", "k", "w", "NX", "GET"), "$1\r\nv\r\n"},
		{srvA("GET", "k"), "$1\r\nv\r\n"},
		{srvA("SET", "k", "x", "XX", "GET"), "$1\r\nv\r\n"},
		{srvA("GET", "k"), "$1\r\nx\r\n"},
		{srvA("SET", "bin\x00key", "a\r\nb"), "+OK\r\n"},
		{srvA("GET", "bin\x00key"), "$4\r\na\r\nb\r\n"},
		{srvA("APPEND", "k", ""), ":1\r\n"},
		{srvA("SETRANGE", "k", "3", "yz"), ":5\r\n"},
		{srvA("GET", "k"), "$5\r\nx\x00\x00yz\r\n"},
		{srvA("MSETNX", "k", "1"), ":0\r\n"},
		{srvA("INCRBY", "cnt", "-9223372036854775808"), ":-9223372036854775808\r\n"},
		{srvA("DECR", "cnt"), "-ERR increment or decrement would overflow\r\n"},
		{srvA("INCRBYFLOAT", "f", "1e2"), "$3\r\n100\r\n"},
		{srvA("INCRBYFLOAT", "f", "-0.25"), "$5\r\n99.75\r\n"},
		{srvA("GETDEL", "f"), "$5\r\n99.75\r\n"},
		{srvA("STRLEN", "f"), ":0\r\n"},
	})
}

// TestHRandField_HugeNegativeCountIsRefused: bad input costs nothing: a
// repeating count is bounded instead of allocating |count| entries.
func TestHRandField_HugeNegativeCountIsRefused(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5997")
	srvRun(t, sc, []srvCase{
		{srvA("HSET", "h", "f", "v"), ":1\r\n"},
		{srvA("HRANDFIELD", "h", "-1000000000000"), "-ERR value is out of range\r\n"},
		{srvA("HRANDFIELD", "h", "-3"), "*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n"},
		{srvA("SADD", "s", "m"), ":1\r\n"},
		{srvA("SRANDMEMBER", "s", "-1000000000000"), "-ERR value is out of range\r\n"},
		{srvA("SRANDMEMBER", "s", "-2"), "*2\r\n$1\r\nm\r\n$1\r\nm\r\n"},
	})
}
