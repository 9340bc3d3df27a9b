package command

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// zsetCommands: the sorted-set family, non-blocking commands (BZPOPMIN,
// BZPOPMAX and BZMPOP build on op.ZMPop).
func zsetCommands() []*Command {
	const g = "sorted-set"
	k1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 1, 1, g; return c }
	k2 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 2, 1, g; return c }
	// Movable keys (numkeys): no fixed key positions.
	mv := func(c *Command) *Command { c.Group = g; return c }
	return []*Command{
		k1(&Command{Name: "zadd", Arity: -4, Flags: Write | DenyOOM | Fast, Since: "1.2.0", Summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", Handler: cmdZAdd}),
		k1(&Command{Name: "zincrby", Arity: 4, Flags: Write | DenyOOM | Fast, Since: "1.2.0", Summary: "Increments the score of a member in a sorted set.", Handler: cmdZIncrBy}),
		k1(&Command{Name: "zrem", Arity: -3, Flags: Write | Fast, Since: "1.2.0", Summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", Handler: cmdZRem}),
		k1(&Command{Name: "zcard", Arity: 2, Flags: ReadOnly | Fast, Since: "1.2.0", Summary: "Returns the number of members in a sorted set.", Handler: sizeOf((*store.Store).ZCard)}),
		k1(&Command{Name: "zcount", Arity: 4, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the count of members in a sorted set that have scores within a range.", Handler: cmdZCount}),
		k1(&Command{Name: "zlexcount", Arity: 4, Flags: ReadOnly | Fast, Since: "2.8.9", Summary: "Returns the number of members in a sorted set within a lexicographical range.", Handler: cmdZCount}),
		k1(&Command{Name: "zscore", Arity: 3, Flags: ReadOnly | Fast, Since: "1.2.0", Summary: "Returns the score of a member in a sorted set.", Handler: cmdZScore}),
		k1(&Command{Name: "zmscore", Arity: -3, Flags: ReadOnly | Fast, Since: "6.2.0", Summary: "Returns the score of one or more members in a sorted set.", Handler: cmdZScore}),
		k1(&Command{Name: "zrank", Arity: -3, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by ascending scores.", Handler: cmdZRank}),
		k1(&Command{Name: "zrevrank", Arity: -3, Flags: ReadOnly | Fast, Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by descending scores.", Handler: cmdZRank}),
		k1(&Command{Name: "zrange", Arity: -4, Flags: ReadOnly, Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes.", Handler: cmdZRange}),
		k2(&Command{Name: "zrangestore", Arity: -5, Flags: Write | DenyOOM, Since: "6.2.0", Summary: "Stores a range of members from sorted set in a key.", Handler: cmdZRange}),
		k1(&Command{Name: "zrangebyscore", Arity: -4, Flags: ReadOnly, Since: "1.0.5", Summary: "Returns members in a sorted set within a range of scores.", Handler: cmdZRange}),
		k1(&Command{Name: "zrevrangebyscore", Arity: -4, Flags: ReadOnly, Since: "2.2.0", Summary: "Returns members in a sorted set within a range of scores in reverse order.", Handler: cmdZRange}),
		k1(&Command{Name: "zrangebylex", Arity: -4, Flags: ReadOnly, Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range.", Handler: cmdZRange}),
		k1(&Command{Name: "zrevrangebylex", Arity: -4, Flags: ReadOnly, Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range in reverse order.", Handler: cmdZRange}),
		k1(&Command{Name: "zrevrange", Arity: -4, Flags: ReadOnly, Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes in reverse order.", Handler: cmdZRange}),
		k1(&Command{Name: "zremrangebyrank", Arity: 4, Flags: Write, Since: "2.0.0", Summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", Handler: cmdZRemRange}),
		k1(&Command{Name: "zremrangebyscore", Arity: 4, Flags: Write, Since: "1.2.0", Summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", Handler: cmdZRemRange}),
		k1(&Command{Name: "zremrangebylex", Arity: 4, Flags: Write, Since: "2.8.9", Summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", Handler: cmdZRemRange}),
		k1(&Command{Name: "zpopmin", Arity: -2, Flags: Write | Fast, Since: "5.0.0", Summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Handler: cmdZPop}),
		k1(&Command{Name: "zpopmax", Arity: -2, Flags: Write | Fast, Since: "5.0.0", Summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Handler: cmdZPop}),
		mv(&Command{Name: "zmpop", Arity: -4, Flags: Write, Since: "7.0.0", Summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", Handler: cmdZMPop}),
		mv(&Command{Name: "zunion", Arity: -3, Flags: ReadOnly, Since: "6.2.0", Summary: "Returns the union of multiple sorted sets.", Handler: cmdZAlgebra}),
		mv(&Command{Name: "zinter", Arity: -3, Flags: ReadOnly, Since: "6.2.0", Summary: "Returns the intersect of multiple sorted sets.", Handler: cmdZAlgebra}),
		mv(&Command{Name: "zdiff", Arity: -3, Flags: ReadOnly, Since: "6.2.0", Summary: "Returns the difference between multiple sorted sets.", Handler: cmdZAlgebra}),
		mv(&Command{Name: "zintercard", Arity: -3, Flags: ReadOnly, Since: "7.0.0", Summary: "Returns the number of members of the intersect of multiple sorted sets.", Handler: cmdZAlgebra}),
		k1(&Command{Name: "zunionstore", Arity: -4, Flags: Write | DenyOOM, Since: "2.0.0", Summary: "Stores the union of multiple sorted sets in a key.", Handler: cmdZAlgebra}),
		k1(&Command{Name: "zinterstore", Arity: -4, Flags: Write | DenyOOM, Since: "2.0.0", Summary: "Stores the intersect of multiple sorted sets in a key.", Handler: cmdZAlgebra}),
		k1(&Command{Name: "zdiffstore", Arity: -4, Flags: Write | DenyOOM, Since: "6.2.0", Summary: "Stores the difference of multiple sorted sets in a key.", Handler: cmdZAlgebra}),
		k1(&Command{Name: "zrandmember", Arity: -2, Flags: ReadOnly, Since: "6.2.0", Summary: "Returns one or more random members from a sorted set.", Handler: cmdZRandMember}),
		k1(&Command{Name: "zscan", Arity: -3, Flags: ReadOnly, Since: "2.8.0", Summary: "Iterates over members and scores of a sorted set.", Handler: cmdZScan}),
	}
}

// Redis's sorted-set error replies.
const (
	errZMinMaxFloat replyError = "ERR min or max is not a float"
	errZLexRange    replyError = "ERR min or max not valid string range item"
	errZWeight      replyError = "ERR weight value is not a float"
	errNotPositive  replyError = "ERR value is out of range, must be positive"
)

// writeScoreBulk writes a score as a bulk string whatever the protocol
// (ZSCAN's replies), formatted as a RESP2 double.
func writeScoreBulk(c *Ctx, f float64) {
	p := c.W.Proto()
	c.W.SetProto(2)
	c.W.WriteDouble(f)
	c.W.SetProto(p)
}

// writeZEntries writes members, with their scores when withScores: one
// flat array in RESP2, an array of [member, score] pairs in RESP3 (Redis
// does not use a map: the order matters).
func writeZEntries(c *Ctx, es []store.ZEntry, withScores bool) {
	nested := withScores && c.W.Proto() == 3
	switch {
	case withScores && !nested:
		c.W.WriteArrayLen(2 * len(es))
	default:
		c.W.WriteArrayLen(len(es))
	}
	for _, e := range es {
		if nested {
			c.W.WriteArrayLen(2)
		}
		c.W.WriteBulkString(e.Member)
		if withScores {
			c.W.WriteDouble(e.Score)
		}
	}
}

func cmdZAdd(c *Ctx) {
	var flags int64
	i := 2
options:
	for ; i < len(c.Args); i++ {
		switch {
		case c.ArgIs(i, "nx"):
			flags |= op.ZAddNX
		case c.ArgIs(i, "xx"):
			flags |= op.ZAddXX
		case c.ArgIs(i, "ch"):
			flags |= op.ZAddCH
		case c.ArgIs(i, "incr"):
			flags |= op.ZAddIncr
		case c.ArgIs(i, "gt"):
			flags |= op.ZAddGT
		case c.ArgIs(i, "lt"):
			flags |= op.ZAddLT
		default:
			break options
		}
	}
	n := len(c.Args) - i
	has := func(f int64) bool { return flags&f != 0 }
	switch {
	case n == 0 || n%2 != 0:
		c.SyntaxError()
		return
	case has(op.ZAddNX) && has(op.ZAddXX):
		c.ErrorString("ERR XX and NX options at the same time are not compatible")
		return
	case (has(op.ZAddGT) && has(op.ZAddNX)) || (has(op.ZAddLT) && has(op.ZAddNX)) || (has(op.ZAddGT) && has(op.ZAddLT)):
		c.ErrorString("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	case has(op.ZAddIncr) && n > 2:
		c.ErrorString("ERR INCR option supports a single increment-element pair")
		return
	}
	for j := i; j < len(c.Args); j += 2 {
		if _, ok := store.ParseScore(c.Args[j]); !ok {
			c.Error(ErrNotFloat)
			return
		}
	}
	args := make([][]byte, 0, 2+n)
	args = append(args, c.Args[1], op.Itoa(flags))
	args = append(args, c.Args[i:]...)
	o := &op.Op{Code: op.ZAdd, DB: c.DB(), Time: c.Now(), Args: args}
	if has(op.ZAddIncr) {
		c.Propose(o, replyZScoreOrNull)
		return
	}
	c.Propose(o, ReplyInt)
}

// replyZScoreOrNull writes a float64 score, or null for nil (ZADD INCR
// that was not performed).
func replyZScoreOrNull(c *Ctx, v any) {
	if f, ok := v.(float64); ok {
		c.W.WriteDouble(f)
		return
	}
	c.W.WriteNull()
}

func cmdZIncrBy(c *Ctx) {
	// Redis parses ZINCRBY with ZADD's code: a ZADD flag in the increment's
	// place is taken as a flag, which leaves one argument, a syntax error.
	for _, f := range []string{"nx", "xx", "ch", "incr", "gt", "lt"} {
		if c.ArgIs(2, f) {
			c.SyntaxError()
			return
		}
	}
	if _, ok := store.ParseScore(c.Args[2]); !ok {
		c.Error(ErrNotFloat)
		return
	}
	c.Propose(c.NewOp(op.ZAdd, c.Args[1], op.Itoa(op.ZAddIncr), c.Args[2], c.Args[3]), replyZScoreOrNull)
}

func cmdZRem(c *Ctx) {
	c.Propose(&op.Op{Code: op.ZRem, DB: c.DB(), Time: c.Now(), Args: c.Args[1:]}, ReplyInt)
}

// cmdZCount serves ZCOUNT and ZLEXCOUNT: the range is checked before the
// key, as Redis does.
func cmdZCount(c *Ctx) {
	sp := store.ZRangeSpec{By: store.ZByScore, Count: -1}
	var ok bool
	if c.Cmd.Name == "zlexcount" {
		sp.By = store.ZByLex
		if sp.Lex, ok = store.ParseLexRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errZLexRange)
			return
		}
	} else if sp.Score, ok = store.ParseScoreRange(c.Args[2], c.Args[3]); !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	n, err := c.Store().ZCount(c.DB(), c.Args[1], &sp, c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteInt(n)
}

// cmdZScore serves ZSCORE and ZMSCORE.
func cmdZScore(c *Ctx) {
	scores, found, err := c.Store().ZScore(c.DB(), c.Args[1], c.Args[2:], c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	if c.Cmd.Name == "zmscore" {
		c.W.WriteArrayLen(len(scores))
	}
	for i, f := range scores {
		if found[i] {
			c.W.WriteDouble(f)
		} else {
			c.W.WriteNull()
		}
	}
}

// cmdZRank serves ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
func cmdZRank(c *Ctx) {
	if len(c.Args) > 4 {
		c.WrongArity()
		return
	}
	withScore := len(c.Args) == 4
	if withScore && !c.ArgIs(3, "withscore") {
		c.SyntaxError()
		return
	}
	rank, score, found, err := c.Store().ZRank(c.DB(), c.Args[1], c.Args[2], c.Cmd.Name == "zrevrank", c.Now())
	switch {
	case err != nil:
		c.Error(err)
	case !found && withScore:
		c.W.WriteNullArray()
	case !found:
		c.W.WriteNull()
	case withScore:
		c.W.WriteArrayLen(2)
		c.W.WriteInt(rank)
		c.W.WriteDouble(score)
	default:
		c.W.WriteInt(rank)
	}
}

// Range types and directions of the ZRANGE family before the options
// settle them (Redis's ZRANGE_AUTO and ZRANGE_DIRECTION_AUTO).
const (
	zrAuto = iota
	zrRank
	zrScore
	zrLex
	zrForward = 1
	zrReverse = 2
)

// zrangeForms gives each ZRANGE-family command its fixed range type and
// direction (zrAuto: chosen by the options).
var zrangeForms = map[string][2]int{
	"zrange":           {zrAuto, zrAuto},
	"zrangestore":      {zrAuto, zrAuto},
	"zrangebyscore":    {zrScore, zrForward},
	"zrevrangebyscore": {zrScore, zrReverse},
	"zrangebylex":      {zrLex, zrForward},
	"zrevrangebylex":   {zrLex, zrReverse},
	"zrevrange":        {zrRank, zrReverse},
}

// cmdZRange serves ZRANGE, ZRANGESTORE and the legacy range commands,
// parsing as Redis's zrangeGenericCommand does: options first, then the
// range, then the key.
func cmdZRange(c *Ctx) {
	storing := c.Cmd.Name == "zrangestore"
	start := 1
	if storing {
		start = 2
	}
	form := zrangeForms[c.Cmd.Name]
	kind, dir := form[0], form[1]
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := start + 3; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		switch {
		case !storing && c.ArgIs(j, "withscores"):
			withScores = true
		case c.ArgIs(j, "limit") && left >= 2:
			var err error
			if offset, err = ParseInt(c.Args[j+1]); err == nil {
				limit, err = ParseInt(c.Args[j+2])
			}
			if err != nil {
				c.Error(err)
				return
			}
			j += 2
		case dir == zrAuto && c.ArgIs(j, "rev"):
			dir = zrReverse
		case kind == zrAuto && c.ArgIs(j, "bylex"):
			kind = zrLex
		case kind == zrAuto && c.ArgIs(j, "byscore"):
			kind = zrScore
		default:
			c.SyntaxError()
			return
		}
	}
	if dir == zrAuto {
		dir = zrForward
	}
	if kind == zrAuto {
		kind = zrRank
	}
	if limit != -1 && kind == zrRank {
		c.ErrorString("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && kind == zrLex {
		c.ErrorString("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	minArg, maxArg := c.Args[start+1], c.Args[start+2]
	if dir == zrReverse && kind != zrRank {
		minArg, maxArg = maxArg, minArg
	}
	sp := store.ZRangeSpec{Rev: dir == zrReverse, Offset: offset, Count: limit}
	by := []byte("0")
	switch kind {
	case zrRank:
		var err error
		if sp.Start, err = ParseInt(minArg); err == nil {
			sp.Stop, err = ParseInt(maxArg)
		}
		if err != nil {
			c.Error(err)
			return
		}
		minArg, maxArg = op.Itoa(sp.Start), op.Itoa(sp.Stop)
	case zrScore:
		var ok bool
		sp.By, by = store.ZByScore, []byte("1")
		if sp.Score, ok = store.ParseScoreRange(minArg, maxArg); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		sp.By, by = store.ZByLex, []byte("2")
		if sp.Lex, ok = store.ParseLexRange(minArg, maxArg); !ok {
			c.Error(errZLexRange)
			return
		}
	}
	if storing {
		rev := []byte("0")
		if sp.Rev {
			rev = []byte("1")
		}
		o := &op.Op{Code: op.ZRangeStore, DB: c.DB(), Time: c.Now(), Args: [][]byte{
			c.Args[1], c.Args[2], by, rev, minArg, maxArg, op.Itoa(offset), op.Itoa(limit),
		}}
		c.Propose(o, ReplyInt)
		return
	}
	es, err := c.Store().ZRange(c.DB(), c.Args[start], &sp, c.Now())
	if err != nil {
		c.Error(err)
		return
	}
	writeZEntries(c, es, withScores)
}

// cmdZRemRange serves ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX:
// the range is checked before the key, as Redis does.
func cmdZRemRange(c *Ctx) {
	minArg, maxArg := c.Args[2], c.Args[3]
	var by []byte
	switch c.Cmd.Name {
	case "zremrangebyrank":
		start, err := ParseInt(minArg)
		var stop int64
		if err == nil {
			stop, err = ParseInt(maxArg)
		}
		if err != nil {
			c.Error(err)
			return
		}
		by, minArg, maxArg = []byte("0"), op.Itoa(start), op.Itoa(stop)
	case "zremrangebyscore":
		if _, ok := store.ParseScoreRange(minArg, maxArg); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
		by = []byte("1")
	default:
		if _, ok := store.ParseLexRange(minArg, maxArg); !ok {
			c.Error(errZLexRange)
			return
		}
		by = []byte("2")
	}
	c.Propose(c.NewOp(op.ZRemRange, c.Args[1], by, minArg, maxArg), ReplyInt)
}

// ZMPop's where argument.
var (
	zpopMin = []byte("0")
	zpopMax = []byte("1")
)

// cmdZPop serves ZPOPMIN and ZPOPMAX (op.ZMPop on one key).
func cmdZPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.SyntaxError()
		return
	}
	where := zpopMin
	if c.Cmd.Name == "zpopmax" {
		where = zpopMax
	}
	if len(c.Args) == 2 {
		c.Propose(c.NewOp(op.ZMPop, where, op.Itoa(1), c.Args[1]), replyZPopOne)
		return
	}
	count, err := ParseInt(c.Args[2])
	if err != nil || count < 0 {
		c.Error(errNotPositive)
		return
	}
	if count == 0 {
		// Redis answers an empty array once the key's type is checked;
		// nothing changes, so nothing is proposed.
		c.flushPending()
		if t := c.Store().Type(c.DB(), c.Args[1], c.Now()); t != store.TypeNone && t != store.TypeZSet {
			c.Error(ErrWrongType)
			return
		}
		c.W.WriteArrayLen(0)
		return
	}
	c.Propose(c.NewOp(op.ZMPop, where, op.Itoa(count), c.Args[1]), replyZPopCount)
}

// replyZPopOne writes ZPOPMIN/ZPOPMAX without a count: a flat [member,
// score] (empty when the key is absent).
func replyZPopOne(c *Ctx, v any) {
	p, _ := v.(store.ZPopped)
	c.W.WriteArrayLen(2 * len(p.Entries))
	for _, e := range p.Entries {
		c.W.WriteBulkString(e.Member)
		c.W.WriteDouble(e.Score)
	}
}

// replyZPopCount writes ZPOPMIN/ZPOPMAX with a count: flat in RESP2,
// [member, score] pairs in RESP3.
func replyZPopCount(c *Ctx, v any) {
	p, _ := v.(store.ZPopped)
	writeZEntries(c, p.Entries, true)
}

func cmdZMPop(c *Ctx) {
	where, count, keys, ok := parseMPop(c, 1, parseMinMax)
	if !ok {
		return
	}
	args := append([][]byte{where, op.Itoa(count)}, keys...)
	c.Propose(&op.Op{Code: op.ZMPop, DB: c.DB(), Time: c.Now(), Args: args}, replyZMPop)
}

// parseMinMax parses ZMPOP's MIN|MAX into an op.ZMPop where argument.
func parseMinMax(c *Ctx, i int) ([]byte, bool) {
	switch {
	case c.ArgIs(i, "min"):
		return zpopMin, true
	case c.ArgIs(i, "max"):
		return zpopMax, true
	}
	return nil, false
}

// replyZMPop writes [key, [[member, score] ...]] (nested in both
// protocols), or a null array when every key was absent.
func replyZMPop(c *Ctx, v any) {
	p, ok := v.(store.ZPopped)
	if !ok {
		c.W.WriteNullArray()
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(p.Key)
	c.W.WriteArrayLen(len(p.Entries))
	for _, e := range p.Entries {
		c.W.WriteArrayLen(2)
		c.W.WriteBulkString(e.Member)
		c.W.WriteDouble(e.Score)
	}
}

// zalgebraForms: each algebra command's kind and whether it stores.
var zalgebraForms = map[string]struct {
	kind  int
	store bool
	code  op.Code
}{
	"zunion":      {store.ZSetUnion, false, 0},
	"zinter":      {store.ZSetInter, false, 0},
	"zdiff":       {store.ZSetDiff, false, 0},
	"zintercard":  {store.ZSetInter, false, 0},
	"zunionstore": {store.ZSetUnion, true, op.ZUnionStore},
	"zinterstore": {store.ZSetInter, true, op.ZInterStore},
	"zdiffstore":  {store.ZSetDiff, true, op.ZDiffStore},
}

// cmdZAlgebra serves ZUNION, ZINTER, ZDIFF, ZINTERCARD and the *STORE
// forms, parsing as Redis's zunionInterDiffGenericCommand does. Redis
// checks the keys' types before it parses the options, so an option error
// is answered only after the keys were found to be of the right types.
func cmdZAlgebra(c *Ctx) {
	form := zalgebraForms[c.Cmd.Name]
	cardOnly := c.Cmd.Name == "zintercard"
	nk := 1
	if form.store {
		nk = 2
	}
	numKeys, err := ParseInt(c.Args[nk])
	if err != nil {
		c.Error(err)
		return
	}
	if numKeys < 1 {
		c.ErrorString("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return
	}
	if numKeys > int64(len(c.Args)-nk-1) {
		c.SyntaxError()
		return
	}
	keys := c.Args[nk+1 : nk+1+int(numKeys)]
	weights := make([][]byte, len(keys))
	agg := store.ZAggSum
	withScores := false
	limit := int64(0)
	var optErr error
	for j := nk + 1 + len(keys); j < len(c.Args) && optErr == nil; j++ {
		left := len(c.Args) - j
		switch {
		case form.kind != store.ZSetDiff && !cardOnly && left >= len(keys)+1 && c.ArgIs(j, "weights"):
			for i := range keys {
				j++
				if _, ok := store.ParseScore(c.Args[j]); !ok {
					optErr = errZWeight
					break
				}
				weights[i] = c.Args[j]
			}
		case form.kind != store.ZSetDiff && !cardOnly && left >= 2 && c.ArgIs(j, "aggregate"):
			j++
			switch {
			case c.ArgIs(j, "sum"):
				agg = store.ZAggSum
			case c.ArgIs(j, "min"):
				agg = store.ZAggMin
			case c.ArgIs(j, "max"):
				agg = store.ZAggMax
			default:
				optErr = ErrSyntax
			}
		case !form.store && !cardOnly && c.ArgIs(j, "withscores"):
			withScores = true
		case cardOnly && left >= 2 && c.ArgIs(j, "limit"):
			j++
			n, err := ParseInt(c.Args[j])
			if err != nil || n < 0 {
				optErr = replyError("ERR LIMIT can't be negative")
			}
			limit = n
		default:
			optErr = ErrSyntax
		}
	}
	if optErr != nil {
		if form.store {
			c.flushPending() // the types as the pipeline's earlier writes leave them
		}
		for _, k := range keys {
			if t := c.Store().Type(c.DB(), k, c.Now()); t != store.TypeNone && t != store.TypeZSet && t != store.TypeSet {
				optErr = ErrWrongType
				break
			}
		}
		c.Error(optErr)
		return
	}
	switch {
	case form.store:
		args := make([][]byte, 0, 2+2*len(keys))
		args = append(args, c.Args[1], op.Itoa(int64(agg)))
		for i, k := range keys {
			w := weights[i]
			if w == nil {
				w = op.Itoa(1)
			}
			args = append(args, k, w)
		}
		c.Propose(&op.Op{Code: form.code, DB: c.DB(), Time: c.Now(), Args: args}, ReplyInt)
	case cardOnly:
		n, err := c.Store().ZInterCard(c.DB(), keys, int(min(limit, math.MaxInt32)), c.Now())
		if err != nil {
			c.Error(err)
			return
		}
		c.W.WriteInt(n)
	default:
		ws := make([]float64, len(keys))
		for i, w := range weights {
			ws[i] = 1
			if w != nil {
				ws[i], _ = store.ParseScore(w)
			}
		}
		es, err := c.Store().ZAlgebra(c.DB(), keys, ws, agg, form.kind, c.Now())
		if err != nil {
			c.Error(err)
			return
		}
		writeZEntries(c, es, withScores)
	}
}

func cmdZRandMember(c *Ctx) {
	if len(c.Args) == 2 {
		es, found, err := c.Store().ZRandMember(c.DB(), c.Args[1], c.Now(), 1, rand.Uint64)
		switch {
		case err != nil:
			c.Error(err)
		case !found:
			c.W.WriteNull()
		default:
			c.W.WriteBulkString(es[0].Member)
		}
		return
	}
	count, withScores, ok := parseRandCountArgs(c, "withscores")
	if !ok || randCountRefused(c, count, c.Store().ZCard) {
		return
	}
	es, _, err := c.Store().ZRandMember(c.DB(), c.Args[1], c.Now(), count, rand.Uint64)
	if err != nil {
		c.Error(err)
		return
	}
	writeZEntries(c, es, withScores)
}

func cmdZScan(c *Ctx) {
	cursor, match, count, ok := scanHead(c, store.ZSetScanDefaultCount, c.Store().ZCard)
	if !ok {
		return
	}
	next, es, err := c.Store().ZScan(c.DB(), c.Args[1], c.Now(), cursor, match, count)
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(strconv.AppendUint(nil, next, 10))
	c.W.WriteArrayLen(2 * len(es))
	for _, e := range es {
		c.W.WriteBulkString(e.Member)
		writeScoreBulk(c, e.Score)
	}
}
