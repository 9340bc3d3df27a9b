package store

import (
	"github.com/skiffdb/skiff/internal/glob"
	"github.com/skiffdb/skiff/internal/op"
)

var keyApply = map[op.Code]applyFunc{
	op.Del:      applyDel,
	op.Expire:   applyExpire,
	op.Persist:  applyPersist,
	op.Rename:   applyRename,
	op.Copy:     applyCopy,
	op.Move:     applyMove,
	op.FlushDB:  applyFlushDB,
	op.FlushAll: applyFlushAll,
	op.SwapDB:   applySwapDB,
	op.Expired:  applyExpired,
}

func applyDel(s *Store, o *op.Op) (any, error) {
	d := s.dbs[o.DB]
	var n int64
	for _, k := range o.Args {
		if s.lookupWrite(d, k, o.Time) != nil {
			s.deleteEntry(d, k)
			s.emit(o.DB, ClassGeneric, "del", k)
			n++
		}
	}
	return n, nil
}

func applyExpired(s *Store, o *op.Op) (any, error) {
	d := s.dbs[o.DB]
	var n int64
	for _, k := range o.Args {
		if e := d.dict.find(k); e != nil && e.expireAt != 0 && e.expireAt <= o.Time {
			s.deleteEntry(d, k)
			s.emit(o.DB, ClassExpired, "expired", k)
			n++
		}
	}
	return n, nil
}

func applyExpire(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	at, err := intArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	cond, err := intArg(o.Args[2])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e := s.lookupWrite(d, o.Args[0], o.Time)
	if e == nil {
		return int64(0), nil
	}
	// A key without a deadline has an infinite TTL for GT/LT.
	if (cond&op.ExpireNX != 0 && e.expireAt != 0) ||
		(cond&op.ExpireXX != 0 && e.expireAt == 0) ||
		(cond&op.ExpireGT != 0 && (e.expireAt == 0 || at <= e.expireAt)) ||
		(cond&op.ExpireLT != 0 && e.expireAt != 0 && at >= e.expireAt) {
		return int64(0), nil
	}
	if at <= o.Time {
		s.deleteEntry(d, o.Args[0])
		s.emit(o.DB, ClassGeneric, "del", o.Args[0])
		return int64(1), nil
	}
	s.preserve(d, e)
	s.setExpire(d, e, at)
	e.rev = s.rev
	s.emitEntry(o.DB, ClassGeneric, "expire", o.Args[0], e)
	return int64(1), nil
}

func applyPersist(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 1); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e := s.lookupWrite(d, o.Args[0], o.Time)
	if e == nil || e.expireAt == 0 {
		return int64(0), nil
	}
	s.preserve(d, e)
	s.setExpire(d, e, 0)
	e.rev = s.rev
	s.emitEntry(o.DB, ClassGeneric, "persist", o.Args[0], e)
	return int64(1), nil
}

func applyRename(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	src, dst := o.Args[0], o.Args[1]
	e := s.lookupWrite(d, src, o.Time)
	if e == nil {
		return nil, ErrNoSuchKey
	}
	nx := string(o.Args[2]) == "1"
	if string(src) == string(dst) {
		if nx {
			return int64(0), nil
		}
		return int64(1), nil
	}
	if s.lookupWrite(d, dst, o.Time) != nil {
		if nx {
			return int64(0), nil
		}
		// Redis deletes the old destination and adds a new key: "new".
		s.deleteEntry(d, dst)
	}
	s.deleteEntry(d, src)
	s.put(d, nil, dst, e.value, e.expireAt)
	s.emit(o.DB, ClassGeneric, "rename_from", src)
	s.emitEntry(o.DB, ClassGeneric, "rename_to", dst, e)
	return int64(1), nil
}

func applyCopy(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 4); err != nil {
		return nil, err
	}
	dstDB, err := intArg(o.Args[2])
	if err != nil || dstDB < 0 || int(dstDB) >= len(s.dbs) {
		return nil, ErrMalformedOp
	}
	d, dd := s.dbs[o.DB], s.dbs[dstDB]
	src, dst := o.Args[0], o.Args[1]
	e := s.lookupWrite(d, src, o.Time)
	if e == nil {
		return int64(0), nil
	}
	if s.lookupWrite(dd, dst, o.Time) != nil {
		if string(o.Args[3]) != "1" {
			return int64(0), nil
		}
		// REPLACE: Redis deletes the old destination and adds a new key.
		s.deleteEntry(dd, dst)
	}
	s.put(dd, nil, dst, cloneValue(e.value), e.expireAt)
	s.emitEntry(int(dstDB), ClassGeneric, "copy_to", dst, e)
	return int64(1), nil
}

// cloneValue returns a copy of a value that shares nothing mutable with v.
// Strings are never mutated within their length, so they can be shared.
func cloneValue(v value) value {
	if ops := opsFor(v.typ); ops != nil {
		return ops.clone(v)
	}
	return v
}

func applyMove(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	dstDB, err := intArg(o.Args[1])
	if err != nil || dstDB < 0 || int(dstDB) >= len(s.dbs) {
		return nil, ErrMalformedOp
	}
	d, dd := s.dbs[o.DB], s.dbs[dstDB]
	key := o.Args[0]
	e := s.lookupWrite(d, key, o.Time)
	if e == nil || d == dd || s.lookupWrite(dd, key, o.Time) != nil {
		return int64(0), nil
	}
	s.deleteEntry(d, key)
	s.put(dd, nil, key, e.value, e.expireAt)
	s.emit(o.DB, ClassGeneric, "move_from", key)
	s.emitEntry(int(dstDB), ClassGeneric, "move_to", key, e)
	return int64(1), nil
}

func applyFlushDB(s *Store, o *op.Op) (any, error) {
	s.dbs[o.DB] = s.flushedDB(s.dbs[o.DB])
	s.emit(o.DB, ClassDB, "flushdb", nil)
	return nil, nil
}

func applyFlushAll(s *Store, o *op.Op) (any, error) {
	for i := range s.dbs {
		s.dbs[i] = s.flushedDB(s.dbs[i])
	}
	s.emit(-1, ClassDB, "flushall", nil)
	return nil, nil
}

func applySwapDB(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	a, err1 := intArg(o.Args[0])
	b, err2 := intArg(o.Args[1])
	if err1 != nil || err2 != nil || a < 0 || b < 0 || int(a) >= len(s.dbs) || int(b) >= len(s.dbs) {
		return nil, ErrMalformedOp
	}
	if a == b {
		return nil, nil
	}
	s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a]
	// The creation tables stay with the indexes WATCH names (touched.go): a
	// key created in db a after a WATCH still aborts it once swapped away.
	s.dbs[a].touched, s.dbs[b].touched = s.dbs[b].touched, s.dbs[a].touched
	s.emit(int(a), ClassDB, "swapdb", nil)
	s.emit(int(b), ClassDB, "swapdb", nil)
	return nil, nil
}

// --- reads ---

// Exists counts how many of keys exist (a key named twice counts twice).
func (s *Store) Exists(dbi int, keys [][]byte, now int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	for _, k := range keys {
		if s.readLookup(dbi, k, now) != nil {
			n++
		}
	}
	return n
}

// Type returns the type of key (TypeNone when absent).
func (s *Store) Type(dbi int, key []byte, now int64) Type {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.readLookup(dbi, key, now); e != nil {
		return e.typ
	}
	return TypeNone
}

// Deadline returns key's absolute deadline in unix ms (0 = none) and whether
// the key exists.
func (s *Store) Deadline(dbi int, key []byte, now int64) (at int64, exists bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.readLookup(dbi, key, now)
	if e == nil {
		return 0, false
	}
	return e.expireAt, true
}

// Keys returns the live keys of dbi matching pattern.
func (s *Store) Keys(dbi int, pattern []byte, now int64) [][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out [][]byte
	all := string(pattern) == "*"
	s.dbs[dbi].dict.each(func(e *entry) bool {
		if e.expireAt != 0 && e.expireAt <= now {
			return true
		}
		if all || glob.Match(pattern, []byte(e.key), false) {
			out = append(out, []byte(e.key))
		}
		return true
	})
	return out
}

// ScanOptions filter a Scan.
type ScanOptions struct {
	Match []byte // nil = all
	Type  Type   // TypeNone = all
	Count int    // work hint, default 10
}

// Scan runs one SCAN step from cursor and returns the next cursor and the
// keys found. Keys present for the whole iteration are returned at least once.
func (s *Store) Scan(dbi int, cursor uint64, opts ScanOptions, now int64) (uint64, [][]byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	count := opts.Count
	if count <= 0 {
		count = 10
	}
	d := s.dbs[dbi].dict
	var out [][]byte
	all := opts.Match == nil || string(opts.Match) == "*"
	for iter := 0; iter < count*10; iter++ {
		cursor = d.scan(cursor, func(e *entry) {
			if e.expireAt != 0 && e.expireAt <= now {
				return
			}
			if opts.Type != TypeNone && e.typ != opts.Type {
				return
			}
			if !all && !glob.Match(opts.Match, []byte(e.key), false) {
				return
			}
			out = append(out, []byte(e.key))
		})
		if cursor == 0 || len(out) >= count {
			break
		}
	}
	return cursor, out
}

// RandomKey returns a random live key of dbi, or nil when none is found.
// rnd supplies randomness (the store never draws its own).
func (s *Store) RandomKey(dbi int, now int64, rnd func() uint64) []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.dbs[dbi].dict
	for tries := 0; tries < 100; tries++ {
		e := d.random(rnd)
		if e == nil {
			return nil
		}
		if e.expireAt == 0 || e.expireAt > now {
			return []byte(e.key)
		}
	}
	return nil
}

// DBSize returns the number of keys in dbi, counting keys that have expired
// but not yet been removed (as Redis does).
func (s *Store) DBSize(dbi int) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int64(s.dbs[dbi].dict.len())
}

// KeyspaceStat describes one database for INFO keyspace.
type KeyspaceStat struct {
	DB      int
	Keys    int64
	Expires int64
	AvgTTL  int64 // ms
}

// Keyspace returns stats for every non-empty database.
func (s *Store) Keyspace(now int64) []KeyspaceStat {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []KeyspaceStat
	for i, d := range s.dbs {
		if d.dict.len() == 0 {
			continue
		}
		st := KeyspaceStat{DB: i, Keys: int64(d.dict.len()), Expires: int64(len(d.expires))}
		var sum int64
		var n int64
		for j, e := range d.expires {
			if j >= 64 {
				break
			}
			if ttl := e.expireAt - now; ttl > 0 {
				sum += ttl
				n++
			}
		}
		if n > 0 {
			st.AvgTTL = sum / n
		}
		out = append(out, st)
	}
	return out
}

// ObjectInfo describes a key for OBJECT.
type ObjectInfo struct {
	Type     Type
	Encoding string
	IdleMs   int64
	Str      []byte // a string's value (OBJECT REFCOUNT tells Redis's shared integers); nil for other types
}

// Object returns OBJECT information for key; ok is false when it is absent.
// It does not update the key's access time.
func (s *Store) Object(dbi int, key []byte, now int64) (ObjectInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) {
		return ObjectInfo{}, false
	}
	e := s.dbs[dbi].dict.find(key)
	if e == nil || (e.expireAt != 0 && e.expireAt <= now) {
		return ObjectInfo{}, false
	}
	info := ObjectInfo{Type: e.typ, Encoding: encodingOf(e), IdleMs: now - e.atime.Load()}
	if e.typ == TypeString {
		info.Str = e.str
	}
	if info.IdleMs < 0 {
		info.IdleMs = 0
	}
	return info, true
}

func encodingOf(e *entry) string {
	if ops := opsFor(e.typ); ops != nil {
		return ops.encoding(e.value)
	}
	return "unknown"
}

// Touch counts existing keys and updates their access time.
func (s *Store) Touch(dbi int, keys [][]byte, now int64) int64 {
	return s.Exists(dbi, keys, now)
}
