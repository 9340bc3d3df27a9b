package command_test

// Differential families "lists" and "hashes": random LIST and HASH commands
// (valid and invalid) against skiff and a real redis-server. See
// differential_test.go for the harness.

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func init() {
	lm := multiGen{exact: func(cmd []string) bool { return !strings.EqualFold(cmd[0], "HELLO") }}
	registerDiffFamily(diffFamily{
		name: "lists",
		gen: func(g *diffGen) []string {
			cmd := lm.gen(g, genListCmd)
			if lm.queued > 0 && len(cmd) > 2 && g.Chance(0.3) {
				// Queued in MULTI a blocking command never blocks: timeout 0
				// (forever) is safe there.
				switch strings.ToUpper(cmd[0]) {
				case "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH":
					cmd[len(cmd)-1] = "0"
				case "BLMPOP":
					cmd[1] = "0"
				}
			}
			return cmd
		},
		norm: normHello, // list replies are all deterministic
	})
	h := &hashDiff{maybeBig: map[string]bool{}}
	h.multi.exact = h.exact
	registerDiffFamily(diffFamily{
		name: "hashes",
		gen:  func(g *diffGen) []string { return h.multi.gen(g, h.gen) },
		norm: h.norm,
	})
}

// listElem returns a list element: mostly from a small space (so LREM,
// LPOS and LINSERT find matches), sometimes a long one (a quicklist node in
// Redis; no reply depends on it).
func listElem(g *diffGen) string {
	if g.Chance(0.05) {
		return strings.Repeat("x", 70)
	}
	return g.Member()
}

// listEnd returns LEFT or RIGHT in some spelling, or rarely a bad one.
func listEnd(g *diffGen) string {
	if g.Chance(0.05) {
		return g.Pick("up", "", "LEFTX")
	}
	return g.Pick("LEFT", "RIGHT", "left", "Right")
}

// blockTimeout returns a blocking command's timeout. A valid one is always
// short: the generator cannot know whether the keys hold data, and an
// empty key makes both servers wait it out.
func blockTimeout(g *diffGen) string {
	if g.Chance(0.15) {
		// Invalid ones only: "-0", "-0.001" (ceil to 0: forever), "0x10" or
		// a deadline past the clock's range would really block.
		return g.Pick("-1", "-0.5", "-0.002", "abc", "", "1e400", "inf", "-inf", "+inf", "infinity", "nan", "9223372036854775807",
			"1e20", "9223372036854775.808", "1e5000", "0x", "1 ", " 1", "1e", "1.5e", "(1")
	}
	return g.Pick("0.01", "0.001", "0.005", ".01", "1e-2", "0x1p-7", "+0.01", "1e-400", "0.0000001")
}

// lposNum returns an LPOS RANK, COUNT or MAXLEN argument: mostly small
// (so that the options meet matches), sometimes an edge.
func lposNum(g *diffGen) string {
	switch g.IntN(5) {
	case 0:
		return g.Pick("-9223372036854775808", "-9223372036854775807", "9223372036854775807", "0", "-0", "abc", "1.5")
	case 1:
		return g.Int()
	default:
		return fmt.Sprint(g.IntN(7) - 2)
	}
}

// nKeys returns 1..3 keys.
func nKeys(g *diffGen) []string {
	ks := []string{g.Key()}
	for g.Chance(0.4) && len(ks) < 3 {
		ks = append(ks, g.Key())
	}
	return ks
}

// mpopTail returns LMPOP/BLMPOP's "numkeys key ... LEFT|RIGHT [COUNT n]",
// sometimes with a wrong numkeys, a bad end or bad COUNT options.
func mpopTail(g *diffGen) []string {
	ks := nKeys(g)
	numkeys := fmt.Sprint(len(ks))
	if g.Chance(0.15) {
		numkeys = g.Pick("0", "-1", "abc", "", fmt.Sprint(len(ks)+1), fmt.Sprint(len(ks)+2), "9223372036854775807", "2147483648", fmt.Sprint(max(len(ks)-1, 1)))
	}
	out := append([]string{numkeys}, ks...)
	out = append(out, listEnd(g))
	switch g.IntN(8) {
	case 0, 1, 2:
		out = append(out, g.Pick("COUNT", "count"), g.Int())
	case 3:
		out = append(out, g.Pick("COUNT", "COUNT 1", "LEFT", "x"))
	case 4:
		out = append(out, "COUNT", g.Int(), "COUNT", g.Int())
	}
	return out
}

// pushArgs returns 1..4 elements.
func pushArgs(g *diffGen) []string {
	n := 1 + g.IntN(4)
	out := make([]string, n)
	for i := range out {
		out[i] = listElem(g)
	}
	return out
}

// multiGen wraps a family's generator in an occasional MULTI ... EXEC (or
// DISCARD): queued commands answer +QUEUED or a queue-time error (then
// EXECABORT), EXEC an array of their replies, and a blocking command inside
// it never blocks but answers as timed out. Only commands whose reply the
// family compares exactly are queued (a normalizer cannot see inside EXEC's
// reply): exact reports that.
type multiGen struct {
	queued int // commands left to queue before EXEC; 0: not in MULTI
	exact  func(cmd []string) bool
}

func (m *multiGen) gen(g *diffGen, inner func(*diffGen) []string) []string {
	switch {
	case m.queued == 1:
		m.queued = 0
		if g.Chance(0.1) {
			return []string{"DISCARD"}
		}
		return []string{"EXEC"}
	case m.queued > 1:
		m.queued--
		for {
			if cmd := inner(g); m.exact(cmd) {
				return cmd
			}
		}
	case g.Chance(0.01):
		m.queued = 2 + g.IntN(5)
		return []string{"MULTI"}
	}
	return inner(g)
}

func genListCmd(g *diffGen) []string {
	k := g.Key()
	switch g.IntN(34) {
	case 0, 1, 2:
		return append([]string{g.Pick("LPUSH", "RPUSH"), k}, pushArgs(g)...)
	case 3:
		return append([]string{g.Pick("LPUSHX", "RPUSHX"), k}, pushArgs(g)...)
	case 4, 5:
		switch g.IntN(5) {
		case 0, 1:
			return []string{g.Pick("LPOP", "RPOP"), k}
		case 2:
			return []string{g.Pick("LPOP", "RPOP"), k, g.Int(), g.Int()}
		default:
			return []string{g.Pick("LPOP", "RPOP"), k, g.Pick(g.Int(), "0", "-1", "3", "100")}
		}
	case 6:
		return []string{"LLEN", k}
	case 7, 8:
		return []string{"LRANGE", k, g.Int(), g.Int()}
	case 9:
		return []string{"LINDEX", k, g.Int()}
	case 10:
		return []string{"LSET", k, g.Int(), listElem(g)}
	case 11:
		return []string{"LINSERT", k, g.Pick("BEFORE", "AFTER", "before", "after", "middle", ""), g.Member(), listElem(g)}
	case 12:
		return []string{"LREM", k, g.Int(), g.Member()}
	case 13:
		return []string{"LTRIM", k, g.Int(), g.Int()}
	case 14, 15:
		cmd := []string{"LPOS", k, g.Member()}
		for range g.IntN(4) {
			switch g.IntN(5) {
			case 0, 1:
				cmd = append(cmd, g.Pick("RANK", "rank"), lposNum(g))
			case 2:
				cmd = append(cmd, g.Pick("COUNT", "count"), lposNum(g))
			case 3:
				cmd = append(cmd, g.Pick("MAXLEN", "maxlen"), lposNum(g))
			default:
				cmd = append(cmd, g.Pick("RANK", "COUNT", "MAXLEN", "FOO"))
			}
		}
		return cmd
	case 16:
		return []string{"LMOVE", k, g.Key(), listEnd(g), listEnd(g)}
	case 17:
		return []string{"RPOPLPUSH", k, g.Key()}
	case 18:
		return append([]string{"LMPOP"}, mpopTail(g)...)
	case 19:
		return append(append([]string{g.Pick("BLPOP", "BRPOP")}, nKeys(g)...), blockTimeout(g))
	case 20:
		return []string{"BLMOVE", k, g.Key(), listEnd(g), listEnd(g), blockTimeout(g)}
	case 21:
		return []string{"BRPOPLPUSH", k, g.Key(), blockTimeout(g)}
	case 22:
		return append([]string{"BLMPOP", blockTimeout(g)}, mpopTail(g)...)
	case 23:
		// Wrong arity.
		return g.wrongArity()
	case 24:
		// Another type on a key: WRONGTYPE everywhere after it.
		if g.Chance(0.5) {
			return []string{"DEL", k}
		}
		if g.Chance(0.5) {
			return []string{"SET", k, g.Value()}
		}
		return []string{"SADD", k, g.Member()}
	case 25:
		return []string{"DEL", k}
	case 26:
		return []string{"TYPE", k}
	case 27:
		return []string{"LRANGE", k, "0", "-1"}
	case 28:
		if g.Chance(0.2) {
			return helloCmd(g)
		}
		return []string{"LRANGE", k, g.Int(), "-1"}
	default:
		return append([]string{g.Pick("LPUSH", "RPUSH"), k}, pushArgs(g)...)
	}
}

// helloCmd switches the connection between RESP2 and RESP3, so that the
// replies (nulls, maps, pairs) are compared in both protocols.
func helloCmd(g *diffGen) []string { return []string{"HELLO", g.Pick("2", "3")} }

// normHello hides HELLO's reply (server name, version, client id differ);
// everything else is compared as is.
func normHello(args []string, reply []byte) string {
	if strings.EqualFold(args[0], "HELLO") && len(reply) > 0 && reply[0] != '-' {
		return "HELLO reply"
	}
	return string(reply)
}

// mapAsArray rewrites a RESP3 map header (%n) as the flat array of its 2n
// elements (*2n), as RESP2 sends HGETALL, so that SortedPairs applies.
func mapAsArray(reply []byte) []byte {
	if len(reply) == 0 || reply[0] != '%' {
		return reply
	}
	end := bytes.Index(reply, []byte("\r\n"))
	n, err := strconv.Atoi(string(reply[1:max(end, 1)]))
	if end < 0 || err != nil {
		return reply
	}
	return append([]byte(fmt.Sprintf("*%d", 2*n)), reply[end:]...)
}

// wrongArity returns a list or blocking command with too few (or, for
// the fixed-arity ones, too many) arguments.
func (g *diffGen) wrongArity() []string {
	k := g.Key()
	return g.pickCmd(
		[]string{"LPUSH", k}, []string{"RPUSHX", k}, []string{"LPOP"}, []string{"RPOP", k, "1", "2"},
		[]string{"LLEN"}, []string{"LLEN", k, k}, []string{"LRANGE", k, "0"}, []string{"LINDEX", k},
		[]string{"LSET", k, "0"}, []string{"LINSERT", k, "BEFORE", "a"}, []string{"LREM", k, "0"},
		[]string{"LTRIM", k, "0"}, []string{"LPOS", k}, []string{"LMOVE", k, k, "LEFT"},
		[]string{"RPOPLPUSH", k}, []string{"LMPOP", "1", k}, []string{"LMPOP", "1"},
		[]string{"BLPOP", k}, []string{"BRPOP"}, []string{"BLMOVE", k, k, "LEFT", "RIGHT"},
		[]string{"BRPOPLPUSH", k, k}, []string{"BLMPOP", "0.01", "1", k}, []string{"BLMPOP", "0.01"},
		[]string{"LPOS", k, "a", "RANK"}, []string{"LMOVE", k, k, "LEFT", "RIGHT", "x"},
	)
}

func (g *diffGen) pickCmd(cmds ...[]string) []string { return cmds[g.IntN(len(cmds))] }

// hashDiff generates hash commands and remembers which keys may hold a hash
// that Redis has converted to a hashtable (over 512 fields or a name or
// value over 64 bytes, HINCRBYFLOAT's result included): skiff keeps
// insertion order there too (docs/commands.md), Redis its table order.
// Only "k4" is ever given such data; it forgets when
// the generator deletes k4 (a hash emptied by HDEL is deleted too, but the
// generator cannot see that, so it stays conservative).
type hashDiff struct {
	maybeBig map[string]bool
	multi    multiGen
}

const bigHashKey = "k4"

// hValue is a field value; only bigHashKey ever gets one over 64 bytes.
func (h *hashDiff) hValue(g *diffGen, key string) string {
	for {
		v := g.Value()
		if len(v) <= 64 {
			return v
		}
		if key == bigHashKey {
			h.maybeBig[key] = true
			return v
		}
	}
}

// hField is a field name: mostly from the shared space, sometimes a
// number (HINCRBY targets) or, on bigHashKey only, a long name.
func (h *hashDiff) hField(g *diffGen, key string) string {
	if key == bigHashKey && g.Chance(0.02) {
		h.maybeBig[key] = true
		return strings.Repeat("f", 65)
	}
	return g.Member()
}

// hugeIncr are HINCRBYFLOAT increments whose results print longer than 64
// bytes: such a value makes Redis convert the hash to a hashtable.
var hugeIncr = []string{"1e308", "-1e308", "1.7976931348623157e308", "1e4932", "1e400", "-1e400"}

// hashIncr returns an HINCRBYFLOAT increment: the usual floats plus
// exponents, hex, long-double edges and spellings of infinity. Only
// bigHashKey gets one of hugeIncr.
func (h *hashDiff) hashIncr(g *diffGen, key string) string {
	for {
		var x string
		if g.Chance(0.3) {
			x = g.Pick(append([]string{"1e5000", "Infinity", "-infinity", "NaN", "0.1", "-0.1", "5.0e3", "1e-10",
				"0x1p3", "+5", "-0", "1.", ".5", "3.0000000000000001", "1e", "12345678901234567890", "1e-5000"}, hugeIncr...)...)
		} else {
			x = g.Float()
		}
		if !slices.Contains(hugeIncr, x) {
			return x
		}
		if key == bigHashKey {
			h.maybeBig[key] = true
			return x
		}
	}
}

// hashIncrBy returns an HINCRBY increment, overflow edges included.
func hashIncrBy(g *diffGen) string {
	if g.Chance(0.2) {
		return g.Pick("9223372036854775807", "-9223372036854775808", "9223372036854775806", "-1", "1")
	}
	return g.Int()
}

func (h *hashDiff) gen(g *diffGen) []string {
	k := g.Key()
	switch g.IntN(30) {
	case 0, 1, 2, 3:
		cmd := []string{g.Pick("HSET", "HSET", "HMSET"), k}
		for range 1 + g.IntN(3) {
			cmd = append(cmd, h.hField(g, k), h.hValue(g, k))
		}
		if g.Chance(0.05) {
			cmd = cmd[:len(cmd)-1] // an odd number of arguments
		}
		return cmd
	case 4:
		return []string{"HSETNX", k, h.hField(g, k), h.hValue(g, k)}
	case 5:
		return []string{"HGET", k, g.Member()}
	case 6:
		cmd := []string{"HMGET", k}
		for range 1 + g.IntN(4) {
			cmd = append(cmd, g.Member())
		}
		return cmd
	case 7, 8:
		return []string{g.Pick("HGETALL", "HKEYS", "HVALS"), k}
	case 9, 10:
		cmd := []string{"HDEL", k}
		for range 1 + g.IntN(3) {
			cmd = append(cmd, g.Member())
		}
		return cmd
	case 11:
		return []string{"HLEN", k}
	case 12:
		return []string{"HSTRLEN", k, g.Member()}
	case 13:
		return []string{"HEXISTS", k, g.Member()}
	case 14, 15:
		return []string{"HINCRBY", k, g.Member(), hashIncrBy(g)}
	case 16, 17:
		return []string{"HINCRBYFLOAT", k, g.Member(), h.hashIncr(g, k)}
	case 18, 19:
		return h.hrandfield(g, k)
	case 20, 21:
		return h.hscan(g, k)
	case 22:
		// Many fields at once: bigHashKey goes past 512 fields after a few (a hashtable
		// in Redis); other keys stay small.
		n := 3
		if k == bigHashKey {
			n = 130
			h.maybeBig[k] = true
		}
		cmd := []string{"HSET", k}
		for i := range n {
			cmd = append(cmd, fmt.Sprintf("f%d", i), fmt.Sprint(i))
		}
		return cmd
	case 23:
		if k == bigHashKey && h.multi.queued == 0 {
			delete(h.maybeBig, k) // (in MULTI: DISCARD may drop it)
		}
		return []string{"DEL", k}
	case 24:
		switch g.IntN(3) {
		case 0:
			return []string{"SET", k, "v"}
		case 1:
			return []string{"LPUSH", k, "a"}
		default:
			return []string{g.Pick("LPUSH", "DEL"), "listkey", "a"}
		}
	case 25:
		return g.pickCmd(
			[]string{"HSET", k}, []string{"HSET", k, "a"}, []string{"HMSET", k, "a"}, []string{"HSETNX", k, "a"},
			[]string{"HGET", k}, []string{"HMGET", k}, []string{"HGETALL"}, []string{"HKEYS", k, k},
			[]string{"HDEL", k}, []string{"HLEN"}, []string{"HSTRLEN", k}, []string{"HEXISTS", k},
			[]string{"HINCRBY", k, "a"}, []string{"HINCRBYFLOAT", k, "a"}, []string{"HRANDFIELD"},
			[]string{"HSCAN", k}, []string{"HVALS"}, []string{"HINCRBY", k, "a", "1", "2"},
			[]string{"HRANDFIELD", k, "1", "WITHVALUES", "x"},
		)
	case 26:
		if g.Chance(0.2) {
			return helloCmd(g)
		}
		return []string{"TYPE", k}
	default:
		return []string{"HSET", k, g.Member(), h.hValue(g, k)}
	}
}

// hrandfield returns an HRANDFIELD. A negative count repeats fields: on a
// hash Redis streams |count| of them (skiff refuses below -10,000,000,
// docs/commands.md), so a huge one goes only to keys that hold no hash:
// "nokey" (never written) and "listkey" (a list or nothing).
func (h *hashDiff) hrandfield(g *diffGen, k string) []string {
	count := func() string {
		for {
			if n := g.Int(); n != "-2147483649" {
				return n
			}
		}
	}
	switch g.IntN(6) {
	case 0:
		return []string{"HRANDFIELD", k}
	case 1:
		return []string{"HRANDFIELD", k, count()}
	case 2:
		return []string{"HRANDFIELD", k, count(), g.Pick("WITHVALUES", "withvalues", "WITHSCORES")}
	case 3:
		return []string{"HRANDFIELD", k, g.Pick("-9223372036854775808", "9223372036854775807", "4611686018427387904",
			"-4611686018427387904", "-10", "10", "-3", "0"), g.Pick("WITHVALUES", "WITHVALUES", "x")}
	case 4:
		return []string{"HRANDFIELD", k, g.Pick("-9223372036854775808", "9223372036854775807", "-10", "10", "-3", "0", "-1")}
	default:
		cmd := []string{"HRANDFIELD", g.Pick("nokey", "listkey"), g.Pick("-2147483649", "-9223372036854775807", "-4611686018427387903", "-10000001", "-3")}
		if g.Chance(0.5) {
			cmd = append(cmd, "WITHVALUES")
		}
		return cmd
	}
}

// hscan returns an HSCAN. On a key that may be a hashtable in Redis, only
// one-step scans (cursor 0, a COUNT above any size reached here) are
// comparable: the servers page a big hash in different orders.
func (h *hashDiff) hscan(g *diffGen, k string) []string {
	if h.maybeBig[k] {
		cmd := []string{"HSCAN", k, "0", "COUNT", "1000"}
		if g.Chance(0.3) {
			cmd = append(cmd, "MATCH", g.Pick("*", "f1*", "a", "[a-c]"))
		}
		return cmd
	}
	cmd := []string{"HSCAN", k, g.Pick("0", "0", "0", "1", "-1", "abc", "18446744073709551615", "18446744073709551616", "")}
	for range g.IntN(3) {
		switch g.IntN(4) {
		case 0:
			cmd = append(cmd, g.Pick("MATCH", "match"), g.Pick("*", "a*", "?", "[a-c]", "1*", "\\", "x"))
		case 1, 2:
			cmd = append(cmd, g.Pick("COUNT", "count"), g.Int())
		default:
			cmd = append(cmd, g.Pick("MATCH", "COUNT", "NOVALUES", "TYPE"))
		}
	}
	return cmd
}

// exact reports whether norm compares cmd's reply as is (its reply may
// then be queued in MULTI): not HELLO, HRANDFIELD, nor a listing of a hash
// that may be a hashtable in Redis.
func (h *hashDiff) exact(cmd []string) bool {
	switch strings.ToUpper(cmd[0]) {
	case "HELLO", "HRANDFIELD":
		return false
	case "HGETALL", "HKEYS", "HVALS", "HSCAN":
		return len(cmd) < 2 || !h.maybeBig[cmd[1]]
	}
	return true
}

// norm keeps replies exact except where Redis's answer is unordered or
// random.
func (h *hashDiff) norm(args []string, reply []byte) string {
	name := strings.ToUpper(args[0])
	if len(args) < 2 || name == "HELLO" {
		return normHello(args, reply)
	}
	switch name {
	case "HGETALL", "HKEYS", "HVALS":
		// A hashtable (maybe only on bigHashKey) replies in its table
		// order; a small hash replies in insertion order, compared exactly.
		if !h.maybeBig[args[1]] {
			return string(reply)
		}
		if name == "HGETALL" {
			return SortedPairs(mapAsArray(reply)) // RESP3: a map
		}
		return SortedArray(reply)
	case "HSCAN":
		if !h.maybeBig[args[1]] {
			return string(reply)
		}
		// [cursor, [field value ...]]: the cursor exactly, the page as pairs.
		elems, ok := splitReplyArray(reply)
		if !ok || len(elems) != 2 {
			return string(reply)
		}
		return string(elems[0]) + SortedPairs(elems[1])
	case "HRANDFIELD":
		// Random picks: compare only nil vs a field, and the length of an
		// array (|count| for a negative count; pairs with WITHVALUES).
		if len(args) == 2 {
			if len(reply) > 0 && reply[0] == '$' && string(reply) != "$-1\r\n" {
				return "a field"
			}
			return string(reply)
		}
		return ArrayLen(reply)
	}
	return string(reply)
}
