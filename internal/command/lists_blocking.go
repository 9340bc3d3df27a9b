package command

import (
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// The blocking list commands, on the machinery of blocking.go.
func listBlockingCommands() []*Command {
	const g = "list"
	return []*Command{
		{Name: "blpop", Arity: -3, Flags: Write | NoScript | Blocking, Group: g, Since: "2.0.0", FirstKey: 1, LastKey: -2, Step: 1, Summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Handler: cmdBPop},
		{Name: "brpop", Arity: -3, Flags: Write | NoScript | Blocking, Group: g, Since: "2.0.0", FirstKey: 1, LastKey: -2, Step: 1, Summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Handler: cmdBPop},
		{Name: "blmove", Arity: 6, Flags: Write | DenyOOM | NoScript | Blocking, Group: g, Since: "6.2.0", FirstKey: 1, LastKey: 2, Step: 1, Summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", Handler: cmdBLMove},
		{Name: "brpoplpush", Arity: 4, Flags: Write | DenyOOM | NoScript | Blocking, Group: g, Since: "2.2.0", FirstKey: 1, LastKey: 2, Step: 1, Summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", Handler: cmdBLMove},
		{Name: "blmpop", Arity: -5, Flags: Write | Blocking, Group: g, Since: "7.0.0", Summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", Handler: cmdBLMPop},
	}
}

// firstNonEmpty returns the first key whose length (by size: LLEN, ZCARD)
// is not zero, nil when none, or the error of the first key of another type
// met before one (WRONGTYPE).
func firstNonEmpty(c *Ctx, keys [][]byte, size func(dbi int, key []byte, now int64) (int64, error)) ([]byte, error) {
	db, now := c.DB(), c.Now()
	for _, k := range keys {
		n, err := size(db, k, now)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return k, nil
		}
	}
	return nil, nil
}

func firstNonEmptyList(c *Ctx, keys [][]byte) ([]byte, error) {
	return firstNonEmpty(c, keys, c.Store().ListLen)
}

func nullArray(c *Ctx) { c.W.WriteNullArray() }

// cmdBPop is BLPOP and BRPOP key [key ...] timeout.
func cmdBPop(c *Ctx) {
	end := endLeft
	if c.Cmd.Name == "brpop" {
		end = endRight
	}
	blockPop(c, firstNonEmptyList, op.ListMPop, end, replyKeyElement)
}

// blockPop runs "key [key ...] timeout" (BLPOP, BRPOP, BZPOPMIN,
// BZPOPMAX): one element from the first non-empty key, by code (LMPOP's or
// ZMPOP's op) from end where.
func blockPop(c *Ctx, first func(*Ctx, [][]byte) ([]byte, error), code op.Code, where []byte, reply ReplyFunc) {
	timeout, err := parseTimeout(c.Args[len(c.Args)-1])
	if err != nil {
		c.Error(err)
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	c.blockOn(blockSpec{
		keys:    keys,
		timeout: timeout,
		first:   func(c *Ctx) ([]byte, error) { return first(c, keys) },
		inner: func(key []byte) (op.Code, [][]byte) {
			return code, [][]byte{where, []byte("1"), key}
		},
		reply:    reply,
		timedOut: nullArray,
	})
}

// blockMPop runs "timeout numkeys key ... where [COUNT count]" (BLMPOP,
// BZMPOP): parseWhere reads where (LEFT|RIGHT, MIN|MAX).
func blockMPop(c *Ctx, parseWhere func(*Ctx, int) ([]byte, bool), first func(*Ctx, [][]byte) ([]byte, error), code op.Code, reply ReplyFunc) {
	where, count, keys, ok := parseMPop(c, 2, parseWhere)
	if !ok {
		return
	}
	timeout, err := parseTimeout(c.Args[1])
	if err != nil {
		c.Error(err)
		return
	}
	c.blockOn(blockSpec{
		keys:    keys,
		timeout: timeout,
		first:   func(c *Ctx) ([]byte, error) { return first(c, keys) },
		inner: func(key []byte) (op.Code, [][]byte) {
			return code, [][]byte{where, op.Itoa(count), key}
		},
		reply:    reply,
		timedOut: nullArray,
	})
}

// replyKeyElement writes [key, element] from ListMPop's [key, element].
func replyKeyElement(c *Ctx, v any) {
	r, ok := v.([][]byte)
	if !ok || len(r) < 2 {
		c.W.WriteNullArray()
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(r[0])
	c.W.WriteBulk(r[1])
}

// cmdBLMove is BLMOVE src dst LEFT|RIGHT LEFT|RIGHT timeout and
// BRPOPLPUSH src dst timeout.
func cmdBLMove(c *Ctx) {
	from, to := endRight, endLeft
	if c.Cmd.Name == "blmove" {
		var ok1, ok2 bool
		from, ok1 = parseEnd(c, 3)
		to, ok2 = parseEnd(c, 4)
		if !ok1 || !ok2 {
			c.SyntaxError()
			return
		}
	}
	timeout, err := parseTimeout(c.Args[len(c.Args)-1])
	if err != nil {
		c.Error(err)
		return
	}
	src, dst := c.Args[1], c.Args[2]
	c.blockOn(blockSpec{
		keys:    [][]byte{src},
		timeout: timeout,
		first: func(c *Ctx) ([]byte, error) {
			k, err := firstNonEmptyList(c, [][]byte{src})
			if k != nil && err == nil {
				// As LMOVE: the destination must hold a list (or nothing).
				if t := c.Store().Type(c.DB(), dst, c.Now()); t != store.TypeNone && t != store.TypeList {
					return nil, store.ErrWrongType
				}
			}
			return k, err
		},
		inner: func(key []byte) (op.Code, [][]byte) {
			return op.ListMove, [][]byte{key, dst, from, to}
		},
		reply: ReplyBulkOrNull,
		timedOut: func(c *Ctx) {
			if c.InExec() {
				c.W.WriteNull()
				return
			}
			c.W.WriteNullArray()
		},
	})
}

// cmdBLMPop is BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
func cmdBLMPop(c *Ctx) { blockMPop(c, parseEnd, firstNonEmptyList, op.ListMPop, replyLMPop) }
