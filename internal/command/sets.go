package command

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// setCommands: the set family.
func setCommands() []*Command {
	const g = "set"
	k1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 1, 1, g; return c }
	k2 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 2, 1, g; return c }
	kAll := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, -1, 1, g; return c }
	return []*Command{
		k1(&Command{Name: "sadd", Arity: -3, Flags: Write | DenyOOM | Fast, Since: "1.0.0", Summary: "Adds one or more members to a set. Creates the key if it doesn't exist.", Handler: cmdSAdd}),
		k1(&Command{Name: "srem", Arity: -3, Flags: Write | Fast, Since: "1.0.0", Summary: "Removes one or more members from a set. Deletes the set if the last member was removed.", Handler: cmdSRem}),
		k1(&Command{Name: "smembers", Arity: 2, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns all members of a set.", Handler: cmdSMembers}),
		k1(&Command{Name: "sismember", Arity: 3, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Determines whether a member belongs to a set.", Handler: cmdSIsMember}),
		k1(&Command{Name: "smismember", Arity: -3, Flags: ReadOnly | Fast, Since: "6.2.0", Summary: "Determines whether multiple members belong to a set.", Handler: cmdSIsMember}),
		k1(&Command{Name: "scard", Arity: 2, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Returns the number of members in a set.", Handler: sizeOf((*store.Store).SCard)}),
		k1(&Command{Name: "spop", Arity: -2, Flags: Write | Fast, Since: "1.0.0", Summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", Handler: cmdSPop}),
		k1(&Command{Name: "srandmember", Arity: -2, Flags: ReadOnly, Since: "1.0.0", Summary: "Get one or multiple random members from a set", Handler: cmdSRandMember}),
		k2(&Command{Name: "smove", Arity: 4, Flags: Write | Fast, Since: "1.0.0", Summary: "Moves a member from one set to another.", Handler: cmdSMove}),
		kAll(&Command{Name: "sinter", Arity: -2, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns the intersect of multiple sets.", Handler: cmdSAlgebra}),
		kAll(&Command{Name: "sunion", Arity: -2, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns the union of multiple sets.", Handler: cmdSAlgebra}),
		kAll(&Command{Name: "sdiff", Arity: -2, Flags: ReadOnly, Since: "1.0.0", Summary: "Returns the difference of multiple sets.", Handler: cmdSAlgebra}),
		kAll(&Command{Name: "sinterstore", Arity: -3, Flags: Write | DenyOOM, Since: "1.0.0", Summary: "Stores the intersect of multiple sets in a key.", Handler: cmdSStore}),
		kAll(&Command{Name: "sunionstore", Arity: -3, Flags: Write | DenyOOM, Since: "1.0.0", Summary: "Stores the union of multiple sets in a key.", Handler: cmdSStore}),
		kAll(&Command{Name: "sdiffstore", Arity: -3, Flags: Write | DenyOOM, Since: "1.0.0", Summary: "Stores the difference of multiple sets in a key.", Handler: cmdSStore}),
		// Movable keys (numkeys): no fixed key positions.
		{Name: "sintercard", Arity: -3, Flags: ReadOnly, Group: g, Since: "7.0.0", Summary: "Returns the number of members of the intersect of multiple sets.", Handler: cmdSInterCard},
		k1(&Command{Name: "sscan", Arity: -3, Flags: ReadOnly, Since: "2.8.0", Summary: "Iterates over members of a set.", Handler: cmdSScan}),
	}
}

func cmdSAdd(c *Ctx) { c.Propose(c.NewOp(op.SAdd, c.Args[1:]...), ReplyInt) }

func cmdSRem(c *Ctx) { c.Propose(c.NewOp(op.SRem, c.Args[1:]...), ReplyInt) }

// writeSet writes members as a set reply (an array in RESP2).
func writeSet(c *Ctx, members []string) {
	c.W.WriteSetLen(len(members))
	for _, m := range members {
		c.W.WriteBulkString(m)
	}
}

func cmdSMembers(c *Ctx) {
	ms, err := c.Store().SMembers(c.DB(), c.Args[1], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	writeSet(c, ms)
}

// cmdSIsMember serves SISMEMBER and SMISMEMBER.
func cmdSIsMember(c *Ctx) {
	in, err := c.Store().SIsMember(c.DB(), c.Args[1], c.Args[2:], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	b2i := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	if c.Cmd.Name == "sismember" {
		c.W.WriteInt(b2i(in[0]))
		return
	}
	c.W.WriteArrayLen(len(in))
	for _, b := range in {
		c.W.WriteInt(b2i(b))
	}
}

// flushPending sends this client's pending pipeline batch before a write
// handler reads the store (SPOP chooses its members from the state the
// earlier writes of the pipeline leave).
func (c *Ctx) flushPending() {
	if !c.batched || c.Client.batch.empty() {
		return
	}
	w, cmd := c.W, c.Cmd
	c.Srv.FlushBatch(c.Client, c.out)
	c.W, c.Cmd, c.failed = w, cmd, false
}

// cmdSPop chooses the members on the leader, when the command is prepared,
// and replicates their removal (op.SPop): every replica removes the same
// members. A member removed meanwhile by an earlier operation is simply not
// in the reply.
func cmdSPop(c *Ctx) {
	withCount := len(c.Args) == 3
	count := int64(1)
	if len(c.Args) > 3 {
		c.SyntaxError()
		return
	}
	if withCount {
		n, err := ParseInt(c.Args[2])
		if err != nil || n < 0 {
			c.ErrorString("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	c.flushPending()
	ms, found, err := c.Store().SRandMember(c.DB(), c.Args[1], c.Now(), count, rand.Uint64)
	switch {
	case err != nil:
		c.Error(err)
		return
	case !found || len(ms) == 0:
		if withCount {
			writeSet(c, nil)
		} else {
			c.W.WriteNull()
		}
		return
	}
	args := make([][]byte, 0, 1+len(ms))
	args = append(args, c.Args[1])
	for _, m := range ms {
		args = append(args, []byte(m))
	}
	o := &op.Op{Code: op.SPop, DB: c.DB(), Time: c.Now(), Args: args}
	if withCount {
		c.Propose(o, replySPopCount)
	} else {
		c.Propose(o, replySPopOne)
	}
}

func replySPopOne(c *Ctx, v any) {
	ms := v.([][]byte)
	if len(ms) == 0 {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(ms[0])
}

func replySPopCount(c *Ctx, v any) {
	ms := v.([][]byte)
	c.W.WriteSetLen(len(ms))
	for _, m := range ms {
		c.W.WriteBulk(m)
	}
}

func cmdSRandMember(c *Ctx) {
	if len(c.Args) == 2 {
		ms, found, err := c.Store().SRandMember(c.DB(), c.Args[1], c.Now(), 1, rand.Uint64)
		switch {
		case err != nil:
			c.Error(err)
		case !found:
			c.W.WriteNull()
		default:
			c.W.WriteBulkString(ms[0])
		}
		return
	}
	if len(c.Args) > 3 {
		c.SyntaxError()
		return
	}
	count, err := ParseInt(c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	if count == math.MinInt64 {
		c.ErrorString("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	if randCountRefused(c, count, c.Store().SCard) {
		return
	}
	ms, _, err := c.Store().SRandMember(c.DB(), c.Args[1], c.Now(), count, rand.Uint64)
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(len(ms))
	for _, m := range ms {
		c.W.WriteBulkString(m)
	}
}

func cmdSMove(c *Ctx) {
	c.Propose(c.NewOp(op.SMove, c.Args[1], c.Args[2], c.Args[3]), ReplyInt)
}

func algebraKind(name string) int {
	switch name {
	case "sinter", "sinterstore":
		return store.SetInter
	case "sunion", "sunionstore":
		return store.SetUnion
	}
	return store.SetDiff
}

// cmdSAlgebra serves SINTER, SUNION and SDIFF.
func cmdSAlgebra(c *Ctx) {
	ms, err := c.Store().SetAlgebra(c.DB(), c.Args[1:], algebraKind(c.Cmd.Name), 0, c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	writeSet(c, ms)
}

// cmdSStore serves SINTERSTORE, SUNIONSTORE and SDIFFSTORE: computed in
// apply, from the replicated state.
func cmdSStore(c *Ctx) {
	code := map[int]op.Code{store.SetInter: op.SInterStore, store.SetUnion: op.SUnionStore, store.SetDiff: op.SDiffStore}[algebraKind(c.Cmd.Name)]
	c.Propose(&op.Op{Code: code, DB: c.DB(), Time: c.Now(), Args: c.Args[1:]}, ReplyInt)
}

func cmdSInterCard(c *Ctx) {
	numkeys, err := ParseInt(c.Args[1])
	if err != nil || numkeys <= 0 {
		c.ErrorString("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(c.Args)-2) {
		c.ErrorString("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := c.Args[2 : 2+numkeys]
	limit := int64(0)
	for i := 2 + int(numkeys); i < len(c.Args); i += 2 {
		if !c.ArgIs(i, "limit") || i+1 >= len(c.Args) {
			c.SyntaxError()
			return
		}
		n, err := ParseInt(c.Args[i+1])
		if err != nil {
			c.ErrorString("ERR LIMIT can't be negative")
			return
		}
		if n < 0 {
			c.ErrorString("ERR LIMIT can't be negative")
			return
		}
		limit = n
	}
	ms, err := c.Store().SetAlgebra(c.DB(), keys, store.SetInter, int(min(limit, math.MaxInt32)), c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteInt(int64(len(ms)))
}

func cmdSScan(c *Ctx) {
	cursor, match, count, ok := scanHead(c, store.SetScanDefaultCount, c.Store().SCard)
	if !ok {
		return
	}
	next, ms, err := c.Store().SScan(c.DB(), c.Args[1], c.Now(), cursor, match, count)
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(strconv.AppendUint(nil, next, 10))
	c.W.WriteArrayLen(len(ms))
	for _, m := range ms {
		c.W.WriteBulkString(m)
	}
}
