package op

// Set operations: codes 96-127. Each constant documents its Args and reply.
// Members are carried as the client sent them.
const (
	// SAdd: key, member ... (at least one). Adds the members. Reply: int64
	// number of members that were added.
	SAdd Code = 96 + iota
	// SRem: key, member ... (at least one). Removes the members; an emptied
	// set removes the key. Reply: int64 number of members removed.
	SRem
	// SPop: key, member ... (at least one). SPOP as replicated: the leader
	// chose the members when it prepared the command; apply removes those
	// still present (an emptied set removes the key). Reply: [][]byte the
	// members removed, in argument order.
	SPop
	// SMove: src, dst, member. Moves member from src to dst. Reply: int64
	// (1 moved, 0 not a member of src).
	SMove
	// SInterStore: dst, key ... (at least one). Stores the intersection of
	// the sets in dst (an empty result deletes dst). Reply: int64 size.
	SInterStore
	// SUnionStore: dst, key ... Stores the union. Reply: int64 size.
	SUnionStore
	// SDiffStore: dst, key ... Stores the first set minus the others.
	// Reply: int64 size.
	SDiffStore
)

var setNames = map[Code]string{
	SAdd: "sadd", SRem: "srem", SPop: "spop", SMove: "smove",
	SInterStore: "sinterstore", SUnionStore: "sunionstore", SDiffStore: "sdiffstore",
}
