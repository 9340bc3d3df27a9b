package command_test

// Differential family "errors_sz": argument validation of the SET and
// SORTED SET commands, the approach of family "errors"
// (differential_errors_test.go) applied to them. Every command of the two
// groups (errSZCmds) is built valid-looking and then, often, broken with
// mutate (wrong arity, junk in one or two positions, options shuffled,
// repeated or missing their values, the name in another case) and
// sometimes with a sorted-set keyword put where it does not belong. The
// keys are absent or hold a string, a list, a hash, a set or a sorted set
// (errSZSetup), so that the order of the checks (arity, syntax, WRONGTYPE,
// value errors) is compared with Redis's.
//
// Kept from being unsafe or random (defuseSZ): a blocking command's timeout
// is always one of blockTimeout's (invalid or tiny); SPOP without a count or
// with a count that could be below a set's size pops on "noset", and
// SRANDMEMBER/ZRANDMEMBER with a large negative count pick on "noset" /
// "nozset" (never written: an empty reply), or on "szstr" (absent or a
// string, written only by errSZSetup: WRONGTYPE); ZRANK and ZREVRANK never get a
// fourth argument (WITHSCORE is 7.2's: Redis 7.0 answers the arity error,
// skiff 7.2's syntax error or the rank with its score). Replies are
// normalized by the "sets" and "zsets" families' normalizers (member order,
// random picks, 7.0's %.17g scores); an SSCAN reply by its shape (7.0 has
// no listpack sets: it pages where skiff answers whole), a ZSCAN reply
// whole when its cursor is 0, by its shape otherwise.
// Every error reply is compared byte for byte.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func init() {
	registerDiffFamily(diffFamily{name: "errors_sz", gen: genErrorsSZ, norm: normErrorsSZ})
}

// szNumkeys is a numkeys argument for n keys: mostly right, sometimes off.
func szNumkeys(g *diffGen, n int) string {
	if g.Chance(0.15) {
		return g.Pick("0", "-1", "abc", "", "1.5", strconv.Itoa(n+1), strconv.Itoa(max(n-1, 0)), "9223372036854775807",
			"2147483648", "-9223372036854775808")
	}
	return strconv.Itoa(n)
}

// szKeysNum returns "numkeys key ..." (1..3 keys).
func szKeysNum(g *diffGen) []string {
	ks := eKeys(g, 3)
	return append([]string{szNumkeys(g, len(ks))}, ks...)
}

// szScoreMembers returns 1..3 score-member pairs.
func szScoreMembers(g *diffGen) []string {
	var out []string
	for range 1 + g.IntN(3) {
		out = append(out, zScore(g), zMember(g))
	}
	return out
}

// szLimit is a LIMIT offset count option.
func szLimit(g *diffGen) func() []string {
	return func() []string { return []string{g.Pick("LIMIT", "limit"), zRank(g), zRank(g)} }
}

// szAlgebraOpts are ZUNION/ZINTER's options (WEIGHTS with 0..3 weights).
func szAlgebraOpts(g *diffGen, withScores bool) []func() []string {
	bs := []func() []string{
		func() []string {
			w := []string{g.Pick("WEIGHTS", "weights")}
			for range g.IntN(4) {
				w = append(w, g.Pick("1", "2", "-1", "0", "0.5", "inf", "-inf", "nan", "abc", "", "1e400"))
			}
			return w
		},
		ePair(g, "AGGREGATE", func(g *diffGen) string { return g.Pick("SUM", "MIN", "MAX", "min", "foo", "") }),
		eWord(g, "AGGREGATE", "WEIGHTS", "BOGUS", "LIMIT"),
	}
	if withScores {
		bs = append(bs, eWord(g, "WITHSCORES", "withscores"))
	}
	return bs
}

// errSZCmds lists the set and sorted set commands.
var errSZCmds = map[string]errCmd{
	// Sets.
	"SADD": func(g *diffGen) []string {
		return append(eCmd(g.Pick("SADD", "SREM", "SMISMEMBER"), eKey(g)), eVals(g, 3, setMember)...)
	},
	"SMEMBERS":  func(g *diffGen) []string { return eCmd(g.Pick("SMEMBERS", "SCARD"), eKey(g)) },
	"SISMEMBER": func(g *diffGen) []string { return eCmd("SISMEMBER", eKey(g), setMember(g)) },
	"SPOP": func(g *diffGen) []string {
		cmd := eCmd(g.Pick("SPOP", "SRANDMEMBER"), eKey(g))
		if g.Chance(0.7) {
			cmd = append(cmd, g.Pick(eNum(g), "100000", "-3", "-1000", "-9223372036854775808"))
		}
		return cmd
	},
	"SMOVE": func(g *diffGen) []string { return eCmd("SMOVE", eKey(g), eKey(g), setMember(g)) },
	"SINTER": func(g *diffGen) []string {
		return append([]string{g.Pick("SINTER", "SUNION", "SDIFF")}, eKeys(g, 3)...)
	},
	"SINTERSTORE": func(g *diffGen) []string {
		return append(eCmd(g.Pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), eKey(g)), eKeys(g, 3)...)
	},
	"SINTERCARD": func(g *diffGen) []string {
		return eOpts(g, append([]string{"SINTERCARD"}, szKeysNum(g)...), 2, ePair(g, "LIMIT", eNum), eWord(g, "LIMIT", "BOGUS"))
	},
	"SSCAN": func(g *diffGen) []string {
		return eOpts(g, eCmd("SSCAN", eKey(g), g.Pick("0", "0", "1", "-1", "abc", "", "18446744073709551616")), 3,
			ePair(g, "MATCH", func(g *diffGen) string { return g.Pick("*", "a*", "") }), ePair(g, "COUNT", eNum),
			eWord(g, "MATCH", "COUNT", "NOVALUES", "TYPE"))
	},

	// Sorted sets.
	"ZADD": func(g *diffGen) []string {
		cmd := eOpts(g, eCmd("ZADD", eKey(g)), 3, eWord(g, "NX", "XX", "GT", "LT", "CH", "INCR", "nx", "incr", "BOGUS"))
		return append(cmd, szScoreMembers(g)...)
	},
	"ZREM": func(g *diffGen) []string {
		return append(eCmd(g.Pick("ZREM", "ZMSCORE"), eKey(g)), eVals(g, 3, zMember)...)
	},
	"ZCARD":   func(g *diffGen) []string { return eCmd("ZCARD", eKey(g)) },
	"ZCOUNT":  func(g *diffGen) []string { return eCmd("ZCOUNT", eKey(g), zScoreBound(g), zScoreBound(g)) },
	"ZSCORE":  func(g *diffGen) []string { return eCmd(g.Pick("ZSCORE", "ZRANK", "ZREVRANK"), eKey(g), zMember(g)) },
	"ZINCRBY": func(g *diffGen) []string { return eCmd("ZINCRBY", eKey(g), zScore(g), zMember(g)) },
	"ZRANGE": func(g *diffGen) []string {
		cmd := eCmd("ZRANGE", eKey(g))
		if g.Chance(0.2) {
			cmd = eCmd("ZRANGESTORE", eKey(g), eKey(g))
		}
		var lo, hi string
		switch g.IntN(3) {
		case 0:
			lo, hi = zRank(g), zRank(g)
		case 1:
			lo, hi = zScoreBound(g), zScoreBound(g)
		default:
			lo, hi = zLexBound(g), zLexBound(g)
		}
		return eOpts(g, append(cmd, lo, hi), 3, eWord(g, "BYSCORE", "BYLEX", "REV", "WITHSCORES", "byscore", "rev", "BOGUS"),
			szLimit(g))
	},
	"ZRANGEBYSCORE": func(g *diffGen) []string {
		return eOpts(g, eCmd(g.Pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), eKey(g), zScoreBound(g), zScoreBound(g)), 2,
			eWord(g, "WITHSCORES", "withscores", "BOGUS", "REV"), szLimit(g))
	},
	"ZRANGEBYLEX": func(g *diffGen) []string {
		return eOpts(g, eCmd(g.Pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), eKey(g), zLexBound(g), zLexBound(g)), 2,
			eWord(g, "WITHSCORES", "BOGUS"), szLimit(g))
	},
	"ZREVRANGE": func(g *diffGen) []string {
		return eOpts(g, eCmd("ZREVRANGE", eKey(g), zRank(g), zRank(g)), 1, eWord(g, "WITHSCORES", "withscores", "LIMIT"))
	},
	"ZLEXCOUNT": func(g *diffGen) []string {
		return eCmd(g.Pick("ZLEXCOUNT", "ZREMRANGEBYLEX"), eKey(g), zLexBound(g), zLexBound(g))
	},
	"ZREMRANGEBYRANK": func(g *diffGen) []string { return eCmd("ZREMRANGEBYRANK", eKey(g), zRank(g), zRank(g)) },
	"ZREMRANGEBYSCORE": func(g *diffGen) []string {
		return eCmd("ZREMRANGEBYSCORE", eKey(g), zScoreBound(g), zScoreBound(g))
	},
	"ZPOPMIN": func(g *diffGen) []string {
		cmd := eCmd(g.Pick("ZPOPMIN", "ZPOPMAX"), eKey(g))
		if g.Chance(0.6) {
			cmd = append(cmd, eNum(g))
		}
		return cmd
	},
	"BZPOPMIN": func(g *diffGen) []string {
		return append(append([]string{g.Pick("BZPOPMIN", "BZPOPMAX")}, eKeys(g, 3)...), blockTimeout(g))
	},
	"ZMPOP": func(g *diffGen) []string {
		cmd := []string{"ZMPOP"}
		if g.Chance(0.4) {
			cmd = []string{"BZMPOP", blockTimeout(g)}
		}
		cmd = append(cmd, szKeysNum(g)...)
		cmd = append(cmd, g.Pick("MIN", "MAX", "min", "max", "MINMAX", "LEFT"))
		return eOpts(g, cmd, 2, ePair(g, "COUNT", eNum), eWord(g, "COUNT", "MIN", "BOGUS"))
	},
	"ZUNION": func(g *diffGen) []string {
		name := g.Pick("ZUNION", "ZINTER", "ZDIFF")
		cmd := append([]string{name}, szKeysNum(g)...)
		if name == "ZDIFF" {
			return eOpts(g, cmd, 1, eWord(g, "WITHSCORES", "withscores", "WEIGHTS", "BOGUS"))
		}
		return eOpts(g, cmd, 3, szAlgebraOpts(g, true)...)
	},
	"ZUNIONSTORE": func(g *diffGen) []string {
		name := g.Pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
		cmd := append([]string{name, eKey(g)}, szKeysNum(g)...)
		if name == "ZDIFFSTORE" {
			return eOpts(g, cmd, 1, eWord(g, "WITHSCORES", "WEIGHTS", "BOGUS"))
		}
		return eOpts(g, cmd, 3, szAlgebraOpts(g, g.Chance(0.2))...)
	},
	"ZINTERCARD": func(g *diffGen) []string {
		return eOpts(g, append([]string{"ZINTERCARD"}, szKeysNum(g)...), 2, ePair(g, "LIMIT", eNum), eWord(g, "LIMIT", "WITHSCORES"))
	},
	"ZRANDMEMBER": func(g *diffGen) []string {
		return eOpts(g, eCmd("ZRANDMEMBER", eKey(g)), 2,
			func() []string {
				return []string{g.Pick(eNum(g), "-3", "1000", "-4611686018427387905", "4611686018427387904")}
			},
			eWord(g, "WITHSCORES", "withscores", "BOGUS"))
	},
	"ZSCAN": func(g *diffGen) []string {
		return eOpts(g, eCmd("ZSCAN", eKey(g), g.Pick("0", "0", "1", "-1", "abc", "", "18446744073709551616")), 3,
			ePair(g, "MATCH", func(g *diffGen) string { return g.Pick("*", "a*", "") }), ePair(g, "COUNT", eNum),
			eWord(g, "MATCH", "COUNT", "NOVALUES", "TYPE"))
	},
}

var errSZCmdNames = func() []string {
	var ns []string
	for n := range errSZCmds {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}()

// errSZSetup gives a key a type (or none).
func errSZSetup(g *diffGen) []string {
	k := g.Key()
	switch g.IntN(8) {
	case 0:
		return []string{"SET", k, g.Pick("v", "10", "1.5", "")}
	case 1:
		return []string{"RPUSH", k, "a", "b"}
	case 2:
		return []string{"HSET", k, "a", "1"}
	case 3:
		return []string{"SADD", k, g.Pick("a", "1"), "b", "2", "c"}
	case 4, 5:
		return []string{"ZADD", k, "1", "a", "2", "b", "1.5", "c", "-1", "d"}
	case 6:
		return []string{g.Pick("DEL", "SET"), g.Pick("nokey", "szstr"), "v"}[:2+g.IntN(2)]
	default:
		return []string{"DEL", k}
	}
}

func genErrorsSZ(g *diffGen) []string {
	if g.Chance(0.15) {
		return errSZSetup(g)
	}
	cmd := errSZCmds[errSZCmdNames[g.IntN(len(errSZCmdNames))]](g)
	for range g.IntN(3) { // sometimes none: the valid forms meet every type
		cmd = mutate(g, cmd)
	}
	if len(cmd) > 1 && g.Chance(0.1) {
		// A sorted-set keyword where it does not belong.
		cmd[1+g.IntN(len(cmd)-1)] = g.Pick("WITHSCORES", "BYSCORE", "BYLEX", "REV", "LIMIT", "MIN", "MAX", "WEIGHTS",
			"AGGREGATE", "SUM", "INCR", "CH", "(1", "[a", "-", "+", "(", "[")
	}
	return defuseSZ(g, cmd)
}

// defuseSZ keeps cmd from blocking, from a random change of state and from
// a huge reply (see the file comment).
func defuseSZ(g *diffGen, cmd []string) []string {
	name := strings.ToUpper(cmd[0])
	n := len(cmd)
	fix := func(i int) {
		if i >= 1 && i < n && !safeTimeout(cmd[i]) {
			cmd[i] = blockTimeout(g)
		}
	}
	count := func() (int64, bool) {
		if n < 3 {
			return 0, false
		}
		c, err := strconv.ParseInt(cmd[2], 10, 64)
		return c, err == nil
	}
	switch name {
	case "BZPOPMIN", "BZPOPMAX":
		fix(n - 1)
	case "BZMPOP":
		fix(1)
	case "SPOP":
		if c, ok := count(); n == 2 || (ok && c > 0 && c < 100000) {
			cmd[1] = g.Pick("noset", "szstr")
		}
	case "SRANDMEMBER", "ZRANDMEMBER":
		if c, ok := count(); ok && c < -1000 && c != -9223372036854775808 {
			cmd[1] = g.Pick(map[string]string{"SRANDMEMBER": "noset", "ZRANDMEMBER": "nozset"}[name], "szstr")
		}
	case "ZRANK", "ZREVRANK":
		cmd = cmd[:min(n, 3)]
	}
	return cmd
}

// normErrorsSZ compares errors exactly and the rest as the "sets" and
// "zsets" families do; SSCAN and ZSCAN by shape.
func normErrorsSZ(args []string, reply []byte) string {
	if len(reply) == 0 || reply[0] == '-' {
		return string(reply)
	}
	name := strings.ToUpper(args[0])
	switch {
	case name == "SSCAN":
		// Redis 7.0 pages a set of strings as a hashtable (its cursor, its
		// page sizes), skiff a small one as a 7.2 listpack (whole).
		return fmt.Sprintf("scan reply %c", reply[0])
	case name == "ZSCAN":
		// A listpack sorted set (every shared key here) is answered whole,
		// cursor 0, in both; a partial page of a skiplist (a key grown past
		// 128 members) is compared by its shape.
		if v, rest, ok := parseRV(reply); ok && len(rest) == 0 && v.kind == '*' && len(v.arr) == 2 && v.arr[0].s != "0" {
			return fmt.Sprintf("scan page %c", reply[0])
		}
		return normZSets(args, reply)
	case strings.HasPrefix(name, "S") && name != "SET":
		return normSets(args, reply)
	case strings.HasPrefix(name, "Z") || strings.HasPrefix(name, "BZ"):
		return normZSets(args, reply)
	}
	return string(reply)
}
