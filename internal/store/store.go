package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/skiffdb/skiff/internal/op"
)

// Type is the type of a key's value, as TYPE names it.
type Type uint8

// Value types. Later data types append here.
const (
	TypeNone Type = iota
	TypeString
	TypeList
	TypeHash
	TypeSet
	TypeZSet
)

var typeNames = [...]string{TypeNone: "none", TypeString: "string", TypeList: "list", TypeHash: "hash", TypeSet: "set", TypeZSet: "zset"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// ParseType maps a TYPE name (as SCAN ... TYPE accepts it) to a Type.
func ParseType(name string) (Type, bool) {
	for i, n := range typeNames {
		if i != int(TypeNone) && n == name {
			return Type(i), true
		}
	}
	return TypeNone, false
}

// Sentinel errors. The edges (RESP, gRPC, HTTP) map each to their own form in
// one table; the command package's table maps them to Redis's exact strings.
var (
	ErrWrongType   = errors.New("store: wrong type")
	ErrNotInteger  = errors.New("store: value is not an integer or out of range")
	ErrNotFloat    = errors.New("store: value is not a valid float")
	ErrOverflow    = errors.New("store: increment or decrement would overflow")
	ErrNaN         = errors.New("store: increment would produce NaN or Infinity")
	ErrNoSuchKey   = errors.New("store: no such key")
	ErrTooLong     = errors.New("store: string exceeds maximum allowed size")
	ErrBadDB       = errors.New("store: DB index is out of range")
	ErrMalformedOp = errors.New("store: malformed operation")
)

// MaxStringLen is the largest string value (Redis's proto-max-bulk-len).
const MaxStringLen = 512 << 20

// value is a key's typed value. Strings live in str (no interface boxing:
// one pointer chase less on GET); other types in obj.
type value struct {
	typ Type
	str []byte // TypeString; never mutated within its length once published
	obj any    // other types
}

func strValue(b []byte) value { return value{typ: TypeString, str: b} }

// entry is one key. Fields other than atime are written only by apply.
type entry struct {
	key  string
	hash uint64
	next *entry
	value
	expireAt int64 // unix ms; 0 = no deadline
	heapIdx  int   // position in the db's expiry heap; -1 when not in it
	rev      uint64
	atime    atomic.Int64  // last access, unix ms, node-local (not part of the state)
	snapMark atomic.Uint64 // id of the last snapshot that wrote or saved this entry (snapshot.go)
	// inl holds short keys in the entry's own allocation (key points into
	// it), so a lookup's key comparison touches no second cache line.
	inl [inlineKey]byte
}

// inlineKey is the longest key stored inside its entry.
const inlineKey = 24

// newEntry allocates an entry for key, copying the key.
func newEntry(key []byte) *entry {
	e := &entry{heapIdx: -1}
	if len(key) <= inlineKey && len(key) > 0 {
		n := copy(e.inl[:], key)
		// The string aliases e.inl, which is never written again: entries
		// are immutable in their key, and the pointer keeps e alive.
		e.key = unsafe.String(&e.inl[0], n)
	} else {
		e.key = string(key)
	}
	return e
}

type db struct {
	dict    *dict
	expires expHeap
	touched *touchTable // creation revisions by key slot, nil until one (touched.go)

	// index orders the keys for Range; nil until the first Range on this
	// database builds it (under the read lock, serialized by indexMu), then
	// maintained by put and deleteEntry. Derived, node-local (kvindex.go).
	index   atomic.Pointer[keyIndex]
	indexMu sync.Mutex
}

// Options configures a Store.
type Options struct {
	// Databases is the number of logical databases (SELECT 0..n-1); default 16.
	Databases int
}

// Store is the deterministic state machine: the keyspace of every database.
//
// One writer, many readers: Apply is called by exactly one goroutine at a time
// (the FSM); read methods may be called concurrently from any goroutine. The
// store never reads the clock or a random source inside Apply: time arrives in
// the operation and randomness (RANDOMKEY) in the read call's arguments.
type Store struct {
	mu   sync.RWMutex
	dbs  []*db
	seed maphash.Seed
	rev  uint64 // count of applied operations; stamps entries for WATCH
	now  int64  // Time of the operation being applied

	snap    *Snapshot // the active snapshot, if any: apply preserves for it (snapshot.go)
	snapSeq uint64    // last snapshot id

	listener atomic.Pointer[Listener] // the change feed (feed.go); nil = nobody listens
	ev       Event                    // reused for every emitted event

	txnHooks txnHooks // read hooks of transactions proposed on this node (txn.go)
}

// New returns an empty store.
func New(opts Options) *Store {
	n := opts.Databases
	if n <= 0 {
		n = 16
	}
	s := &Store{seed: maphash.MakeSeed(), dbs: make([]*db, n)}
	for i := range s.dbs {
		s.dbs[i] = s.newDB()
	}
	return s
}

func (s *Store) newDB() *db { return &db{dict: newDict(s.seed)} }

// Databases returns the number of databases.
func (s *Store) Databases() int { return len(s.dbs) }

// Apply applies one operation and returns its reply value (documented per
// op code in package op) or an error that is part of the reply (ErrWrongType
// and friends). Apply is deterministic: the same operations applied in the
// same order to two stores leave identical states. A malformed operation
// returns ErrMalformedOp and changes nothing.
func (s *Store) Apply(o *op.Op) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked(o)
}

// ApplyBatch applies a sequence of operations under one lock acquisition and
// returns one result per operation.
func (s *Store) ApplyBatch(ops []op.Op, res []Result) []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ops {
		v, err := s.applyLocked(&ops[i])
		res = append(res, Result{Value: v, Err: err})
	}
	return res
}

// Result pairs an operation's reply value with its error.
type Result struct {
	Value any
	Err   error
}

func (s *Store) applyLocked(o *op.Op) (v any, err error) {
	defer recoverApply(o, &v, &err) // applypanic.go
	if o.DB < 0 || o.DB >= len(s.dbs) {
		return nil, fmt.Errorf("%w: db %d", ErrMalformedOp, o.DB)
	}
	var fn applyFunc
	if int(o.Code) < len(applyTable) {
		fn = applyTable[o.Code]
	}
	if fn == nil {
		if o.Code == op.Txn { // not in applyTable: it applies other codes (txn.go)
			s.rev++
			s.now = o.Time
			return applyTxn(s, o)
		}
		return nil, fmt.Errorf("%w: code %v", ErrMalformedOp, o.Code)
	}
	s.rev++
	s.now = o.Time
	return fn(s, o)
}

type applyFunc func(*Store, *op.Op) (any, error)

// applyTable maps each op code to its apply function. It is built once from
// the per-family tables (strings.go, keys.go) and never changed.
var applyTable = buildApplyTable(stringApply, keyApply, listApply, hashApply, setApply, zsetApply, otherApply, kvApply)

func buildApplyTable(families ...map[op.Code]applyFunc) []applyFunc {
	t := make([]applyFunc, 256)
	for _, f := range families {
		for code, fn := range f {
			if t[code] != nil {
				panic(fmt.Sprintf("store: op code %v applied by two families", code))
			}
			t[code] = fn
		}
	}
	return t
}

// lookupWrite returns the live entry for key at time now, deleting it first
// if its deadline has passed (and emitting "expired", as Redis's lazy
// expiry does). Called only from apply.
func (s *Store) lookupWrite(d *db, key []byte, now int64) *entry {
	e := d.dict.find(key)
	if e != nil && e.expireAt != 0 && e.expireAt <= now {
		s.deleteEntry(d, key)
		s.emitIn(d, ClassExpired, "expired", key)
		return nil
	}
	return e
}

// emitIn is emit for a database known by pointer (the write helpers are
// handed a *db, not its index): the index is looked up only when someone
// listens.
func (s *Store) emitIn(d *db, class EventClass, name string, key []byte) {
	if s.listener.Load() == nil {
		return
	}
	s.emit(slices.Index(s.dbs, d), class, name, key)
}

// deleteEntry removes key (whatever its deadline) and returns its entry, or
// nil when absent. It emits nothing: the caller emits the event that names
// why the key went ("del", "expired", "rename_from" ...).
func (s *Store) deleteEntry(d *db, key []byte) *entry {
	e := d.dict.remove(key)
	if e != nil {
		s.preserve(d, e)
		if ix := d.index.Load(); ix != nil { // one nil check unless Range was used
			ix.remove(e)
		}
	}
	if e != nil && e.heapIdx >= 0 {
		d.expires.remove(e)
	}
	return e
}

// setEntry creates or replaces key with v and the given deadline (0 =
// none). Returns the entry.
func (s *Store) setEntry(d *db, key []byte, v value, expireAt int64) *entry {
	return s.put(d, d.dict.find(key), key, v, expireAt)
}

// put is setEntry when the caller already looked the key up: e is the live
// entry for key, or nil when key is absent (lookupWrite's answer). Creating
// a key emits "new" (before the caller's own event, as Redis's dbAdd does).
func (s *Store) put(d *db, e *entry, key []byte, v value, expireAt int64) *entry {
	created := e == nil
	if created {
		e = newEntry(key)
		d.dict.insert(e)
		if ix := d.index.Load(); ix != nil { // one nil check unless Range was used
			ix.add(e)
		}
	} else {
		s.preserve(d, e)
	}
	e.atime.Store(s.now)
	e.value = v
	s.setExpire(d, e, expireAt)
	e.rev = s.rev
	if created {
		s.touchCreate(d, key)
		s.emitIn(d, ClassNew, "new", key)
	}
	return e
}

func (s *Store) setExpire(d *db, e *entry, at int64) {
	e.expireAt = at
	switch {
	case at == 0 && e.heapIdx >= 0:
		d.expires.remove(e)
	case at != 0 && e.heapIdx >= 0:
		d.expires.fix(e)
	case at != 0:
		d.expires.push(e)
	}
}

// readLookup finds a live entry on the read path: an entry past its deadline
// reads as absent (it is removed later through the log by the expiry cycle).
func (s *Store) readLookup(dbi int, key []byte, now int64) *entry {
	if dbi < 0 || dbi >= len(s.dbs) {
		return nil
	}
	e := s.dbs[dbi].dict.find(key)
	if e == nil || (e.expireAt != 0 && e.expireAt <= now) {
		return nil
	}
	e.atime.Store(now)
	return e
}
