package command

import (
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// The blocking sorted-set commands, on the machinery of blocking.go.
func zsetBlockingCommands() []*Command {
	const g = "sorted-set"
	return []*Command{
		{Name: "bzpopmin", Arity: -3, Flags: Write | NoScript | Blocking | Fast, Group: g, Since: "5.0.0", FirstKey: 1, LastKey: -2, Step: 1, Summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Handler: cmdBZPop},
		{Name: "bzpopmax", Arity: -3, Flags: Write | NoScript | Blocking | Fast, Group: g, Since: "5.0.0", FirstKey: 1, LastKey: -2, Step: 1, Summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", Handler: cmdBZPop},
		{Name: "bzmpop", Arity: -5, Flags: Write | Blocking, Group: g, Since: "7.0.0", Summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Handler: cmdBZMPop},
	}
}

func firstNonEmptyZSet(c *Ctx, keys [][]byte) ([]byte, error) {
	return firstNonEmpty(c, keys, c.Store().ZCard)
}

// cmdBZPop is BZPOPMIN and BZPOPMAX key [key ...] timeout.
func cmdBZPop(c *Ctx) {
	where := zpopMin
	if c.Cmd.Name == "bzpopmax" {
		where = zpopMax
	}
	blockPop(c, firstNonEmptyZSet, op.ZMPop, where, replyBZPop)
}

// replyBZPop writes [key, member, score].
func replyBZPop(c *Ctx, v any) {
	p, ok := v.(store.ZPopped)
	if !ok || len(p.Entries) == 0 {
		c.W.WriteNullArray()
		return
	}
	c.W.WriteArrayLen(3)
	c.W.WriteBulk(p.Key)
	c.W.WriteBulkString(p.Entries[0].Member)
	c.W.WriteDouble(p.Entries[0].Score)
}

// cmdBZMPop is BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
func cmdBZMPop(c *Ctx) { blockMPop(c, parseMinMax, firstNonEmptyZSet, op.ZMPop, replyZMPop) }
