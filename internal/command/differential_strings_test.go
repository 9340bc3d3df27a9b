package command_test

// Differential families for the STRING commands ("strings") and the generic
// key and expiry commands ("keys"). See differential_test.go.
//
// Time: every relative TTL is at least 100 s and drawn from a wide range, so
// no key expires during a run and two deadlines set on the same key never tie
// by clock (GT/LT compare the same way on both servers). Absolute deadlines
// are far in the future (year 2096 and later) and exact, so EXPIRETIME and
// PEXPIRETIME of a key set with EXAT/PXAT/EXPIREAT/PEXPIREAT are compared
// exactly; only the clock-dependent replies are normalized (normTTL).

import (
	"fmt"
	"strconv"
	"strings"
)

func init() {
	registerDiffFamily(diffFamily{name: "strings", gen: genStrings, norm: normTTL})
	registerDiffFamily(diffFamily{name: "keys", gen: genKeys, norm: normTTL})
}

// Thresholds between clock-relative deadlines (now + at most ~3 years) and
// the absolute ones the generators write (4e9 s and later).
const (
	absSecMin = 3_000_000_000
	absMsMin  = absSecMin * 1000
)

// normTTL rewrites the replies that depend on the clock: a positive TTL or
// PTTL becomes "positive" (-1 and -2 stay exact), and an EXPIRETIME or
// PEXPIRETIME of a deadline set relative to now becomes "relative" (an
// absolute deadline, at or above absSecMin/absMsMin, stays exact). Any other
// command's reply, and every error, is compared byte for byte.
func normTTL(args []string, reply []byte) string {
	if len(reply) == 0 || reply[0] != ':' {
		return string(reply)
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(string(reply[1:]), "\r\n"), 10, 64)
	if err != nil || n < 0 {
		return string(reply)
	}
	switch strings.ToLower(args[0]) {
	case "ttl", "pttl":
		if n > 0 {
			return "positive"
		}
	case "expiretime":
		if n < absSecMin {
			return "relative"
		}
	case "pexpiretime":
		if n < absMsMin {
			return "relative"
		}
	}
	return string(reply)
}

// relSec is a relative TTL in seconds: at least 100 s, at most ~3 years,
// from a range wide enough that two draws practically never coincide.
func relSec(g *diffGen) string { return fmt.Sprint(100 + g.IntN(100_000_000)) }

// relMs is a relative TTL in milliseconds (100 s to ~3 years).
func relMs(g *diffGen) string { return fmt.Sprint(100_000 + g.Int64N(100_000_000_000)) }

// absSec is an absolute unix time in seconds, far in the future.
func absSec(g *diffGen) string { return fmt.Sprint(4_000_000_000 + g.IntN(1_000_000_000)) }

// absMs is an absolute unix time in milliseconds, far in the future.
func absMs(g *diffGen) string { return fmt.Sprint(4_000_000_000_000 + g.Int64N(1_000_000_000_000)) }

// badTime is an invalid, past or overflowing expire argument. None of them
// sets a deadline near now (so no small positive number): either the command
// fails or the key is deleted (a deadline in the past). msRel is for PX,
// PSETEX and PEXPIRE, where 9223372036854775 is a valid (clock-relative,
// ~292,000 years) TTL: there the overflowing 9223372036854775000 replaces it.
func badTime(g *diffGen, msRel bool) string {
	t := g.Pick("0", "-1", "-100", "abc", "", "1.5", " 5", "+5", "9223372036854775807", "-9223372036854775808",
		"9223372036854775", "9223372036854776", "-9223372036854775", "-9223372036854776", "100000000000000000000")
	if msRel && (t == "9223372036854775" || t == "9223372036854776") {
		return "9223372036854775000"
	}
	return t
}

// expireOpt returns one SET/GETEX expire option with its argument, valid
// most of the time. unit is ex, px, exat or pxat.
func expireOpt(g *diffGen, unit string) []string {
	name := unit
	if g.Chance(0.3) {
		name = strings.ToUpper(unit)
	}
	if g.Chance(0.15) {
		return []string{name, badTime(g, unit == "px")}
	}
	switch unit {
	case "ex":
		return []string{name, relSec(g)}
	case "px":
		return []string{name, relMs(g)}
	case "exat":
		return []string{name, absSec(g)}
	default:
		return []string{name, absMs(g)}
	}
}

// strKey is Key, and sometimes "big", the one key that SETRANGE may grow to
// about a megabyte (LCS never reads it).
func strKey(g *diffGen) string {
	if g.Chance(0.05) {
		return "big"
	}
	return g.Key()
}

// shortValue is a value LCS can take: short strings with common letters.
func shortValue(g *diffGen) string {
	if g.Chance(0.5) {
		return g.Value()
	}
	const alpha = "abcdeohlr"
	b := make([]byte, g.IntN(12))
	for i := range b {
		b[i] = alpha[g.IntN(len(alpha))]
	}
	return string(b)
}

// offset is a SETRANGE/GETRANGE offset: small mostly, sometimes negative,
// big (bounded by ~1 MB of data) or out of range.
func offset(g *diffGen) string {
	switch g.IntN(12) {
	case 0:
		return g.Int()
	case 1:
		return fmt.Sprint(-g.IntN(100))
	case 2:
		return fmt.Sprint(g.IntN(1 << 20))
	default:
		return fmt.Sprint(g.IntN(20))
	}
}

// typeWrite writes a value of a non-string type, so that WRONGTYPE, TYPE,
// COPY, RENAME and OBJECT ENCODING meet every type. OBJECT ENCODING of small
// lists and sets differs between Redis 7.0 (always "quicklist"; "hashtable"
// unless an intset) and 7.2 ("listpack" for both), and skiff's lists and sets
// follow 7.2 (store/list.go, store/set.go); so every list written here is
// past 8 KB (a quicklist in both) and a set holds integers only (an intset)
// or, from genKeys's big writes, more than 128 members (a hashtable in both).
func typeWrite(g *diffGen, key string) []string {
	switch g.IntN(4) {
	case 0:
		return []string{"RPUSH", key, g.Member(), strings.Repeat("l", 8200)}
	case 1:
		return []string{"SADD", key, g.Pick("1", "2", "-3", "10"), fmt.Sprint(g.IntN(100))}
	case 2:
		return []string{"HSET", key, g.Member(), g.Value()}
	default:
		return []string{"ZADD", key, g.Float(), g.Member()}
	}
}

// shuffleTail shuffles args[from:] in place.
func shuffleTail(g *diffGen, args []string, from int) []string {
	t := args[from:]
	g.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
	return args
}

// setOptions returns random SET options, valid and invalid combinations alike.
func setOptions(g *diffGen) []string {
	var opts []string
	if g.Chance(0.4) {
		opts = append(opts, expireOpt(g, g.Pick("ex", "px", "exat", "pxat"))...)
	}
	if g.Chance(0.08) {
		opts = append(opts, expireOpt(g, g.Pick("ex", "px", "exat", "pxat"))...)
	}
	if g.Chance(0.15) {
		opts = append(opts, g.Pick("KEEPTTL", "keepttl"))
	}
	if g.Chance(0.25) {
		opts = append(opts, g.Pick("NX", "nx"))
	}
	if g.Chance(0.25) {
		opts = append(opts, g.Pick("XX", "xx"))
	}
	if g.Chance(0.25) {
		opts = append(opts, g.Pick("GET", "get"))
	}
	if g.Chance(0.05) {
		opts = append(opts, g.Pick("EX", "PX", "EXAT", "PXAT", "BOGUS", "GET", "NX", "KEEPTTL"))
	}
	// Shuffle whole options, keeping each expire option with its argument.
	var groups [][]string
	for i := 0; i < len(opts); i++ {
		switch strings.ToLower(opts[i]) {
		case "ex", "px", "exat", "pxat":
			if i+1 < len(opts) {
				groups = append(groups, opts[i:i+2])
				i++
				continue
			}
		}
		groups = append(groups, opts[i:i+1])
	}
	g.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	var out []string
	for _, gr := range groups {
		out = append(out, gr...)
	}
	return out
}

func genStrings(g *diffGen) []string {
	k := strKey(g)
	switch g.IntN(34) {
	case 0, 1, 2:
		return append([]string{g.Pick("SET", "set"), k, g.Value()}, setOptions(g)...)
	case 3:
		return []string{"GET", k}
	case 4:
		return []string{"GETSET", k, g.Value()}
	case 5:
		return []string{"GETDEL", k}
	case 6:
		args := []string{"GETEX", k}
		switch g.IntN(7) {
		case 0:
		case 1:
			args = append(args, g.Pick("PERSIST", "persist"))
		case 2:
			args = append(args, expireOpt(g, g.Pick("ex", "px", "exat", "pxat"))...)
			args = append(args, g.Pick("PERSIST", "EX", "GET", "KEEPTTL", "NX"))
		case 3:
			args = append(args, g.Pick("EX", "PX", "EXAT", "PXAT", "BOGUS"))
		default:
			args = append(args, expireOpt(g, g.Pick("ex", "px", "exat", "pxat"))...)
		}
		return args
	case 7:
		return []string{"SETNX", k, g.Value()}
	case 8:
		if g.Chance(0.2) {
			return []string{"SETEX", k, badTime(g, false), g.Value()}
		}
		return []string{"SETEX", k, relSec(g), g.Value()}
	case 9:
		if g.Chance(0.2) {
			return []string{"PSETEX", k, badTime(g, true), g.Value()}
		}
		return []string{"PSETEX", k, relMs(g), g.Value()}
	case 10, 11:
		cmd := g.Pick("MSET", "MSETNX")
		args := []string{cmd}
		for range 1 + g.IntN(3) {
			args = append(args, g.Key(), g.Value())
		}
		if g.Chance(0.1) {
			args = append(args, g.Key()) // odd: wrong arity
		}
		return args
	case 12:
		args := []string{"MGET"}
		for range 1 + g.IntN(4) {
			args = append(args, strKey(g))
		}
		return args
	case 13, 14:
		return []string{"APPEND", k, g.Value()}
	case 15:
		return []string{"STRLEN", k}
	case 16, 17:
		return []string{g.Pick("GETRANGE", "SUBSTR"), k, offset(g), offset(g)}
	case 18, 19:
		if g.Chance(0.05) {
			// Beyond 512 MB: an error before anything is allocated (unless
			// the value is empty, then a no-op).
			return []string{"SETRANGE", k, g.Pick("536870912", "536870913", "4294967296", "9223372036854775807"), g.Pick("x", "")}
		}
		off := offset(g)
		if k != "big" && len(off) > 2 {
			off = fmt.Sprint(g.IntN(100))
		}
		return []string{"SETRANGE", k, off, g.Pick(g.Value(), "", "ab")}
	case 20, 21:
		return []string{g.Pick("INCR", "DECR"), k}
	case 22, 23:
		return []string{g.Pick("INCRBY", "DECRBY"), k, g.Int()}
	case 24, 25:
		return []string{"INCRBYFLOAT", k, g.Float()}
	case 26, 27:
		args := []string{"LCS", g.Key(), g.Key()}
		for range g.IntN(4) {
			switch g.IntN(6) {
			case 0:
				args = append(args, g.Pick("LEN", "len"))
			case 1, 2:
				args = append(args, g.Pick("IDX", "idx"))
			case 3:
				args = append(args, "MINMATCHLEN", g.Pick("0", "1", "2", "3", "-1", "abc", "100"))
			case 4:
				args = append(args, g.Pick("WITHMATCHLEN", "withmatchlen"))
			default:
				args = append(args, g.Pick("MINMATCHLEN", "BOGUS"))
			}
		}
		return args
	case 28, 29:
		// Short values, so that LCS has something to match.
		return []string{"SET", g.Key(), shortValue(g)}
	case 30:
		if g.Chance(0.5) {
			// Encodings that depend on how the value was written (APPEND,
			// SETRANGE: raw; INCRBYFLOAT: never int).
			return []string{"OBJECT", "ENCODING", strKey(g)}
		}
		return typeWrite(g, g.Key())
	case 31:
		return []string{"DEL", g.Key()}
	case 32:
		return []string{g.Pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), k}
	default:
		return wrongArityString(g, k)
	}
}

// wrongArityString returns a string command with too few or too many
// arguments.
func wrongArityString(g *diffGen, k string) []string {
	switch g.IntN(16) {
	case 0:
		return []string{"GET"}
	case 1:
		return []string{"GET", k, k}
	case 2:
		return []string{"SET", k}
	case 3:
		return []string{"GETSET", k}
	case 4:
		return []string{"SETNX", k, "v", "v"}
	case 5:
		return []string{"SETEX", k, "100"}
	case 6:
		return []string{"PSETEX", k, "100000", "v", "v"}
	case 7:
		return []string{"MSET", k}
	case 8:
		return []string{"MGET"}
	case 9:
		return []string{"APPEND", k}
	case 10:
		return []string{"STRLEN"}
	case 11:
		return []string{"GETRANGE", k, "0"}
	case 12:
		return []string{"SETRANGE", k, "0"}
	case 13:
		return []string{g.Pick("INCR", "DECR", "GETDEL", "GETEX"), k, k}[:1+g.IntN(3)]
	case 14:
		return []string{g.Pick("INCRBY", "DECRBY", "INCRBYFLOAT"), k}
	default:
		return []string{g.Pick("LCS", "SUBSTR", "MSETNX"), k}
	}
}

// expireCmd returns one of EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with a
// deadline that is far away, past or invalid, and random NX/XX/GT/LT flags.
func expireCmd(g *diffGen, k string) []string {
	cmd := g.Pick("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT")
	var t string
	switch {
	case g.Chance(0.2):
		t = badTime(g, cmd == "PEXPIRE")
	case cmd == "EXPIRE":
		t = relSec(g)
	case cmd == "PEXPIRE":
		t = relMs(g)
	case cmd == "EXPIREAT":
		t = absSec(g)
	default:
		t = absMs(g)
	}
	args := []string{cmd, k, t}
	for range g.IntN(3) {
		if g.Chance(0.1) {
			args = append(args, g.Pick("BOGUS", "EX", "", "1"))
			continue
		}
		args = append(args, g.Pick("NX", "XX", "GT", "LT", "nx", "xx", "gt", "lt"))
	}
	return args
}

func genKeys(g *diffGen) []string {
	k := g.Key()
	switch g.IntN(30) {
	case 0, 1, 2:
		if g.Chance(0.3) {
			return append([]string{"SET", k, g.Value()}, expireOpt(g, g.Pick("ex", "px", "exat", "pxat"))...)
		}
		return []string{"SET", k, g.Value()}
	case 3, 4, 5:
		return typeWrite(g, k)
	case 6:
		args := []string{g.Pick("DEL", "UNLINK")}
		for range 1 + g.IntN(3) {
			args = append(args, g.Key())
		}
		return args
	case 7:
		args := []string{g.Pick("EXISTS", "TOUCH")}
		for range 1 + g.IntN(4) {
			args = append(args, g.Key())
		}
		return args
	case 8, 9:
		return []string{"TYPE", k}
	case 10, 11:
		return []string{g.Pick("RENAME", "RENAMENX"), k, g.Key()}
	case 12, 13:
		args := []string{"COPY", k, g.Key()}
		for range g.IntN(3) {
			switch g.IntN(5) {
			case 0, 1:
				args = append(args, g.Pick("REPLACE", "replace"))
			case 2, 3:
				args = append(args, "DB", g.Pick("0", "0", "1", "2", "15", "16", "-1", "abc", "2147483648", "-2147483649"))
			default:
				args = append(args, g.Pick("DB", "BOGUS"))
			}
		}
		return args
	case 14, 15, 16, 17:
		return expireCmd(g, k)
	case 18:
		return []string{"PERSIST", k}
	case 19, 20:
		return []string{g.Pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), k}
	case 21, 22:
		return []string{"OBJECT", g.Pick("ENCODING", "encoding"), k}
	case 23:
		return []string{"DBSIZE"}
	case 24:
		// Values whose encoding depends on their content or size.
		return []string{"SET", k, g.Pick("123", "-5", "9223372036854775807", "9223372036854775808", "1.5", "01", "12345678901234567890",
			strings.Repeat("x", 44), strings.Repeat("x", 45), "", "abc")}
	case 25:
		return []string{"APPEND", k, g.Value()}
	case 26:
		// Bigger collections, for the listpack -> hashtable/skiplist/quicklist encodings.
		// A hash gets 600 fields: Redis 7.0's hash-max-listpack-entries is
		// 512 (skiff's CONFIG agrees) but skiff's hashes convert past 128
		// (store/hash.go, not this family's), so 129 to 512 fields would
		// differ on every run.
		args := []string{g.Pick("SADD", "RPUSH", "HSET", "ZADD"), k}
		n := 130
		if args[0] == "HSET" {
			n = 600
		}
		for i := range n {
			args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
		}
		if args[0] == "RPUSH" {
			args = append(args, strings.Repeat("l", 8200))
		}
		return args
	case 27:
		// COPY into another DB (there without REPLACE: 0 once the key exists).
		return []string{"COPY", k, k, "DB", "1", g.Pick("REPLACE", "")}[:4+g.IntN(2)]
	default:
		return wrongArityKeys(g, k)
	}
}

// wrongArityKeys returns a key command with too few or too many arguments.
func wrongArityKeys(g *diffGen, k string) []string {
	switch g.IntN(12) {
	case 0:
		return []string{g.Pick("DEL", "UNLINK", "EXISTS", "TOUCH")}
	case 1:
		return []string{"TYPE", k, k}
	case 2:
		return []string{g.Pick("RENAME", "RENAMENX"), k}
	case 3:
		return []string{"COPY", k}
	case 4:
		return []string{g.Pick("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"), k}
	case 5:
		return []string{g.Pick("PERSIST", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), k, k}
	case 6:
		return []string{"OBJECT", "ENCODING"}
	case 7:
		return []string{"OBJECT", "ENCODING", k, k}
	case 8:
		return []string{"DBSIZE", k}
	case 9:
		return []string{"OBJECT", g.Pick("BOGUS", "encodingx"), k}
	case 10:
		return []string{g.Pick("PERSIST", "TTL", "TYPE")}
	default:
		return []string{"RENAME", k, k, k}
	}
}
