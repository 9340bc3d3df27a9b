package op

// The keyspace API's operations (command/api.go and the SKIFF.KV.*
// commands), codes 195-199 of the "other" block: etcd-style puts, deletes
// and compare-then-else transactions over string keys, each replying with
// revisions. Their effects and change-feed events are those of the Redis
// commands they generalise (SET, DEL).
const (
	// KVPut: key, value, expireAt (unix ms, 0 = none), flags (decimal KV*
	// bits), ifRev (decimal; read with KVIfRevision). Writes a string
	// value as SET does (a value of another type is replaced) unless a
	// condition fails: KVIfAbsent, only when the key does not exist;
	// KVIfRevision, only when the key's revision equals ifRev.
	// Reply: store.KVResult; Done when written, Rev the key's revision
	// after the operation (the new one, or the current one, 0 for an absent
	// key, when a condition failed).
	KVPut Code = 195

	// KVDelete: key, ifRev (decimal; 0 = unconditional). Removes the key,
	// whatever its type, as DEL does; with ifRev only when the key's
	// revision equals it. Reply: store.KVResult; Done when removed, Rev the
	// store revision of the removal (0 when nothing was removed).
	KVDelete Code = 196

	// KVTxn: a compare-then-else transaction on one database, applied as
	// one operation (every change it makes carries its revision).
	//
	//	Args[0]              n, the number of compares (decimal)
	//	next 4n              the compares: key, target (KVTarget*), op
	//	                     (KVCmp*), operand (the value; a decimal
	//	                     revision; "1"/"0" for exists)
	//	next                 m, the number of "then" steps (decimal)
	//	next 4m              the "then" steps: kind (KVStepPut/KVStepDelete),
	//	                     key, value, expireAt (unix ms, 0 = none; value
	//	                     and expireAt empty for a delete)
	//	rest (4k)            the "else" steps, alike
	//
	// If every compare holds, the "then" steps are applied in order, else
	// the "else" steps. A compare of the value of a key holding another
	// type is store.ErrWrongType and nothing is applied. Reply:
	// store.KVResult; Done when the compares held, Rev the store revision
	// of the transaction.
	KVTxn Code = 197
)

// KVPut flags.
const (
	KVIfAbsent   = 1 << iota // only when the key does not exist
	KVIfRevision             // only when the key's revision equals ifRev
)

// KVTxn compare targets.
const (
	KVTargetValue    = 0 // the string value, bytewise; an absent key never compares true
	KVTargetRevision = 1 // the key's revision, 0 when absent
	KVTargetExists   = 2 // "1" or "0"; only KVCmpEqual and KVCmpNotEqual
)

// KVTxn compare operators: key's target <op> operand.
const (
	KVCmpEqual    = 0
	KVCmpNotEqual = 1
	KVCmpLess     = 2
	KVCmpGreater  = 3
)

// KVTxn step kinds.
const (
	KVStepPut    = 0
	KVStepDelete = 1
)

var kvNames = map[Code]string{KVPut: "kvput", KVDelete: "kvdelete", KVTxn: "kvtxn"}
