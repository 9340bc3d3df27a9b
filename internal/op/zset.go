package op

// Sorted-set operations: codes 128-159. Each constant documents its Args and
// reply. Scores, weights and ranges are carried as the client sent them
// (already validated by the command layer); apply parses them again with
// the same parsers (store.ParseScore, store.ParseScoreRange,
// store.ParseLexRange), which are pure functions of the bytes.
const (
	// ZAdd: key, flags (decimal ZAdd* bits), score, member, score, member ...
	// (at least one pair; exactly one with ZAddIncr). ZADD and ZINCRBY.
	// Reply: int64 members added (with ZAddCH: added or changed); with
	// ZAddIncr float64 the new score, or nil when NX/XX/GT/LT prevented the
	// update; store.ErrScoreNaN when an increment produces NaN.
	ZAdd Code = 128 + iota
	// ZRem: key, member ... (at least one). Removes the members; an emptied
	// sorted set removes the key. Reply: int64 number removed.
	ZRem
	// ZRemRange: key, by ("0" rank, "1" score, "2" lex), min, max (start and
	// stop for ranks). ZREMRANGEBYRANK/BYSCORE/BYLEX. Reply: int64 removed.
	ZRemRange
	// ZMPop: where ("0" min, "1" max), count (> 0), key ... Pops up to count
	// members from the first key that exists (ZPOPMIN, ZPOPMAX, ZMPOP and
	// their blocking forms); a wrong-typed first existing key is
	// store.ErrWrongType. Reply: nil when every key is absent, else
	// store.ZPopped (the key and the popped members with their scores, in
	// pop order).
	ZMPop
	// ZRangeStore: dst, src, by ("0" rank, "1" score, "2" lex), rev ("0"/"1"),
	// min, max (start and stop for ranks; for REV the client's max and min
	// already swapped into min, max), offset, count (-1 = no LIMIT). Stores
	// the range in dst (an empty range deletes dst). Reply: int64 size.
	ZRangeStore
	// ZUnionStore: dst, aggregate ("0" sum, "1" min, "2" max), then key,
	// weight for each source (sorted sets or sets). Stores the union in dst
	// (an empty result deletes dst). Reply: int64 size.
	ZUnionStore
	// ZInterStore: as ZUnionStore, the intersection.
	ZInterStore
	// ZDiffStore: as ZUnionStore (aggregate and weights ignored): the first
	// source minus the others, with the first source's scores.
	ZDiffStore
)

// ZAdd flag bits (ZADD's options).
const (
	ZAddNX   = 1 << iota // only add new members
	ZAddXX               // only update existing members
	ZAddGT               // only update when the new score is greater
	ZAddLT               // only update when the new score is less
	ZAddCH               // reply counts changed members too
	ZAddIncr             // increment (ZINCRBY, ZADD INCR): one pair
)

var zsetNames = map[Code]string{
	ZAdd: "zadd", ZRem: "zrem", ZRemRange: "zremrange", ZMPop: "zmpop",
	ZRangeStore: "zrangestore", ZUnionStore: "zunionstore", ZInterStore: "zinterstore",
	ZDiffStore: "zdiffstore",
}
