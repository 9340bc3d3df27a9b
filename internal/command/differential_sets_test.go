package command_test

// Differential families "sets" and "zsets": SET and SORTED SET commands,
// valid and invalid, compared with a real redis-server (see
// differential_test.go).
//
// What the normalizers forgive, and why (each narrowly, on the commands
// named):
//   - sets: the member order of SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a
//     count and SSCAN. Redis orders hashtable sets by its hash function and
//     skiff by insertion (docs/commands.md); intsets are numeric in both,
//     but skiff's listpack-sized sets are not, so every such reply is
//     compared sorted.
//   - SRANDMEMBER and ZRANDMEMBER pick at random: compared by shape (nil or
//     not, length, distinct members for a positive count, and the whole
//     sorted reply when the count covers the whole set).
//   - zsets: scores. Redis 7.0 prints a non-integral score with %.17g
//     ("1.1000000000000001") and integral scores beyond ±2^52 in exponent
//     form ("1e+17"); skiff prints them as 7.2 does (shortest round trip,
//     integers up to ±2^62), a documented difference (docs/commands.md).
//     A bulk string that is exactly the %.17g form of a float is rewritten
//     to the 7.2 form on both sides; the value is never changed.
//   - ZSCAN pages a skiplist-encoded sorted set in hash order: its
//     [member, score] pairs are compared sorted (pairs kept together).
//
// Over RESP3 the same, and nothing more: the replies are parsed with their
// RESP3 types ('~' sets, '%' maps, ',' doubles, '_' nulls, ...) and every
// type byte is kept in the normalized form, so a set where Redis sends an
// array, or a double where it sends a bulk string, still differs. Sets are
// sorted like arrays; 7.0 prints a ',' double with the same %.17g as a
// RESP2 score, and score72 rewrites it to the 7.2 form under the same
// rule (only when it is exactly that value's %.17g); a random pick WITH
// SCORES is a [member, double] array per pick (flat in RESP2), and the
// types inside each pick are compared. TestDiffNormSetsZSets checks what
// the normalizers forgive and what they must not.
//
// SPOP is sent only in forms whose effect is determined: a count at least
// the set's size (sets here never reach 2000 members), a count of 0,
// invalid arguments, and without a count on "single", a key that only ever
// holds the one member "x" (or nothing), or on "str", a string.

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/resp"
)

func init() {
	registerDiffFamily(diffFamily{name: "sets", gen: genSets, norm: normSets})
	registerDiffFamily(diffFamily{name: "zsets", gen: genZSets, norm: normZSets})
}

// ---- a small RESP2/RESP3 value model for the normalizers ----

// rv is one parsed reply: kind is the RESP type byte; s the line or bulk
// body; arr the elements (a map's keys and values alternate); null a null
// bulk or array (RESP2) or a RESP3 null ('_').
type rv struct {
	kind byte
	s    string
	arr  []rv
	null bool
}

// parseRV parses one reply, RESP2 or RESP3; ok is false for anything
// unexpected (then the normalizers compare the raw bytes).
func parseRV(b []byte) (rv, []byte, bool) {
	end := bytes.Index(b, []byte("\r\n"))
	if len(b) == 0 || end < 0 {
		return rv{}, nil, false
	}
	kind, line, rest := b[0], string(b[1:end]), b[end+2:]
	switch kind {
	case '+', '-', ':', ',', '(', '#':
		return rv{kind: kind, s: line}, rest, true
	case '_':
		if line != "" {
			return rv{}, nil, false
		}
		return rv{kind: kind, null: true}, rest, true
	case '$', '=', '!':
		n, err := strconv.Atoi(line)
		if err != nil {
			return rv{}, nil, false
		}
		if n < 0 {
			if kind != '$' {
				return rv{}, nil, false
			}
			return rv{kind: kind, null: true}, rest, true
		}
		if len(rest) < n+2 || string(rest[n:n+2]) != "\r\n" {
			return rv{}, nil, false
		}
		return rv{kind: kind, s: string(rest[:n])}, rest[n+2:], true
	case '*', '~', '%', '>':
		n, err := strconv.Atoi(line)
		if err != nil {
			return rv{}, nil, false
		}
		if n < 0 {
			if kind != '*' {
				return rv{}, nil, false
			}
			return rv{kind: kind, null: true}, rest, true
		}
		if kind == '%' {
			n *= 2
		}
		v := rv{kind: kind, arr: []rv{}}
		for range n {
			var e rv
			var ok bool
			if e, rest, ok = parseRV(rest); !ok {
				return rv{}, nil, false
			}
			v.arr = append(v.arr, e)
		}
		return v, rest, true
	}
	return rv{}, nil, false
}

// isAgg reports whether v is a (non-null) aggregate.
func (v rv) isAgg() bool { return !v.null && strings.IndexByte("*~%>", v.kind) >= 0 }

// String renders a value unambiguously (not as RESP): the type byte of
// every value is kept (a RESP2 array as plain brackets), so a set and an
// array, or a double and a bulk string, never render alike.
func (v rv) String() string {
	switch {
	case v.null:
		return string(v.kind) + "nil"
	case v.isAgg():
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			parts[i] = e.String()
		}
		return aggPrefix(v.kind) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.kind) + strconv.Quote(v.s)
}

// aggPrefix is "" for an array (the RESP2 renderings stay as they were) and
// the type byte of a RESP3 set, map or push.
func aggPrefix(kind byte) string {
	if kind == '*' {
		return ""
	}
	return string(kind)
}

// sortedElems renders an array's or a set's elements sorted (unordered
// replies).
func sortedElems(v rv) string {
	if !v.isAgg() || v.kind == '%' {
		return v.String()
	}
	s := make([]string, len(v.arr))
	for i, e := range v.arr {
		s[i] = e.String()
	}
	slices.Sort(s)
	return fmt.Sprintf("sorted%s%d[%s]", aggPrefix(v.kind), len(s), strings.Join(s, " "))
}

// sortedFlatPairs renders a flat [m1 s1 m2 s2 ...] array with its pairs
// sorted, each pair kept together.
func sortedFlatPairs(v rv) string {
	if v.kind != '*' || v.null || len(v.arr)%2 != 0 {
		return v.String()
	}
	s := make([]string, 0, len(v.arr)/2)
	for i := 0; i < len(v.arr); i += 2 {
		s = append(s, v.arr[i].String()+"="+v.arr[i+1].String())
	}
	slices.Sort(s)
	return fmt.Sprintf("pairs%d[%s]", len(s), strings.Join(s, " "))
}

// shape renders only the types of a value (a random pick's skeleton).
func shape(v rv) string {
	switch {
	case v.null:
		return string(v.kind) + "nil"
	case v.isAgg():
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			parts[i] = shape(e)
		}
		return string(v.kind) + "[" + strings.Join(parts, "") + "]"
	}
	return string(v.kind)
}

// randShape renders a random pick of count (a positive count: distinct
// elements). per is 2 for a pick with scores: RESP2 flattens each
// [member, score] pick into the array, RESP3 nests it as a 2-element
// array. The reply's type and the types inside every pick are kept.
func randShape(v rv, count int64, per int) string {
	if v.kind != '*' || v.null {
		return v.String()
	}
	var picks []rv // one per pick: its member first
	nested := per == 2 && len(v.arr) > 0 && !slices.ContainsFunc(v.arr, func(e rv) bool {
		return e.kind != '*' || e.null || len(e.arr) != 2
	})
	switch {
	case nested || per == 1:
		picks = v.arr
	case len(v.arr)%per != 0:
		return v.String()
	default:
		for i := 0; i < len(v.arr); i += per {
			picks = append(picks, rv{kind: '*', arr: v.arr[i : i+per]})
		}
	}
	seen := map[string]bool{}
	shapes := map[string]bool{}
	distinct := true
	for _, p := range picks {
		m := p
		if per == 2 {
			m = p.arr[0]
		}
		distinct = distinct && !seen[m.String()]
		seen[m.String()] = true
		if nested || per == 1 {
			shapes[shape(p)] = true
		} else {
			shapes["flat"+shape(p)] = true
		}
	}
	n := int64(len(picks))
	if count > 0 && n < count {
		// The count covered the whole set: every member, in random order.
		if per == 2 && !nested {
			return sortedFlatPairs(v)
		}
		return sortedElems(v)
	}
	kinds := slices.Sorted(maps.Keys(shapes))
	if count > 0 {
		return fmt.Sprintf("random %d distinct=%v %v", n, distinct, kinds)
	}
	return fmt.Sprintf("random %d %v", n, kinds)
}

// ---- shared generator helpers ----

// setMember: the shared vocabulary plus integers, so that Redis's intsets
// (and their conversion) are met too.
func setMember(g *diffGen) string {
	if g.Chance(0.3) {
		return g.Pick("1", "2", "3", "100", "-5", "0", "007", "1.5", "9223372036854775807", "-9223372036854775808",
			"9223372036854775808", "12345678901", " 1")
	}
	return g.Member()
}

// randCount returns a count for SRANDMEMBER and ZRANDMEMBER: g.Int's
// edges, but never a large negative count (Redis would build a reply of
// billions of members; skiff refuses counts below -10,000,000, a
// documented difference).
func randCount(g *diffGen) string {
	n := g.Int()
	if v, err := strconv.ParseInt(n, 10, 64); err == nil && v < -1000 && v != math.MinInt64 {
		return "-1000"
	}
	return n
}

// nMembers returns 1..max members of gen.
func nMembers(g *diffGen, max int, gen func(*diffGen) string) []string {
	out := make([]string, 1+g.IntN(max))
	for i := range out {
		out[i] = gen(g)
	}
	return out
}

// diffKeys returns n keys (n may be 0).
func diffKeys(g *diffGen, n int, key func() string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = key()
	}
	return out
}

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

// ---- sets ----

func genSets(g *diffGen) []string {
	// Keys: the shared ones, a string ("str") for WRONGTYPE and "nokey",
	// never written.
	key := func() string {
		switch {
		case g.Chance(0.06):
			return "str"
		case g.Chance(0.04):
			return "nokey"
		}
		return g.Key()
	}
	dst := g.Key // destinations: never "str" or "nokey"
	switch g.IntN(30) {
	case 0:
		return []string{"SET", "str", g.Value()}
	case 1, 2, 3, 4:
		return cat([]string{"SADD", dst()}, nMembers(g, 5, setMember))
	case 5:
		// Bigger sets: many integers (an intset, possibly past 512) or strings.
		n := 5 + g.IntN(40)
		args := []string{"SADD", dst()}
		base := g.IntN(600)
		strs := g.Chance(0.3)
		for i := range n {
			if strs {
				args = append(args, fmt.Sprintf("m%d", base+i))
			} else {
				args = append(args, strconv.Itoa(base+i*g.IntN(3)))
			}
		}
		return args
	case 6, 7:
		return cat([]string{"SREM", key()}, nMembers(g, 4, setMember))
	case 8:
		return []string{"SMEMBERS", key()}
	case 9:
		return []string{"SISMEMBER", key(), setMember(g)}
	case 10:
		return cat([]string{"SMISMEMBER", key()}, nMembers(g, 4, setMember))
	case 11:
		return []string{"SCARD", key()}
	case 12:
		switch g.IntN(8) {
		case 0, 1:
			return []string{"SRANDMEMBER", key()}
		case 2, 3:
			return []string{"SRANDMEMBER", key(), randCount(g)}
		case 4, 5, 6:
			return []string{"SRANDMEMBER", key(), g.Pick("0", "-3", "-20", "1000", "2", "-1000", "-9223372036854775808")}
		default:
			return []string{"SRANDMEMBER", key(), "1", "2"}
		}
	case 13:
		switch g.IntN(7) {
		case 0, 1:
			// More than any set here holds (at most ~1,400 distinct members).
			return []string{"SPOP", key(), g.Pick("2000", "100000")}
		case 2:
			return []string{"SPOP", key(), g.Pick("-1", "abc", "0", "", "1.5", "-9223372036854775808")}
		case 3:
			return []string{"SPOP", g.Pick("single", "str", "nokey")}
		case 4:
			return []string{"SPOP", g.Pick("single", "str", "nokey"), g.Pick("1", "2", "0")}
		case 5:
			return []string{"SADD", "single", "x"}
		default:
			return []string{"SPOP", key(), "1", "2"}
		}
	case 14, 15:
		// A string destination is refused (WRONGTYPE) unless the source
		// is absent, so "str" stays a string.
		d := dst()
		if g.Chance(0.1) {
			d = "str"
		}
		return []string{"SMOVE", key(), d, setMember(g)}
	case 16:
		return cat([]string{"SINTER"}, diffKeys(g, 1+g.IntN(3), key))
	case 17:
		return cat([]string{"SUNION"}, diffKeys(g, 1+g.IntN(3), key))
	case 18:
		return cat([]string{"SDIFF"}, diffKeys(g, 1+g.IntN(3), key))
	case 19:
		return cat([]string{"SINTERSTORE", dst()}, diffKeys(g, 1+g.IntN(3), key))
	case 20:
		return cat([]string{"SUNIONSTORE", dst()}, diffKeys(g, 1+g.IntN(3), key))
	case 21:
		return cat([]string{"SDIFFSTORE", dst()}, diffKeys(g, 1+g.IntN(3), key))
	case 22, 23:
		n := g.IntN(4)
		if n == 0 && g.Chance(0.7) {
			n = 2
		}
		numkeys := strconv.Itoa(n)
		if g.Chance(0.15) {
			numkeys = g.Int()
		}
		args := cat([]string{"SINTERCARD", numkeys}, diffKeys(g, n, key))
		switch g.IntN(6) {
		case 0:
			args = append(args, "LIMIT", g.Int())
		case 1:
			args = append(args, "LIMIT", strconv.Itoa(g.IntN(4)))
		case 2:
			args = append(args, g.Pick("LIMIT", "limit 1 LIMIT", "foo"))
		case 3:
			args = append(args, "LIMIT", "1", "LIMIT", "0")
		}
		return args
	case 24, 25:
		// Cursor 0 and a count past any set's size, so that both answer the
		// whole set with cursor 0; invalid forms besides.
		args := []string{"SSCAN", key(), "0"}
		switch g.IntN(8) {
		case 0:
			// Invalid cursors; a valid non-zero one only where the
			// encoding cannot matter (Redis 7.0 has no listpack sets).
			args[2] = g.Pick("abc", "", "18446744073709551616", " 0", "1.5")
			if g.Chance(0.3) {
				args[1], args[2] = g.Pick("str", "nokey"), g.Pick("-1", "5", "18446744073709551615")
			}
		case 1:
			args = append(args, "COUNT", g.Pick("0", "-1", "abc", ""))
		case 2:
			args = append(args, g.Pick("MATCH", "COUNT", "foo"))
		case 3:
			args = append(args, "NOVALUES")
		}
		if len(args) == 3 || g.Chance(0.5) {
			args = append(args, "COUNT", "1000")
		}
		if g.Chance(0.4) {
			args = append(args, "MATCH", g.Pick("*", "a*", "1*", "?", "[a-c]", "m1*", "-*", "\\-1"))
		}
		return args
	case 26:
		return []string{"DEL", dst()}
	case 27:
		// Wrong arities.
		return []string{g.Pick("SADD", "SREM", "SISMEMBER", "SMOVE", "SINTERSTORE", "SMISMEMBER", "SCARD", "SMEMBERS", "SINTERCARD"), key()}
	case 28:
		return []string{"SINTERSTORE", dst(), "nokey"}
	default:
		return []string{"TYPE", key()}
	}
}

func normSets(args []string, reply []byte) string {
	v, rest, ok := parseRV(reply)
	if !ok || len(rest) != 0 {
		return string(reply)
	}
	switch strings.ToUpper(args[0]) {
	case "SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP":
		return sortedElems(v)
	case "SRANDMEMBER":
		if len(args) != 3 || v.kind != '*' {
			if v.kind == '$' && !v.null {
				return "a member" // random: only that there is one
			}
			return v.String()
		}
		n, _ := strconv.ParseInt(args[2], 10, 64)
		return randShape(v, n, 1)
	case "SSCAN":
		if v.kind == '*' && len(v.arr) == 2 {
			return v.arr[0].String() + " " + sortedElems(v.arr[1])
		}
	}
	return v.String()
}

// ---- sorted sets ----

// zScore returns a score argument: the shared floats, Redis's spellings of
// the edges, and scores with many significant digits, tiny and huge ones
// (the formatting of every one of them is compared).
func zScore(g *diffGen) string {
	switch {
	case g.Chance(0.04):
		return g.Pick("nan", "NaN", "(2", " 2", "2 ", "0x10", "1,5", "", "1e400", "abc", "1.5e")
	case g.Chance(0.35):
		return g.Pick("0.1", "0.2", "1.1", "0.30000000000000004", "3.141592653589793", "-2.718281828459045",
			"1e20", "1e17", "1.5e-7", "123456789.123456789", "-0", "+0", "1e-320", "9007199254740993",
			"4503599627370496.5", "1e308", "1.7976931348623157e308", "2.5e-5", "1e21", "1e15", "123456789012345678",
			"4611686018427387904", "9223372036854775807", "0.000001", "1e-7", "-1e300", "5e-324", "100.5",
			"-inf", "+inf", "inf", "Infinity", "-INF", "0.1e1", "1E2", ".5", "5.", "-.5", "00012", "1.00000000000000000001")
	case g.Chance(0.15):
		return fmt.Sprint(g.IntN(1000)-500) + "." + fmt.Sprint(g.IntN(1000000))
	}
	return fmt.Sprint(g.IntN(10) - 3)
}

// zMember: a small vocabulary of short members, so that the shared keys
// stay listpack-encoded in Redis (at most 128 members of at most 64 bytes).
// Lex ranges over members of different scores are undefined in Redis, and
// skiff answers them as Redis does on a listpack (docs/commands.md): on
// the shared keys they are compared exactly. Skiplists live on their own
// keys (genZSkip).
func zMember(g *diffGen) string {
	switch {
	case g.Chance(0.2):
		return g.Pick("aa", "ab", "b\x00", "B", "1", "2", "-", "+", "[a", "(a", "zz")
	}
	return g.Member()
}

// zRank: a rank bound.
func zRank(g *diffGen) string {
	if g.Chance(0.1) {
		return g.Pick("-100", "100", "9223372036854775807", "-9223372036854775808", "1.0", "x", "(1")
	}
	return strconv.Itoa(g.IntN(12) - 6)
}

// zScoreBound: a score range bound.
func zScoreBound(g *diffGen) string {
	switch g.IntN(10) {
	case 0:
		return g.Pick("-inf", "+inf", "inf", "(-inf", "(+inf", "(inf", "nan", "(nan", "((1", "(", "[1", "abc", "", "1e400", "(1e-320")
	case 1, 2:
		return "(" + zScore(g)
	default:
		return zScore(g)
	}
}

// zLexBound: a lex range bound.
func zLexBound(g *diffGen) string {
	switch g.IntN(10) {
	case 0:
		return g.Pick("a", "", "-a", "+a", "(", "[", "1", "[\xff")
	case 1, 2:
		return g.Pick("-", "+")
	case 3, 4, 5:
		return "(" + zMember(g)
	default:
		return "[" + zMember(g)
	}
}

// zTimeout: a blocking timeout (short, or invalid).
func zTimeout(g *diffGen) string {
	if g.Chance(0.2) {
		return g.Pick("-1", "abc", "", "-0.01", "inf", "nan", "1e400", "0x1", "99999999999999999")
	}
	return g.Pick("0.01", "0.005", ".01")
}

func genZSets(g *diffGen) []string {
	key := func() string {
		switch {
		case g.Chance(0.05):
			return "str"
		case g.Chance(0.04):
			return "set" // a plain set: ZUNION and friends accept it
		case g.Chance(0.03):
			return "nokey"
		}
		return g.Key()
	}
	// Destinations: the shared keys, sometimes a key of another type (a
	// store replaces it).
	dst := func() string {
		if g.Chance(0.02) {
			return g.Pick("str", "set")
		}
		return g.Key()
	}
	scoreMembers := func(max int) []string {
		var out []string
		for range 1 + g.IntN(max) {
			out = append(out, zScore(g), zMember(g))
		}
		return out
	}
	switch g.IntN(49) {
	case 47:
		return genZSkip(g)
	case 0:
		if g.Chance(0.5) {
			return []string{"SET", "str", g.Value()}
		}
		return cat([]string{"SADD", "set"}, nMembers(g, 4, zMember))
	case 1, 2, 3, 4, 5, 6:
		args := []string{"ZADD", dst()}
		for range g.IntN(3) {
			args = append(args, g.Pick("NX", "XX", "GT", "LT", "CH", "INCR", "nx", "ch", "incr", "gt", "CH", "CH"))
		}
		sm := scoreMembers(4)
		if g.Chance(0.05) {
			sm = sm[:len(sm)-1] // odd: a syntax error
		}
		if slices.Contains(args, "INCR") || slices.Contains(args, "incr") {
			if g.Chance(0.8) {
				sm = sm[:2]
			}
		}
		return cat(args, sm)
	case 7:
		return []string{"ZINCRBY", key(), zScore(g), zMember(g)}
	case 8:
		return cat([]string{"ZREM", key()}, nMembers(g, 3, zMember))
	case 9:
		return []string{"ZCARD", key()}
	case 10:
		return []string{"ZCOUNT", key(), zScoreBound(g), zScoreBound(g)}
	case 11:
		return []string{"ZSCORE", key(), zMember(g)}
	case 12:
		return cat([]string{"ZMSCORE", key()}, nMembers(g, 4, zMember))
	case 13:
		// No WITHSCORE: it is 7.2's (7.0 answers any fourth argument with
		// the arity error); zsets_test.go checks skiff's 7.2 form.
		return []string{g.Pick("ZRANK", "ZREVRANK"), key(), zMember(g)}
	case 14, 15, 16, 17:
		return genZRange(g, key())
	case 18:
		a := genZRange(g, key())
		args := []string{"ZRANGESTORE", dst(), a[1]}
		for _, s := range a[2:] {
			if !strings.EqualFold(s, "withscores") || g.Chance(0.2) {
				args = append(args, s)
			}
		}
		return args
	case 19, 20:
		name := g.Pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE")
		args := []string{name, key(), zScoreBound(g), zScoreBound(g)}
		return append(args, zRangeOpts(g, true)...)
	case 21, 22:
		name := g.Pick("ZRANGEBYLEX", "ZREVRANGEBYLEX")
		args := []string{name, key(), zLexBound(g), zLexBound(g)}
		return append(args, zRangeOpts(g, g.Chance(0.1))...)
	case 23:
		args := []string{"ZREVRANGE", key(), zRank(g), zRank(g)}
		if g.Chance(0.5) {
			args = append(args, g.Pick("WITHSCORES", "withscores", "LIMIT", "foo"))
		}
		return args
	case 24:
		return []string{"ZLEXCOUNT", key(), zLexBound(g), zLexBound(g)}
	case 25:
		return []string{"ZREMRANGEBYRANK", key(), zRank(g), zRank(g)}
	case 26:
		return []string{"ZREMRANGEBYSCORE", key(), zScoreBound(g), zScoreBound(g)}
	case 27:
		return []string{"ZREMRANGEBYLEX", key(), zLexBound(g), zLexBound(g)}
	case 28, 29:
		args := []string{g.Pick("ZPOPMIN", "ZPOPMAX"), key()}
		switch g.IntN(8) {
		case 0:
			args = append(args, g.Int())
		case 1, 2, 3:
			args = append(args, strconv.Itoa(g.IntN(4)))
		case 4:
			args = append(args, "1", "2")
		}
		return args
	case 30:
		if g.Chance(0.3) {
			// Refill one key so that a blocking pop finds something.
			return cat([]string{"ZADD", dst()}, scoreMembers(3))
		}
		args := []string{g.Pick("BZPOPMIN", "BZPOPMAX")}
		args = append(args, diffKeys(g, 1+g.IntN(3), key)...)
		return append(args, zTimeout(g))
	case 31, 32:
		return genZMPop(g, key, false)
	case 33:
		return genZMPop(g, key, true)
	case 34, 35:
		return genZAlgebra(g, g.Pick("ZUNION", "ZINTER", "ZDIFF"), "", key)
	case 36, 37:
		return genZAlgebra(g, g.Pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), dst(), key)
	case 38:
		n := g.IntN(4)
		numkeys := strconv.Itoa(n)
		if g.Chance(0.15) {
			numkeys = g.Int()
		}
		args := cat([]string{"ZINTERCARD", numkeys}, diffKeys(g, n, key))
		switch g.IntN(5) {
		case 0:
			args = append(args, "LIMIT", g.Int())
		case 1:
			args = append(args, "LIMIT", strconv.Itoa(g.IntN(4)))
		case 2:
			args = append(args, g.Pick("LIMIT", "foo", "WITHSCORES"))
		}
		return args
	case 39, 40:
		args := []string{"ZRANDMEMBER", key()}
		switch g.IntN(8) {
		case 0, 1:
		case 2:
			args = append(args, randCount(g))
		case 3, 4:
			// Past ±LONG_MAX/2 WITHSCORES is out of range (the reply
			// would hold twice count); never a large valid negative count.
			args = append(args, g.Pick("0", "-3", "-20", "1000", "2", "-1000", "-9223372036854775808", "9223372036854775807",
				"-4611686018427387904", "4611686018427387904", "4611686018427387903", "-4611686018427387905"), "WITHSCORES")
		case 5, 6:
			args = append(args, strconv.Itoa(g.IntN(10)-5), g.Pick("WITHSCORES", "withscores", "WITHSCORES", "foo"))
		default:
			args = append(args, "1", "WITHSCORES", "x")
		}
		return args
	case 41, 42:
		args := []string{"ZSCAN", key(), "0"}
		switch g.IntN(8) {
		case 0:
			args[2] = g.Pick("abc", "", " 0", "1.5")
			if g.Chance(0.3) {
				args[1], args[2] = g.Pick("str", "nokey"), g.Pick("-1", "5")
			}
		case 1:
			args = append(args, "COUNT", g.Pick("0", "-1", "abc"))
		case 2:
			args = append(args, g.Pick("MATCH", "COUNT", "foo"))
		}
		if len(args) == 3 || g.Chance(0.5) {
			args = append(args, "COUNT", "1000")
		}
		if g.Chance(0.4) {
			args = append(args, "MATCH", g.Pick("*", "a*", "?", "[a-c]", "-*", "z*"))
		}
		return args
	case 43:
		return []string{"DEL", dst()}
	case 44:
		// Repeated increments: sums such as 0.1+0.2 print with 17 digits.
		return []string{g.Pick("ZINCRBY", "ZADD"), dst(), g.Pick("0.1", "0.2", "1.1", "-0.3", "1e-9", "3.3"), zMember(g)}
	case 45:
		return []string{"ZADD", dst(), "INCR", g.Pick("0.1", "0.7", "1e16", "-1e16", "inf", "-inf"), zMember(g)}
	case 46:
		if g.Chance(0.7) {
			return genZSkip(g)
		}
		return []string{g.Pick("ZADD", "ZRANGE", "ZCOUNT", "ZINCRBY", "ZRANGESTORE", "ZUNIONSTORE", "ZPOPMIN", "ZMPOP", "BZPOPMIN", "ZINTERCARD", "ZRANK"), key()}
	default:
		return []string{"ZRANGE", key(), "0", "-1", "WITHSCORES"}
	}
}

// zLong returns a member that makes Redis use a skiplist (more than 64
// bytes), or one of many short ones (past 128 members does it too).
func zLong(g *diffGen) string {
	switch g.IntN(4) {
	case 0:
		return strings.Repeat(g.Pick("z", "y", "a"), 65+g.IntN(10))
	case 1:
		return fmt.Sprintf("m%d", g.IntN(300))
	}
	return zMember(g)
}

// genZSkip sends commands to the two keys that Redis keeps as skiplists:
// "zsl" (any scores; no lex ranges, undefined over different scores and
// answered by encoding) and "zbig" (every score 1: lex ranges are defined).
// Their members never flow into the shared keys (stores go only into
// themselves), so those stay listpack-encoded.
func genZSkip(g *diffGen) []string {
	if g.Chance(0.5) {
		k := "zbig"
		switch g.IntN(12) {
		case 0, 1, 2:
			args := []string{"ZADD", k}
			if g.Chance(0.3) {
				args = append(args, g.Pick("NX", "XX", "CH", "GT"))
			}
			for range 1 + g.IntN(20) {
				args = append(args, "1", zLong(g))
			}
			return args
		case 3:
			return cat([]string{"ZREM", k}, nMembers(g, 5, zLong))
		case 4, 5:
			return []string{g.Pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), k, zLexBound(g), zLexBound(g), "LIMIT", zRank(g), zRank(g)}[:4+3*g.IntN(2)]
		case 6:
			return []string{"ZRANGE", k, zLexBound(g), zLexBound(g), "BYLEX", "REV", "LIMIT", zRank(g), zRank(g)}[:5+g.IntN(2)*(1+3*g.IntN(2))]
		case 7:
			return []string{"ZLEXCOUNT", k, zLexBound(g), zLexBound(g)}
		case 8:
			return []string{"ZREMRANGEBYLEX", k, zLexBound(g), zLexBound(g)}
		case 9:
			return []string{"ZRANGESTORE", k, k, zLexBound(g), zLexBound(g), "BYLEX"}
		case 10:
			return []string{"ZSCAN", k, "0", "COUNT", "1000"}
		default:
			return []string{"ZRANGE", k, zRank(g), zRank(g), "WITHSCORES"}
		}
	}
	k := "zsl"
	switch g.IntN(16) {
	case 0, 1, 2:
		args := []string{"ZADD", k}
		if g.Chance(0.3) {
			args = append(args, g.Pick("NX", "XX", "CH", "GT", "LT"))
		}
		for range 1 + g.IntN(20) {
			args = append(args, zScore(g), zLong(g))
		}
		return args
	case 3:
		return cat([]string{"ZREM", k}, nMembers(g, 5, zLong))
	case 4:
		return []string{"ZINCRBY", k, zScore(g), zLong(g)}
	case 5, 6:
		a := genZRange(g, k)
		if slices.ContainsFunc(a, func(s string) bool { return strings.EqualFold(s, "bylex") }) {
			return []string{"ZRANGE", k, "0", "-1", "WITHSCORES"}
		}
		return a
	case 7:
		return append([]string{g.Pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), k, zScoreBound(g), zScoreBound(g)}, zRangeOpts(g, true)...)
	case 8:
		return []string{"ZCOUNT", k, zScoreBound(g), zScoreBound(g)}
	case 9:
		return []string{g.Pick("ZRANK", "ZREVRANK", "ZSCORE"), k, zLong(g)}
	case 10:
		return []string{"ZSCAN", k, "0", "COUNT", "1000"}
	case 11:
		return []string{g.Pick("ZPOPMIN", "ZPOPMAX"), k, g.Pick("1", "2", "5")}
	case 12:
		return []string{g.Pick("ZREMRANGEBYSCORE", "ZREMRANGEBYRANK"), k, zRank(g), zRank(g)}
	case 13:
		return withFirstKey(genZAlgebra(g, g.Pick("ZUNION", "ZINTER", "ZDIFF"), "", g.Key), 1, k)
	case 14:
		return withFirstKey(genZAlgebra(g, g.Pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), k, g.Key), 2, k)
	default:
		return []string{"ZRANDMEMBER", k, g.Pick("3", "-3", "1000"), "WITHSCORES"}
	}
}

// withFirstKey puts key first among the keys of a numkeys command whose
// numkeys is args[at] (raised by one when it is a number).
func withFirstKey(args []string, at int, key string) []string {
	if n, err := strconv.Atoi(args[at]); err == nil {
		args[at] = strconv.Itoa(n + 1)
	}
	return slices.Insert(args, at+1, key)
}

// zRangeOpts returns the options of the legacy range commands.
func zRangeOpts(g *diffGen, scores bool) []string {
	var out []string
	if scores && g.Chance(0.4) {
		out = append(out, "WITHSCORES")
	}
	if g.Chance(0.35) {
		out = append(out, "LIMIT", zRank(g), zRank(g))
	}
	if g.Chance(0.05) {
		out = append(out, g.Pick("LIMIT", "LIMIT 1", "REV", "BYSCORE", "foo"))
	}
	if g.Chance(0.3) {
		slices.Reverse(out)
	}
	return out
}

// genZRange builds ZRANGE key min max with random options, in random order.
func genZRange(g *diffGen, key string) []string {
	var opts [][]string
	by := g.IntN(3)
	switch by {
	case 1:
		opts = append(opts, []string{g.Pick("BYSCORE", "byscore")})
	case 2:
		opts = append(opts, []string{g.Pick("BYLEX", "bylex")})
	}
	if g.Chance(0.3) {
		opts = append(opts, []string{"REV"})
	}
	if g.Chance(0.3) {
		opts = append(opts, []string{"WITHSCORES"})
	}
	if g.Chance(0.3) {
		opts = append(opts, []string{"LIMIT", zRank(g), zRank(g)})
	}
	if g.Chance(0.04) {
		opts = append(opts, []string{g.Pick("BYSCORE", "BYLEX", "REV", "LIMIT", "foo")})
	}
	g.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	lo, hi := zRank(g), zRank(g)
	switch {
	case by == 1 || (by == 0 && g.Chance(0.05)):
		lo, hi = zScoreBound(g), zScoreBound(g)
	case by == 2:
		lo, hi = zLexBound(g), zLexBound(g)
	}
	return cat([]string{"ZRANGE", key, lo, hi}, slices.Concat(opts...))
}

// genZMPop builds ZMPOP or BZMPOP.
func genZMPop(g *diffGen, key func() string, blocking bool) []string {
	var args []string
	if blocking {
		args = []string{"BZMPOP", zTimeout(g)}
	} else {
		args = []string{"ZMPOP"}
	}
	n := 1 + g.IntN(3)
	numkeys := strconv.Itoa(n)
	if g.Chance(0.05) {
		numkeys = g.Pick("0", "-1", "abc", "5", strconv.Itoa(n+1))
	}
	args = append(args, numkeys)
	args = append(args, diffKeys(g, n, key)...)
	if g.Chance(0.97) {
		args = append(args, g.Pick("MIN", "MAX", "min", "max", "MIN", "MAX", "MINMAX"))
	}
	switch g.IntN(8) {
	case 0:
		args = append(args, "COUNT", g.Int())
	case 1, 2, 3:
		args = append(args, "COUNT", strconv.Itoa(1+g.IntN(4)))
	case 4:
		args = append(args, g.Pick("COUNT", "foo", "COUNT 1"))
	case 5:
		args = append(args, "COUNT", "2", "COUNT", "1")
	}
	return args
}

// genZAlgebra builds ZUNION/ZINTER/ZDIFF (dst empty) and the *STORE forms.
func genZAlgebra(g *diffGen, name, dst string, key func() string) []string {
	args := []string{name}
	if dst != "" {
		args = append(args, dst)
	}
	n := 1 + g.IntN(3)
	if g.Chance(0.1) {
		n = 0
	}
	numkeys := strconv.Itoa(n)
	if g.Chance(0.1) {
		numkeys = g.Pick("0", "-1", "abc", "5", strconv.Itoa(n+1), "1.5")
	}
	args = append(args, numkeys)
	args = append(args, diffKeys(g, n, key)...)
	var opts [][]string
	if g.Chance(0.3) {
		w := []string{"WEIGHTS"}
		for range n + g.IntN(3) - 1 {
			if g.Chance(0.85) {
				w = append(w, g.Pick("1", "2", "-1", "0", "0.5", "1.1", "inf", "-inf", "3"))
			} else {
				w = append(w, zScore(g))
			}
		}
		opts = append(opts, w)
	}
	if g.Chance(0.3) {
		opts = append(opts, []string{"AGGREGATE", g.Pick("SUM", "MIN", "MAX", "min", "foo")})
	}
	if g.Chance(0.35) {
		opts = append(opts, []string{g.Pick("WITHSCORES", "withscores")})
	}
	if g.Chance(0.05) {
		opts = append(opts, []string{g.Pick("AGGREGATE", "WEIGHTS", "LIMIT", "foo")})
	}
	g.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	for _, o := range opts {
		args = append(args, o...)
	}
	return args
}

// score72 rewrites a bulk string or a RESP3 double (',') body that is
// exactly Redis 7.0's %.17g rendering of a float into 7.2's (and skiff's)
// rendering of the same value; anything else is left as it is. 7.0 prints
// a RESP3 double with the same %.17g as a RESP2 bulk score.
func score72(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || fmt.Sprintf("%.17g", f) != s {
		return s
	}
	var buf bytes.Buffer
	w := resp.NewWriter(&buf)
	w.WriteDouble(f)
	_ = w.Flush()
	b := buf.Bytes()
	// "$<len>\r\n<digits>\r\n"
	i := bytes.Index(b, []byte("\r\n"))
	return string(b[i+2 : len(b)-2])
}

// score72All applies score72 to every bulk string (RESP2 scores, and
// ZSCAN's in both protocols) and every RESP3 double in v.
func score72All(v rv) rv {
	switch {
	case (v.kind == '$' || v.kind == ',') && !v.null:
		v.s = score72(v.s)
	case v.isAgg():
		arr := make([]rv, len(v.arr))
		for i, e := range v.arr {
			arr[i] = score72All(e)
		}
		v.arr = arr
	}
	return v
}

func normZSets(args []string, reply []byte) string {
	v, rest, ok := parseRV(reply)
	if !ok || len(rest) != 0 {
		return string(reply)
	}
	v = score72All(v)
	switch strings.ToUpper(args[0]) {
	case "ZRANDMEMBER":
		if len(args) == 2 || v.kind != '*' {
			if v.kind == '$' && !v.null {
				return "a member"
			}
			return v.String()
		}
		n, _ := strconv.ParseInt(args[2], 10, 64)
		per := 1
		if len(args) == 4 && strings.EqualFold(args[3], "withscores") {
			per = 2
		}
		return randShape(v, n, per)
	case "ZSCAN":
		if v.kind == '*' && len(v.arr) == 2 {
			return v.arr[0].String() + " " + sortedFlatPairs(v.arr[1])
		}
	}
	return v.String()
}

// TestDiffNormSetsZSets checks the normalizers without a server: what they
// forgive (order, random picks, 7.0's %.17g doubles) and what they must not
// (a reply's type, a score's value).
func TestDiffNormSetsZSets(t *testing.T) {
	cases := []struct {
		norm       func([]string, []byte) string
		cmd        string
		a, b       string
		equivalent bool
	}{
		{normSets, "SMEMBERS k", "~2\r\n$1\r\na\r\n$1\r\nb\r\n", "~2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{normSets, "SMEMBERS k", "~2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n", false},
		{normSets, "SPOP k 5", "~1\r\n$1\r\na\r\n", "*1\r\n$1\r\na\r\n", false},
		{normSets, "SPOP k", "_\r\n", "$-1\r\n", false},
		{normSets, "SRANDMEMBER k 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nc\r\n$1\r\na\r\n", true},
		{normSets, "SRANDMEMBER k 2", "~2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nc\r\n$1\r\na\r\n", false},
		{normSets, "SSCAN k 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{normZSets, "ZSCORE k m", ",1.1\r\n", ",1.1000000000000001\r\n", true},
		{normZSets, "ZSCORE k m", ",1.1\r\n", ",1.1000000000000002\r\n", false},
		{normZSets, "ZSCORE k m", ",1.1\r\n", "$3\r\n1.1\r\n", false},
		{normZSets, "ZSCORE k m", "_\r\n", "$-1\r\n", false},
		{normZSets, "ZSCORE k m", ",1.2345678912345679e+8\r\n", ",123456789.12345679\r\n", true},
		{normZSets, "ZRANGE k 0 -1 WITHSCORES", "*1\r\n*2\r\n$1\r\na\r\n,0.1\r\n", "*1\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n", true},
		{normZSets, "ZRANGE k 0 -1 WITHSCORES", "*1\r\n*2\r\n$1\r\na\r\n,0.1\r\n", "*2\r\n$1\r\na\r\n,0.1\r\n", false},
		{normZSets, "ZRANDMEMBER k -2 WITHSCORES", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\na\r\n,1\r\n", "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n", true},
		{normZSets, "ZRANDMEMBER k -1 WITHSCORES", "*1\r\n*2\r\n$1\r\na\r\n,1\r\n", "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n", false},
		{normZSets, "ZRANDMEMBER k -1 WITHSCORES", "*1\r\n*2\r\n$1\r\na\r\n,1\r\n", "*2\r\n$1\r\na\r\n,1\r\n", false},
		{normZSets, "ZRANDMEMBER k 2 WITHSCORES", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\na\r\n,1\r\n", "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n", false},
		{normZSets, "ZRANDMEMBER k 5 WITHSCORES", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,0.2\r\n", "*2\r\n*2\r\n$1\r\nb\r\n,0.20000000000000001\r\n*2\r\n$1\r\na\r\n,1\r\n", true},
		{normZSets, "ZRANDMEMBER k 5 WITHSCORES", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n", "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,3\r\n", false},
		{normZSets, "ZSCAN k 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n1.1\r\n$1\r\nb\r\n$1\r\n2\r\n", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n", true},
	}
	for _, c := range cases {
		args := strings.Fields(c.cmd)
		na, nb := c.norm(args, []byte(c.a)), c.norm(args, []byte(c.b))
		if (na == nb) != c.equivalent {
			t.Errorf("%s: %q vs %q: normalized %q vs %q, want equivalent=%v", c.cmd, c.a, c.b, na, nb, c.equivalent)
		}
	}
}
