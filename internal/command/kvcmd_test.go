package command

import (
	"errors"
	"strings"
	"testing"
)

// TestKVCommands_RESP pins the SKIFF.KV.* commands as RESP clients see
// them: replies and error strings.
func TestKVCommands_RESP(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5001")
	srvRun(t, sc, []srvCase{
		{srvA("SKIFF.KV.GET", "k"), "$-1\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "v"), "*2\r\n:1\r\n:1\r\n"},
		{srvA("SKIFF.KV.GET", "k"), "*3\r\n$1\r\nv\r\n:1\r\n:0\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "NX"), "*2\r\n:0\r\n:1\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "IFREV", "9"), "*2\r\n:0\r\n:1\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "ifrev", "1"), "*2\r\n:1\r\n:4\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "NX", "IFREV", "1"), "-ERR invalid request: NX and IFREV cannot be combined\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "IFREV", "0"), "-ERR invalid revision: a positive integer is required\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "PX", "0"), "-ERR invalid expire time in 'skiff.kv.put' command\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "PX", "x"), "-ERR value is not an integer or out of range\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "PX"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.PUT", "k", "w", "NX", "NX"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.PUT", "", "w"), "-ERR invalid key: the empty key is not allowed\r\n"},
		{srvA("SKIFF.KV.PUT", "k"), "-ERR wrong number of arguments for 'skiff.kv.put' command\r\n"},
		{srvA("RPUSH", "l", "x"), ":1\r\n"},
		{srvA("SKIFF.KV.GET", "l"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{srvA("SKIFF.KV.DEL", "k", "IFREV", "1"), "*2\r\n:0\r\n:0\r\n"},
		{srvA("SKIFF.KV.DEL", "k", "x"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.DEL", "l"), "*2\r\n:1\r\n:7\r\n"},
		{srvA("SKIFF.KV.DEL", "l"), "*2\r\n:0\r\n:0\r\n"},
		{srvA("MSET", "a/1", "1", "a/2", "2", "b", "3"), "+OK\r\n"},
		{srvA("SKIFF.KV.RANGE", "PREFIX", "a/", "LIMIT", "1"), "*3\r\n:9\r\n:1\r\n*1\r\n*4\r\n$3\r\na/1\r\n$1\r\n1\r\n:9\r\n:0\r\n"},
		{srvA("SKIFF.KV.RANGE", "PREFIX", "a/", "AFTER", "a/1", "KEYSONLY"), "*3\r\n:9\r\n:0\r\n*1\r\n*4\r\n$3\r\na/2\r\n$-1\r\n:9\r\n:0\r\n"},
		{srvA("SKIFF.KV.RANGE", "START", "a/2", "END", "k"), "*3\r\n:9\r\n:0\r\n*2\r\n*4\r\n$3\r\na/2\r\n$1\r\n2\r\n:9\r\n:0\r\n*4\r\n$1\r\nb\r\n$1\r\n3\r\n:9\r\n:0\r\n"},
		{srvA("SKIFF.KV.RANGE", "PREFIX", "a", "START", "b"), "-ERR invalid request: PREFIX cannot be combined with START or END\r\n"},
		{srvA("SKIFF.KV.RANGE", "LIMIT", "-1"), "-ERR invalid limit: a non-negative integer is required\r\n"},
		{srvA("SKIFF.KV.RANGE", "LIMIT"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.RANGE", "PREFIX", "a", "PREFIX", "b"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "b", "VALUE", "=", "3", "2", "PUT", "c", "x", "0", "DEL", "b"), "*2\r\n:1\r\n:10\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "b", "EXISTS", "=", "1", "1", "PUT", "c", "y", "0", "PUT", "d", "z", "1000"), "*2\r\n:0\r\n:11\r\n"},
		{srvA("MGET", "b", "c", "d"), "*3\r\n$-1\r\n$1\r\nx\r\n$1\r\nz\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "c", "REV", ">", "0", "0"), "*2\r\n:1\r\n:12\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "c", "SIZE", "=", "1", "0"), "-ERR invalid compare target 'SIZE': VALUE, REV or EXISTS\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "c", "VALUE", "~", "1", "0"), "-ERR invalid compare operator '~': =, !=, < or >\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "c", "EXISTS", "<", "1", "0"), "-ERR invalid EXISTS compare: = or != with 1 or 0\r\n"},
		{srvA("SKIFF.KV.TXN", "1", "c", "REV", "=", "x", "0"), "-ERR invalid revision: a positive integer is required\r\n"},
		{srvA("SKIFF.KV.TXN", "2", "c", "REV", "=", "1", "0"), "-ERR invalid compare count\r\n"},
		{srvA("SKIFF.KV.TXN", "0", "2", "DEL", "c"), "-ERR invalid step count\r\n"},
		{srvA("SKIFF.KV.TXN", "0", "0", "PUT", "c"), "-ERR syntax error\r\n"},
		{srvA("SKIFF.KV.TXN", "0", "0", "PUT", "c", "v", "-1"), "-ERR invalid expire time in 'skiff.kv.txn' command\r\n"},
		{srvA("SKIFF.KV.TXN", "0", "0"), "*2\r\n:1\r\n:13\r\n"},
	})
	// They run inside MULTI as any command does (EXEC's entry takes a
	// revision, its step the next).
	srvRun(t, sc, []srvCase{
		{srvA("MULTI"), "+OK\r\n"},
		{srvA("SKIFF.KV.PUT", "m", "1"), "+QUEUED\r\n"},
		{srvA("SKIFF.KV.GET", "m"), "+QUEUED\r\n"},
		{srvA("EXEC"), "*2\r\n*2\r\n:1\r\n:15\r\n*3\r\n$1\r\n1\r\n:15\r\n:0\r\n"},
	})
	if got := sc.exec("COMMAND", "INFO", "skiff.kv.put"); !strings.Contains(got, "skiff.kv.put") || !strings.Contains(got, "write") {
		t.Fatalf("COMMAND INFO skiff.kv.put: %q", got)
	}
}

func TestAPIError_Mapping(t *testing.T) {
	for msg, want := range map[string]error{
		"WRONGTYPE Operation against a key holding the wrong kind of value": nil,
		"ERR syntax error":                           ErrInvalidArgument,
		"ERR invalid revision: whatever":             ErrInvalidArgument,
		"ERR DB index is out of range":               nil,
		"CLUSTERDOWN no leader elected; retry later": nil,
	} {
		err := apiError(msg)
		if want != nil && !errors.Is(err, want) {
			t.Errorf("%q -> %v, want %v", msg, err, want)
		}
		if ReplyText(err) != msg && want == nil {
			t.Errorf("%q -> %v -> %q: not the same reply", msg, err, ReplyText(err))
		}
	}
	if err := apiError("ERR leadership transfer in progress"); errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a server-side ERR became ErrInvalidArgument: %v", err)
	}
}
