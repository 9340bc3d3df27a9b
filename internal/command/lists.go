package command

import (
	"math"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// listCommands: the list family, non-blocking commands (the blocking ones,
// BLPOP and friends, come later).
func listCommands() []*Command {
	const g = "list"
	k1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 1, 1, g; return c }
	k2 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 2, 1, g; return c }
	return []*Command{
		k1(&Command{Name: "lpush", Arity: -3, Flags: Write | DenyOOM | Fast, Since: "1.0.0", Summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.", Handler: cmdPush}),
		k1(&Command{Name: "rpush", Arity: -3, Flags: Write | DenyOOM | Fast, Since: "1.0.0", Summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.", Handler: cmdPush}),
		k1(&Command{Name: "lpushx", Arity: -3, Flags: Write | DenyOOM | Fast, Since: "2.2.0", Summary: "Prepends one or more elements to a list only when the list exists.", Handler: cmdPush}),
		k1(&Command{Name: "rpushx", Arity: -3, Flags: Write | DenyOOM | Fast, Since: "2.2.0", Summary: "Appends an element to a list only when the list exists.", Handler: cmdPush}),
		k1(&Command{Name: "lpop", Arity: -2, Flags: Write | Fast, Since: "1.0.0", Summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", Handler: cmdPop}),
		k1(&Command{Name: "rpop", Arity: -2, Flags: Write | Fast, Since: "1.0.0", Summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", Handler: cmdPop}),
		k1(&Command{Name: "llen", Arity: 2, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Returns the length of a list.", Handler: sizeOf((*store.Store).ListLen)}),
		k1(&Command{Name: "lrange", Arity: 4, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns a range of elements from a list.", Handler: cmdLRange}),
		k1(&Command{Name: "lindex", Arity: 3, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns an element from a list by its index.", Handler: cmdLIndex}),
		k1(&Command{Name: "lset", Arity: 4, Flags: Write | DenyOOM, Since: "1.0.0", Summary: "Sets the value of an element in a list by its index.", Handler: cmdLSet}),
		k1(&Command{Name: "linsert", Arity: 5, Flags: Write | DenyOOM, Since: "2.2.0", Summary: "Inserts an element before or after another element in a list.", Handler: cmdLInsert}),
		k1(&Command{Name: "lrem", Arity: 4, Flags: Write, Since: "1.0.0", Summary: "Removes elements from a list. Deletes the list if the last element was removed.", Handler: cmdLRem}),
		k1(&Command{Name: "ltrim", Arity: 4, Flags: Write, Since: "1.0.0", Summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", Handler: cmdLTrim}),
		k1(&Command{Name: "lpos", Arity: -3, Flags: ReadOnly, Since: "6.0.6", Summary: "Returns the index of matching elements in a list.", Handler: cmdLPos}),
		k2(&Command{Name: "lmove", Arity: 5, Flags: Write | DenyOOM, Since: "6.2.0", Summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", Handler: cmdLMove}),
		k2(&Command{Name: "rpoplpush", Arity: 3, Flags: Write | DenyOOM, Since: "1.2.0", Summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", Handler: cmdLMove}),
		// Movable keys (numkeys): no fixed key positions.
		{Name: "lmpop", Arity: -4, Flags: Write, Group: g, Since: "7.0.0", Summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", Handler: cmdLMPop},
	}
}

// sizeOf returns the handler of LLEN, HLEN, SCARD and ZCARD: key's size
// read with size, 0 when absent.
func sizeOf(size func(st *store.Store, dbi int, key []byte, now int64) (int64, error)) Handler {
	return func(c *Ctx) {
		n, err := size(c.Store(), c.DB(), c.Args[1], c.Now())
		if err != nil {
			c.Error(err)
			return
		}
		c.W.WriteInt(n)
	}
}

var (
	endLeft  = []byte("0")
	endRight = []byte("1")
)

// parseEnd parses LEFT/RIGHT into an op end argument.
func parseEnd(c *Ctx, i int) ([]byte, bool) {
	switch {
	case c.ArgIs(i, "left"):
		return endLeft, true
	case c.ArgIs(i, "right"):
		return endRight, true
	}
	return nil, false
}

func cmdPush(c *Ctx) {
	name := c.Cmd.Name
	end, xx := endLeft, endLeft
	if name[0] == 'r' {
		end = endRight
	}
	if name[len(name)-1] == 'x' {
		xx = endRight
	}
	args := append([][]byte{c.Args[1], end, xx}, c.Args[2:]...)
	c.Propose(c.NewOp(op.ListPush, args...), ReplyInt)
}

func cmdPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.WrongArity()
		return
	}
	end := endLeft
	if c.Cmd.Name == "rpop" {
		end = endRight
	}
	if len(c.Args) == 2 {
		c.Propose(c.NewOp(op.ListPop, c.Args[1], end, []byte("-1")), ReplyBulkOrNull)
		return
	}
	n, err := ParseInt(c.Args[2])
	if err != nil || n < 0 {
		c.ErrorString("ERR value is out of range, must be positive")
		return
	}
	c.Propose(c.NewOp(op.ListPop, c.Args[1], end, op.Itoa(n)), replyPopCount)
}

// replyPopCount writes a [][]byte as an array, nil as a null array.
func replyPopCount(c *Ctx, v any) {
	elems, ok := v.([][]byte)
	if !ok {
		c.W.WriteNullArray()
		return
	}
	writeBulks(c, elems)
}

func writeBulks(c *Ctx, elems [][]byte) {
	c.W.WriteArrayLen(len(elems))
	for _, e := range elems {
		c.W.WriteBulk(e)
	}
}

func cmdLRange(c *Ctx) {
	start, stop, ok := rangeArgs(c)
	if !ok {
		return
	}
	elems, err := c.Store().ListRange(c.DB(), c.Args[1], start, stop, c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	writeBulks(c, elems)
}

func cmdLIndex(c *Ctx) {
	idx, perr := ParseInt(c.Args[2])
	if perr != nil {
		// Redis looks the key up before it parses the index.
		_, err := c.Store().ListLen(c.DB(), c.Args[1], c.Now())
		if err != nil {
			c.Error(err)
		} else if c.Store().Type(c.DB(), c.Args[1], c.Now()) == store.TypeNone {
			c.W.WriteNull()
		} else {
			c.Error(perr)
		}
		return
	}
	v, ok, err := c.Store().ListIndex(c.DB(), c.Args[1], idx, c.Now())
	switch {
	case err != nil:
		c.Error(err)
	case !ok:
		c.W.WriteNull()
	default:
		c.W.WriteBulk(v)
	}
}

func cmdLSet(c *Ctx) {
	// The index is parsed by apply: Redis reports a missing key or a wrong
	// type before a bad index.
	c.Propose(c.NewOp(op.ListSet, c.Args[1], c.Args[2], c.Args[3]), ReplyOK)
}

func cmdLInsert(c *Ctx) {
	var before []byte
	switch {
	case c.ArgIs(2, "before"):
		before = endRight
	case c.ArgIs(2, "after"):
		before = endLeft
	default:
		c.SyntaxError()
		return
	}
	c.Propose(c.NewOp(op.ListInsert, c.Args[1], before, c.Args[3], c.Args[4]), ReplyInt)
}

func cmdLRem(c *Ctx) {
	n, err := ParseInt(c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	c.Propose(c.NewOp(op.ListRem, c.Args[1], op.Itoa(n), c.Args[3]), ReplyInt)
}

func cmdLTrim(c *Ctx) {
	start, stop, ok := rangeArgs(c)
	if !ok {
		return
	}
	c.Propose(c.NewOp(op.ListTrim, c.Args[1], op.Itoa(start), op.Itoa(stop)), ReplyOK)
}

func cmdLPos(c *Ctx) {
	rank, count, maxLen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			c.SyntaxError()
			return
		}
		n, err := ParseInt(c.Args[i+1])
		switch {
		case c.ArgIs(i, "rank"):
			if err != nil {
				c.Error(err)
				return
			}
			if n == 0 {
				c.ErrorString("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case c.ArgIs(i, "count"):
			if err != nil || n < 0 {
				c.ErrorString("ERR COUNT can't be negative")
				return
			}
			count = n
		case c.ArgIs(i, "maxlen"):
			if err != nil || n < 0 {
				c.ErrorString("ERR MAXLEN can't be negative")
				return
			}
			maxLen = n
		default:
			c.SyntaxError()
			return
		}
	}
	if rank == math.MinInt64 && count > 0 {
		// Redis negates the rank (staying LONG_MIN) and stops after count
		// matches by "matches-rank+1 >= count", which overflows: a COUNT is
		// ignored and every match returned.
		count = 0
	}
	want := count
	if count < 0 {
		want = 1
	}
	pos, err := c.Store().ListPos(c.DB(), c.Args[1], c.Args[2], rank, want, maxLen, c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	if count < 0 {
		if len(pos) == 0 {
			c.W.WriteNull()
		} else {
			c.W.WriteInt(pos[0])
		}
		return
	}
	c.W.WriteArrayLen(len(pos))
	for _, p := range pos {
		c.W.WriteInt(p)
	}
}

func cmdLMove(c *Ctx) {
	from, to := endRight, endLeft // RPOPLPUSH
	if c.Cmd.Name == "lmove" {
		var ok1, ok2 bool
		from, ok1 = parseEnd(c, 3)
		to, ok2 = parseEnd(c, 4)
		if !ok1 || !ok2 {
			c.SyntaxError()
			return
		}
	}
	c.Propose(c.NewOp(op.ListMove, c.Args[1], c.Args[2], from, to), ReplyBulkOrNull)
}

func cmdLMPop(c *Ctx) {
	end, count, keys, ok := parseMPop(c, 1, parseEnd)
	if !ok {
		return
	}
	args := append([][]byte{end, op.Itoa(count)}, keys...)
	c.Propose(c.NewOp(op.ListMPop, args...), replyLMPop)
}

// parseMPop parses LMPOP's "numkeys key ... LEFT|RIGHT [COUNT count]"
// (ZMPOP's with MIN|MAX: where parses that argument) starting at argument
// off (the blocking forms have their timeout first); on failure it has
// written the error.
func parseMPop(c *Ctx, off int, where func(c *Ctx, i int) ([]byte, bool)) (end []byte, count int64, keys [][]byte, ok bool) {
	numKeys, err := ParseInt(c.Args[off])
	if err != nil || numKeys <= 0 {
		c.ErrorString("ERR numkeys should be greater than 0")
		return nil, 0, nil, false
	}
	if numKeys >= int64(len(c.Args)-off)-1 {
		c.SyntaxError()
		return nil, 0, nil, false
	}
	whereIdx := off + 1 + int(numKeys)
	end, ok = where(c, whereIdx)
	if !ok {
		c.SyntaxError()
		return nil, 0, nil, false
	}
	count = -1
	for i := whereIdx + 1; i < len(c.Args); i++ {
		if count == -1 && c.ArgIs(i, "count") && i+1 < len(c.Args) {
			i++
			n, err := ParseInt(c.Args[i])
			if err != nil || n <= 0 {
				c.ErrorString("ERR count should be greater than 0")
				return nil, 0, nil, false
			}
			count = n
			continue
		}
		c.SyntaxError()
		return nil, 0, nil, false
	}
	return end, max(count, 1), c.Args[off+1 : whereIdx], true
}

// replyLMPop writes [key, [elements]] from a [][]byte{key, element ...}, or
// a null array.
func replyLMPop(c *Ctx, v any) {
	r, ok := v.([][]byte)
	if !ok || len(r) == 0 {
		c.W.WriteNullArray()
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(r[0])
	writeBulks(c, r[1:])
}

// rangeArgs parses the start and stop index arguments (2 and 3) of LRANGE,
// LTRIM and GETRANGE; on failure it has written the error.
func rangeArgs(c *Ctx) (start, stop int64, ok bool) {
	start, err := ParseInt(c.Args[2])
	if err == nil {
		stop, err = ParseInt(c.Args[3])
	}
	if err != nil {
		c.Error(err)
		return 0, 0, false
	}
	return start, stop, true
}
