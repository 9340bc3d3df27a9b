package command

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// hashCommands: the hash family.
func hashCommands() []*Command {
	const g = "hash"
	k1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 1, 1, g; return c }
	return []*Command{
		k1(&Command{Name: "hset", Arity: -4, Flags: Write | DenyOOM | Fast, Since: "2.0.0", Summary: "Creates or modifies the value of a field in a hash.", Handler: cmdHSet}),
		k1(&Command{Name: "hmset", Arity: -4, Flags: Write | DenyOOM | Fast, Since: "2.0.0", Summary: "Sets the values of multiple fields.", Handler: cmdHSet}),
		k1(&Command{Name: "hsetnx", Arity: 4, Flags: Write | DenyOOM | Fast, Since: "2.0.0", Summary: "Sets the value of a field in a hash only when the field doesn't exist.", Handler: cmdHSetNX}),
		k1(&Command{Name: "hget", Arity: 3, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the value of a field in a hash.", Handler: cmdHGet}),
		k1(&Command{Name: "hmget", Arity: -3, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the values of all fields in a hash.", Handler: cmdHMGet}),
		k1(&Command{Name: "hgetall", Arity: 2, Flags: ReadOnly, Since: "2.0.0", Summary: "Returns all fields and values in a hash.", Handler: cmdHGetAll}),
		k1(&Command{Name: "hkeys", Arity: 2, Flags: ReadOnly, Since: "2.0.0", Summary: "Returns all fields in a hash.", Handler: cmdHGetAll}),
		k1(&Command{Name: "hvals", Arity: 2, Flags: ReadOnly, Since: "2.0.0", Summary: "Returns all values in a hash.", Handler: cmdHGetAll}),
		k1(&Command{Name: "hdel", Arity: -3, Flags: Write | Fast, Since: "2.0.0", Summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", Handler: cmdHDel}),
		k1(&Command{Name: "hlen", Arity: 2, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the number of fields in a hash.", Handler: sizeOf((*store.Store).HLen)}),
		k1(&Command{Name: "hstrlen", Arity: 3, Flags: ReadOnly | Fast, Since: "3.2.0", Summary: "Returns the length of the value of a field.", Handler: cmdHGet}),
		k1(&Command{Name: "hexists", Arity: 3, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Determines whether a field exists in a hash.", Handler: cmdHGet}),
		k1(&Command{Name: "hincrby", Arity: 4, Flags: Write | DenyOOM | Fast, Since: "2.0.0", Summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", Handler: cmdHIncrBy}),
		k1(&Command{Name: "hincrbyfloat", Arity: 4, Flags: Write | DenyOOM | Fast, Since: "2.6.0", Summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", Handler: cmdHIncrByFloat}),
		k1(&Command{Name: "hrandfield", Arity: -2, Flags: ReadOnly, Since: "6.2.0", Summary: "Returns one or more random fields from a hash.", Handler: cmdHRandField}),
		k1(&Command{Name: "hscan", Arity: -3, Flags: ReadOnly, Since: "2.8.0", Summary: "Iterates over fields and values of a hash.", Handler: cmdHScan}),
	}
}

func cmdHSet(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.WrongArity()
		return
	}
	if c.Cmd.Name == "hmset" {
		c.Propose(c.NewOp(op.HSet, c.Args[1:]...), ReplyOK)
		return
	}
	c.Propose(c.NewOp(op.HSet, c.Args[1:]...), ReplyInt)
}

func cmdHSetNX(c *Ctx) {
	c.Propose(c.NewOp(op.HSetNX, c.Args[1], c.Args[2], c.Args[3]), ReplyInt)
}

// cmdHGet serves HGET, HSTRLEN and HEXISTS.
func cmdHGet(c *Ctx) {
	v, ok, err := c.Store().HGet(c.DB(), c.Args[1], c.Args[2], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	switch c.Cmd.Name {
	case "hstrlen":
		c.W.WriteInt(int64(len(v)))
	case "hexists":
		if ok {
			c.W.WriteInt(1)
		} else {
			c.W.WriteInt(0)
		}
	default:
		if ok {
			c.W.WriteBulk(v)
		} else {
			c.W.WriteNull()
		}
	}
}

func cmdHMGet(c *Ctx) {
	vals, found, err := c.Store().HMGet(c.DB(), c.Args[1], c.Args[2:], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(len(vals))
	for i, v := range vals {
		if found[i] {
			c.W.WriteBulk(v)
		} else {
			c.W.WriteNull()
		}
	}
}

// cmdHGetAll serves HGETALL (a map in RESP3), HKEYS and HVALS.
func cmdHGetAll(c *Ctx) {
	all := c.Cmd.Name == "hgetall"
	wantNames, wantVals := all || c.Cmd.Name == "hkeys", all || c.Cmd.Name == "hvals"
	names, vals, err := c.Store().HGetAll(c.DB(), c.Args[1], c.Now(), wantNames, wantVals)
	if err != nil {
		c.Error(err)
		return
	}
	switch {
	case all:
		c.W.WriteMapLen(len(names))
		for i, n := range names {
			c.W.WriteBulkString(n)
			c.W.WriteBulk(vals[i])
		}
	case wantNames:
		c.W.WriteArrayLen(len(names))
		for _, n := range names {
			c.W.WriteBulkString(n)
		}
	default:
		c.W.WriteArrayLen(len(vals))
		for _, v := range vals {
			c.W.WriteBulk(v)
		}
	}
}

func cmdHDel(c *Ctx) {
	c.Propose(c.NewOp(op.HDel, c.Args[1:]...), ReplyInt)
}

func cmdHIncrBy(c *Ctx) {
	if _, err := ParseInt(c.Args[3]); err != nil {
		c.Error(err)
		return
	}
	c.Propose(c.NewOp(op.HIncrBy, c.Args[1], c.Args[2], c.Args[3]), ReplyInt)
}

func cmdHIncrByFloat(c *Ctx) {
	f, err := store.ParseHashFloat(c.Args[3])
	if err != nil {
		c.Error(ErrNotFloat)
		return
	}
	if f.IsInf() {
		c.ErrorString("ERR value is NaN or Infinity")
		return
	}
	c.Propose(c.NewOp(op.HIncrByFloat, c.Args[1], c.Args[2], c.Args[3]), ReplyBulkOrNull)
}

// maxRandCount bounds the reply of a negative (repeating) random count.
const maxRandCount = 10_000_000

func cmdHRandField(c *Ctx) {
	if len(c.Args) == 2 {
		names, _, found, err := c.Store().HRandField(c.DB(), c.Args[1], c.Now(), 1, false, rand.Uint64)
		switch {
		case err != nil:
			c.Error(err)
		case !found:
			c.W.WriteNull()
		default:
			c.W.WriteBulkString(names[0])
		}
		return
	}
	count, withVals, ok := parseRandCountArgs(c, "withvalues")
	if !ok {
		return
	}
	if randCountRefused(c, count, c.Store().HLen) {
		return
	}
	names, vals, _, err := c.Store().HRandField(c.DB(), c.Args[1], c.Now(), count, withVals, rand.Uint64)
	if err != nil {
		c.Error(err)
		return
	}
	resp3 := c.W.Proto() == 3
	switch {
	case withVals && !resp3:
		c.W.WriteArrayLen(2 * len(names))
	default:
		c.W.WriteArrayLen(len(names))
	}
	for i, n := range names {
		if withVals && resp3 {
			c.W.WriteArrayLen(2)
		}
		c.W.WriteBulkString(n)
		if withVals {
			c.W.WriteBulk(vals[i])
		}
	}
}

// randCountRefused answers a negative (repeating) random count below
// -maxRandCount and reports whether it did. Redis looks the key up before it
// builds the reply, so a missing key answers an empty array and another type
// WRONGTYPE; for a key that holds members skiff refuses the count
// (errRandCountRange). card is the type's size query.
func randCountRefused(c *Ctx, count int64, card func(dbi int, key []byte, now int64) (int64, error)) bool {
	if count >= -maxRandCount {
		return false
	}
	n, err := card(c.DB(), c.Args[1], c.Now())
	switch {
	case err != nil:
		c.Error(err)
	case n == 0:
		c.W.WriteArrayLen(0)
	default:
		c.ErrorString(errRandCountRange)
	}
	return true
}

// errRandCountRange refuses a negative random count below -maxRandCount:
// it repeats members, so the reply would be |count| long whatever the
// key's size. Redis streams it until memory runs out; skiff refuses it
// instead (docs/commands.md). The caller answers a missing key or another
// type first, as Redis does.
const errRandCountRange = "ERR value is out of range"

// parseRandCountArgs parses the count and the with-option (WITHVALUES,
// WITHSCORES) of HRANDFIELD and ZRANDMEMBER with a count, as Redis checks
// them; on failure it has written the error. The caller then checks the
// count's bound with randCountRefused.
func parseRandCountArgs(c *Ctx, with string) (count int64, withOpt, ok bool) {
	count, err := ParseInt(c.Args[2])
	if err != nil {
		c.Error(err)
		return 0, false, false
	}
	if count == math.MinInt64 {
		c.ErrorString("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, false, false
	}
	if len(c.Args) > 4 || (len(c.Args) == 4 && !c.ArgIs(3, with)) {
		c.SyntaxError()
		return 0, false, false
	} else if len(c.Args) == 4 {
		withOpt = true
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			c.ErrorString("ERR value is out of range")
			return 0, false, false
		}
	}
	return count, withOpt, true
}

// scanHead parses the cursor and options of HSCAN, SSCAN and ZSCAN (args 2
// on); on a bad option it answers as Redis does, which depends on the key
// (card gives its size or its type error). ok is false when it has written
// the reply.
func scanHead(c *Ctx, defCount int, card func(dbi int, key []byte, now int64) (int64, error)) (cursor uint64, match []byte, count int, ok bool) {
	cursor, ok = parseScanCursor(c.Args[2])
	if !ok {
		c.ErrorString("ERR invalid cursor")
		return 0, nil, 0, false
	}
	match, count, optErr := parseScanOptions(c, defCount)
	if optErr != nil {
		n, err := card(c.DB(), c.Args[1], c.Now())
		scanOptionError(c, optErr, n, err)
		return 0, nil, 0, false
	}
	return cursor, match, count, true
}

func cmdHScan(c *Ctx) {
	cursor, match, count, ok := scanHead(c, store.HashScanDefaultCount, c.Store().HLen)
	if !ok {
		return
	}
	next, names, vals, err := c.Store().HScan(c.DB(), c.Args[1], c.Now(), cursor, match, count)
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(strconv.AppendUint(nil, next, 10))
	c.W.WriteArrayLen(2 * len(names))
	for i, n := range names {
		c.W.WriteBulkString(n)
		c.W.WriteBulk(vals[i])
	}
}

// parseScanOptions parses HSCAN/SSCAN's MATCH and COUNT options (from
// argument 3). Redis answers a missing key (and WRONGTYPE) before it parses
// the options, so the caller keeps an option error until it knows the key
// exists: see scanOptionError.
func parseScanOptions(c *Ctx, defCount int) (match []byte, count int, err error) {
	count = defCount
	for i := 3; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			return nil, 0, ErrSyntax
		}
		switch {
		case c.ArgIs(i, "match"):
			match = c.Args[i+1]
			if len(match) == 1 && match[0] == '*' {
				match = nil
			}
		case c.ArgIs(i, "count"):
			n, perr := ParseInt(c.Args[i+1])
			switch {
			case perr != nil:
				return nil, 0, perr
			case n < 1:
				return nil, 0, ErrSyntax
			}
			count = int(min(n, math.MaxInt32))
		default:
			return nil, 0, ErrSyntax
		}
	}
	return match, count, nil
}

// scanOptionError answers a scan whose options did not parse, given the
// key's size (or lookup error): empty scan for a missing key, as Redis does.
func scanOptionError(c *Ctx, optErr error, size int64, lookupErr error) {
	switch {
	case lookupErr != nil:
		c.Error(lookupErr)
	case size == 0:
		writeEmptyScan(c)
	default:
		c.Error(optErr)
	}
}

func writeEmptyScan(c *Ctx) {
	c.W.WriteArrayLen(2)
	c.W.WriteBulkString("0")
	c.W.WriteArrayLen(0)
}

// parseScanCursor parses a cursor as Redis does (strtoul): an optional sign
// ("-1" wraps around), decimal digits, no leading space; "" is 0; a
// magnitude past 64 bits is invalid.
func parseScanCursor(b []byte) (uint64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // strtoul reads a C string: it ends at a NUL
	}
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	u, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		u = -u
	}
	return u, true
}
