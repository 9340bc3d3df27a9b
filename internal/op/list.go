package op

// List operations: codes 32-63. Each constant documents its Args and reply.
// Ends are "0" (left, head) and "1" (right, tail).
const (
	// ListPush: key, end, xx ("1" = only if the key exists, LPUSHX/RPUSHX), element ...
	// Pushes each element in turn at end. Reply: int64 new length (0 when xx
	// and the key is absent).
	ListPush Code = 32 + iota
	// ListPop: key, end, count (-1 = LPOP/RPOP without a count). Reply: without
	// a count []byte or nil; with a count [][]byte, or nil when the key is absent.
	ListPop
	// ListSet: key, index (as the client sent it: apply validates it after
	// the key), element. Reply: nil; store.ErrNoSuchKey, store.ErrWrongType,
	// store.ErrNotInteger or store.ErrIndexOutOfRange.
	ListSet
	// ListInsert: key, before ("1") or after ("0"), pivot, element.
	// Reply: int64 new length, -1 when the pivot is absent, 0 when the key is.
	ListInsert
	// ListRem: key, count, element (LREM's count semantics). Reply: int64 removed.
	ListRem
	// ListTrim: key, start, stop. Reply: nil.
	ListTrim
	// ListMove: src, dst, from end, to end (LMOVE, RPOPLPUSH). Reply: []byte
	// the moved element, or nil when src is absent.
	ListMove
	// ListMPop: end, count (> 0), key ... Pops up to count elements from the
	// first non-empty list. Reply: nil when every key is absent, else
	// [][]byte{key, element ...}.
	ListMPop
)

var listNames = map[Code]string{
	ListPush: "listpush", ListPop: "listpop", ListSet: "listset", ListInsert: "listinsert",
	ListRem: "listrem", ListTrim: "listtrim", ListMove: "listmove", ListMPop: "listmpop",
}
