package command

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestZRank_WithScore: Redis 7.2's ZRANK/ZREVRANK WITHSCORE, which the
// 7.0.15 transcripts cannot record.
func TestZRank_WithScore(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5101")
	srvRun(t, sc, []srvCase{
		{srvA("ZADD", "z", "1", "a", "2.5", "b"), ":2\r\n"},
		{srvA("ZRANK", "z", "b", "WITHSCORE"), "*2\r\n:1\r\n$3\r\n2.5\r\n"},
		{srvA("ZREVRANK", "z", "b", "withscore"), "*2\r\n:0\r\n$3\r\n2.5\r\n"},
		{srvA("ZRANK", "z", "nope", "WITHSCORE"), "*-1\r\n"},
		{srvA("ZRANK", "nokey", "a", "WITHSCORE"), "*-1\r\n"},
		{srvA("ZRANK", "z", "nope"), "$-1\r\n"},
		{srvA("ZRANK", "z", "a", "foo"), "-ERR syntax error\r\n"},
		{srvA("ZRANK", "z", "a", "WITHSCORE", "x"), "-ERR wrong number of arguments for 'zrank' command\r\n"},
		{srvA("SET", "str", "v"), "+OK\r\n"},
		{srvA("ZREVRANK", "str", "a", "WITHSCORE"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	})
	sc.exec("HELLO", "3")
	srvRun(t, sc, []srvCase{
		{srvA("ZRANK", "z", "a", "WITHSCORE"), "*2\r\n:0\r\n,1\r\n"},
		{srvA("ZRANK", "z", "nope", "WITHSCORE"), "_\r\n"},
		{srvA("ZRANK", "z", "nope"), "_\r\n"},
	})
}

// TestZSet_ScoresPrintLike72: skiff prints doubles as Redis 7.2 does
// (shortest round trip); 7.0.15 prints %.17g ("1.1000000000000001"), so the
// transcripts avoid such scores.
func TestZSet_ScoresPrintLike72(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5102")
	srvRun(t, sc, []srvCase{
		{srvA("ZADD", "z", "1.1", "a", "1e300", "b", "123456789012345678", "c"), ":3\r\n"},
		{srvA("ZSCORE", "z", "a"), "$3\r\n1.1\r\n"},
		{srvA("ZINCRBY", "z", "0.2", "a"), "$3\r\n1.3\r\n"},
		{srvA("ZADD", "z", "0.1", "d"), ":1\r\n"},
		{srvA("ZINCRBY", "z", "0.2", "d"), "$19\r\n0.30000000000000004\r\n"},
		{srvA("ZSCORE", "z", "b"), "$6\r\n1e+300\r\n"},
		{srvA("ZSCORE", "z", "c"), "$18\r\n123456789012345680\r\n"},
		{srvA("ZSCAN", "z", "0", "MATCH", "b"), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$6\r\n1e+300\r\n"},
	})
	// RESP3 doubles print the same digits (the differential test rewrites
	// 7.0's %.17g on both sides, so it cannot see this); ZSCAN's scores stay
	// bulk strings.
	sc.exec("HELLO", "3")
	srvRun(t, sc, []srvCase{
		{srvA("ZSCORE", "z", "a"), ",1.3\r\n"},
		{srvA("ZINCRBY", "z", "0", "d"), ",0.30000000000000004\r\n"},
		{srvA("ZADD", "z", "INCR", "0.1", "e"), ",0.1\r\n"},
		{srvA("ZMSCORE", "z", "b", "c", "nope"), "*3\r\n,1e+300\r\n,123456789012345680\r\n_\r\n"},
		{srvA("ZRANGE", "z", "0", "0", "WITHSCORES"), "*1\r\n*2\r\n$1\r\ne\r\n,0.1\r\n"},
		{srvA("ZSCAN", "z", "0", "MATCH", "a"), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$3\r\n1.3\r\n"},
	})
}

// TestZSet_EncodingGrowsOneWay adds members one at a time past Redis's
// thresholds.
func TestZSet_EncodingGrowsOneWay(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5103")
	for i := range 128 {
		sc.exec("ZADD", "z", strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	srvRun(t, sc, []srvCase{
		{srvA("OBJECT", "ENCODING", "z"), "$8\r\nlistpack\r\n"},
		{srvA("ZADD", "z", "128", "m128"), ":1\r\n"},
		{srvA("OBJECT", "ENCODING", "z"), "$8\r\nskiplist\r\n"},
		{srvA("ZREMRANGEBYRANK", "z", "1", "-1"), ":128\r\n"},
		{srvA("OBJECT", "ENCODING", "z"), "$8\r\nskiplist\r\n"},
		{srvA("ZRANGE", "z", "0", "-1", "WITHSCORES"), "*2\r\n$2\r\nm0\r\n$1\r\n0\r\n"},
		{srvA("ZRANGESTORE", "copy", "z", "0", "-1"), ":1\r\n"},
		{srvA("OBJECT", "ENCODING", "copy"), "$8\r\nlistpack\r\n"},
		{srvA("ZADD", "long", "1", strings.Repeat("x", 65)), ":1\r\n"},
		{srvA("OBJECT", "ENCODING", "long"), "$8\r\nskiplist\r\n"},
	})
}

// TestZSet_RandomAndScanReplies checks the replies whose content depends on
// chance or on hashing.
func TestZSet_RandomAndScanReplies(t *testing.T) {
	s := srvNew(t, nil)
	sc := srvDial(t, s, "127.0.0.1:5104")
	args := []string{"ZADD", "z"}
	for i := range 300 {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	sc.exec(args...)
	bulk := regexp.MustCompile(`\$\d+\r\n([^\r]*)\r\n`)
	members := func(reply string) []string {
		var out []string
		for _, m := range bulk.FindAllStringSubmatch(reply, -1) {
			out = append(out, m[1])
		}
		return out
	}
	got := members(sc.exec("ZRANDMEMBER", "z", "20", "WITHSCORES"))
	if len(got) != 40 {
		t.Fatalf("ZRANDMEMBER 20 WITHSCORES: %d items", len(got))
	}
	seen := map[string]bool{}
	for i := 0; i < len(got); i += 2 {
		if seen[got[i]] || "m"+got[i+1] != got[i] {
			t.Fatalf("repeated or wrong pair %q %q", got[i], got[i+1])
		}
		seen[got[i]] = true
	}
	if n := len(members(sc.exec("ZRANDMEMBER", "z", "-500"))); n != 500 {
		t.Fatalf("ZRANDMEMBER -500: %d", n)
	}
	if r := sc.exec("ZRANDMEMBER", "z", "-1000000000000"); r != "-ERR value is out of range\r\n" {
		t.Fatalf("huge negative count: %q", r)
	}
	m := sc.exec("ZRANDMEMBER", "z")
	if !strings.HasPrefix(m, "$") {
		t.Fatalf("ZRANDMEMBER: %q", m)
	}
	// ZSCAN of a skiplist: cursor pages; every member exactly once.
	all := map[string]int{}
	cursor := "0"
	for pages := 0; ; pages++ {
		items := members(sc.exec("ZSCAN", "z", cursor, "COUNT", "17"))
		cursor = items[0]
		for i := 1; i < len(items); i += 2 {
			all[items[i]]++
		}
		if cursor == "0" || pages > 300 {
			break
		}
	}
	if len(all) != 300 {
		t.Fatalf("ZSCAN saw %d members", len(all))
	}
	for m, n := range all {
		if n != 1 {
			t.Fatalf("%s returned %d times", m, n)
		}
	}
	// RESP3: random pairs are [member, double].
	sc.exec("HELLO", "3")
	sc.exec("ZADD", "one", "0.5", "x")
	if r := sc.exec("ZRANDMEMBER", "one", "-2", "WITHSCORES"); r != "*2\r\n*2\r\n$1\r\nx\r\n,0.5\r\n*2\r\n$1\r\nx\r\n,0.5\r\n" {
		t.Fatalf("RESP3 ZRANDMEMBER: %q", r)
	}
}
