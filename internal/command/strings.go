package command

import (
	"math"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

func stringCommands() []*Command {
	const g = "string"
	return []*Command{
		{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Returns the string value of a key.", Handler: cmdGet},
		{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Handler: cmdSet},
		{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Set the string value of a key only when the key doesn't exist.", Handler: cmdSetNX},
		{Name: "setex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0", Summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", Handler: cmdSetEX},
		{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.6.0", Summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", Handler: cmdSetEX},
		{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Returns the previous string value of a key after setting it to a new value.", Handler: cmdGetSet},
		{Name: "getdel", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0", Summary: "Returns the string value of a key after deleting the key.", Handler: cmdGetDel},
		{Name: "getex", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0", Summary: "Returns the string value of a key after setting its expiration time.", Handler: cmdGetEx},
		{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Group: g, Since: "1.0.0", Summary: "Atomically returns the string values of one or more keys.", Handler: cmdMGet},
		{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Group: g, Since: "1.0.1", Summary: "Atomically creates or modifies the string values of one or more keys.", Handler: cmdMSet},
		{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Group: g, Since: "1.0.1", Summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", Handler: cmdMSet},
		{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0", Summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", Handler: cmdAppend},
		{Name: "strlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0", Summary: "Returns the length of a string value.", Handler: cmdStrlen},
		{Name: "getrange", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.4.0", Summary: "Returns a substring of the string stored at a key.", Handler: cmdGetRange},
		{Name: "substr", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Returns a substring from a string value.", Handler: cmdGetRange},
		{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0", Summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Handler: cmdSetRange},
		{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Handler: cmdIncr},
		{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Handler: cmdIncr},
		{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Handler: cmdIncr},
		{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.0", Summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", Handler: cmdIncr},
		{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.6.0", Summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Handler: cmdIncrByFloat},
		{Name: "lcs", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "7.0.0", Summary: "Finds the longest common substring.", Handler: cmdLCS},
	}
}

func cmdGet(c *Ctx) {
	v, ok, err := c.Store().Get(c.DB(), c.Args[1], c.Now())
	switch {
	case err != nil:
		c.Error(err)
	case !ok:
		c.Srv.stats.keyspaceMiss.Add(1)
		c.W.WriteNull()
	default:
		c.Srv.stats.keyspaceHits.Add(1)
		c.W.WriteBulk(v)
	}
}

// expireArg is one of the EX/PX/EXAT/PXAT options.
type expireUnit int

const (
	unitNone expireUnit = iota
	unitEX
	unitPX
	unitEXAT
	unitPXAT
)

// deadline converts an expire option value to an absolute unix-ms deadline
// with Redis's validation (getExpireMillisecondsOrReply).
func deadline(c *Ctx, unit expireUnit, arg []byte) (int64, error) {
	n, err := ParseInt(arg)
	if err != nil {
		return 0, err
	}
	invalid := replyError("ERR invalid expire time in '" + c.Cmd.Name + "' command")
	if n <= 0 {
		return 0, invalid
	}
	if unit == unitEX || unit == unitEXAT {
		if n > math.MaxInt64/1000 {
			return 0, invalid
		}
		n *= 1000
	}
	if unit == unitEX || unit == unitPX {
		now := c.Now()
		if n > math.MaxInt64-now {
			return 0, invalid
		}
		n += now
	}
	return n, nil
}

// setOpts is what parseSetOptions found: SET's flags (op.SetNX, op.SetXX,
// op.SetGet, op.SetKeepTTL), GETEX's PERSIST, and the expire option that
// counts (the last one given) with its unvalidated argument.
type setOpts struct {
	flags   int64
	persist bool
	unit    expireUnit
	expArg  []byte
}

// parseSetOptions parses the options of SET (from argument 3) or GETEX
// (getex: from argument 2) exactly as Redis's
// parseExtendedStringArgumentsOrReply does: an option is refused only when it
// conflicts with a different one already given, so "PX 1 PX 2" is PX 2 and
// "NX NX" is NX. ok is false when it wrote the syntax error.
func parseSetOptions(c *Ctx, getex bool) (o setOpts, ok bool) {
	from := 3
	if getex {
		from = 2
	}
	// Any expire option other than the one named conflicts with it.
	otherExpire := func(u expireUnit) bool { return o.unit != unitNone && o.unit != u }
	for i := from; i < len(c.Args); i++ {
		hasNext := i+1 < len(c.Args)
		var u expireUnit
		switch {
		case !getex && c.ArgIs(i, "nx") && o.flags&op.SetXX == 0:
			o.flags |= op.SetNX
			continue
		case !getex && c.ArgIs(i, "xx") && o.flags&op.SetNX == 0:
			o.flags |= op.SetXX
			continue
		case !getex && c.ArgIs(i, "get"):
			o.flags |= op.SetGet
			continue
		case !getex && c.ArgIs(i, "keepttl") && o.unit == unitNone:
			o.flags |= op.SetKeepTTL
			continue
		case getex && c.ArgIs(i, "persist") && o.unit == unitNone:
			o.persist = true
			continue
		case c.ArgIs(i, "ex"):
			u = unitEX
		case c.ArgIs(i, "px"):
			u = unitPX
		case c.ArgIs(i, "exat"):
			u = unitEXAT
		case c.ArgIs(i, "pxat"):
			u = unitPXAT
		}
		if u == unitNone || !hasNext || otherExpire(u) || o.flags&op.SetKeepTTL != 0 || o.persist {
			c.SyntaxError()
			return o, false
		}
		o.unit = u
		i++
		o.expArg = c.Args[i]
	}
	return o, true
}

func cmdSet(c *Ctx) {
	o, ok := parseSetOptions(c, false)
	if !ok {
		return
	}
	var at int64
	if o.unit != unitNone {
		var err error
		if at, err = deadline(c, o.unit, o.expArg); err != nil {
			c.Error(err)
			return
		}
	}
	c.Propose(c.NewOp(op.Set, c.Args[1], c.Args[2], op.Itoa(o.flags), op.Itoa(at)), replySet)
}

// replySet writes SET's reply: with GET the old value (a store.SetResult),
// else OK or null (int64 1 or 0).
func replySet(c *Ctx, v any) {
	if r, ok := v.(store.SetResult); ok {
		if r.HadOld {
			c.W.WriteBulk(r.Old)
		} else {
			c.W.WriteNull()
		}
		return
	}
	if v.(int64) == 1 {
		c.OK()
	} else {
		c.W.WriteNull()
	}
}

func cmdSetNX(c *Ctx) {
	c.Propose(c.NewOp(op.Set, c.Args[1], c.Args[2], op.Itoa(op.SetNX), op.Itoa(0)), ReplyInt)
}

func cmdSetEX(c *Ctx) {
	unit := unitEX
	if c.Cmd.Name == "psetex" {
		unit = unitPX
	}
	at, err := deadline(c, unit, c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	c.Propose(c.NewOp(op.Set, c.Args[1], c.Args[3], op.Itoa(0), op.Itoa(at)), ReplyOK)
}

func cmdGetSet(c *Ctx) {
	c.Propose(c.NewOp(op.Set, c.Args[1], c.Args[2], op.Itoa(op.SetGet), op.Itoa(0)), replySet)
}

func cmdGetDel(c *Ctx) {
	c.Propose(c.NewOp(op.GetDel, c.Args[1]), ReplyBulkOrNull)
}

// cmdGetEx follows Redis's getexCommand: options first (syntax errors),
// then the key (a missing key answers null and a wrong type WRONGTYPE before
// the expire time is validated), then the expire time. The key is looked up
// where the op applies, in log order (a pipeline's earlier writes may not be
// applied yet when this handler runs), so an invalid expire time is proposed
// as a GETEX that changes nothing and answered as an error only when the key
// holds a string.
func cmdGetEx(c *Ctx) {
	o, ok := parseSetOptions(c, true)
	if !ok {
		return
	}
	if o.unit == unitNone && !o.persist {
		cmdGet(c)
		return
	}
	at := int64(-1) // PERSIST
	if o.unit != unitNone {
		var err error
		if at, err = deadline(c, o.unit, o.expArg); err != nil {
			c.Propose(c.NewOp(op.GetEx, c.Args[1], op.Itoa(0)), func(c *Ctx, v any) {
				if b, ok := v.([]byte); ok && b != nil {
					c.Error(err)
					return
				}
				c.W.WriteNull()
			})
			return
		}
	}
	c.Propose(c.NewOp(op.GetEx, c.Args[1], op.Itoa(at)), ReplyBulkOrNull)
}

func cmdMGet(c *Ctx) {
	keys := c.Args[1:]
	c.W.WriteArrayLen(len(keys))
	c.Store().MGet(c.DB(), keys, c.Now(), func(v []byte, ok bool) {
		if ok {
			c.W.WriteBulk(v)
		} else {
			c.W.WriteNull()
		}
	})
}

func cmdMSet(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.WrongArity()
		return
	}
	if c.Cmd.Name == "msetnx" {
		c.Propose(c.NewOp(op.MSetNX, c.Args[1:]...), ReplyInt)
		return
	}
	c.Propose(c.NewOp(op.MSet, c.Args[1:]...), ReplyOK)
}

func cmdAppend(c *Ctx) {
	c.Propose(c.NewOp(op.Append, c.Args[1], c.Args[2]), ReplyInt)
}

func cmdStrlen(c *Ctx) {
	v, _, err := c.Store().Get(c.DB(), c.Args[1], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteInt(int64(len(v)))
}

func cmdGetRange(c *Ctx) {
	start, end, ok := rangeArgs(c)
	if !ok {
		return
	}
	v, _, err := c.Store().Get(c.DB(), c.Args[1], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.W.WriteBulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.WriteBulk(nil)
		return
	}
	c.W.WriteBulk(v[start : end+1])
}

func cmdSetRange(c *Ctx) {
	off, err := ParseInt(c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	if off < 0 {
		c.Error(ErrOffsetRange)
		return
	}
	// The rest (WRONGTYPE, then nothing to write, then too long) is decided
	// where the op applies, in Redis's order.
	c.Propose(c.NewOp(op.SetRange, c.Args[1], op.Itoa(off), c.Args[3]), ReplyInt)
}

func cmdIncr(c *Ctx) {
	var delta int64 = 1
	switch c.Cmd.Name {
	case "decr":
		delta = -1
	case "incrby", "decrby":
		n, err := ParseInt(c.Args[2])
		if err != nil {
			c.Error(err)
			return
		}
		delta = n
		if c.Cmd.Name == "decrby" {
			if n == math.MinInt64 {
				c.ErrorString("ERR decrement would overflow")
				return
			}
			delta = -n
		}
	}
	c.Propose(c.NewOp(op.IncrBy, c.Args[1], op.Itoa(delta)), ReplyInt)
}

// cmdIncrByFloat leaves every check to the store, in Redis's order:
// WRONGTYPE, then the current value, then the increment (both "not a valid
// float").
func cmdIncrByFloat(c *Ctx) {
	c.Propose(c.NewOp(op.IncrByFloat, c.Args[1], c.Args[2]), ReplyBulkOrNull)
}
