package store

import (
	"bytes"
	"strings"

	"github.com/skiffdb/skiff/internal/op"
)

// The keyspace API's operations (op.KVPut, op.KVDelete, op.KVTxn) and the
// reads behind it: string keys with revisions, etcd-style. A put is SET
// (events "set", and "expire" with a deadline), a delete is DEL ("del");
// both stamp revisions through put and deleteEntry as every write does.

// KVResult is the reply value of op.KVPut, op.KVDelete and op.KVTxn (see
// each code for the meaning of Done and Rev).
type KVResult struct {
	Done bool
	Rev  uint64
}

var kvApply = map[op.Code]applyFunc{
	op.KVPut:    applyKVPut,
	op.KVDelete: applyKVDelete,
	op.KVTxn:    applyKVTxn,
}

func uintArg(b []byte) (uint64, error) {
	n, ok := op.ParseUint(b)
	if !ok {
		return 0, ErrMalformedOp
	}
	return n, nil
}

func applyKVPut(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 5); err != nil {
		return nil, err
	}
	at, err := intArg(o.Args[2])
	if err != nil || at < 0 {
		return nil, ErrMalformedOp
	}
	flags, err := intArg(o.Args[3])
	if err != nil {
		return nil, err
	}
	ifRev, err := uintArg(o.Args[4])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e := s.lookupWrite(d, key, o.Time)
	var cur uint64
	if e != nil {
		cur = e.rev
	}
	if (flags&op.KVIfAbsent != 0 && e != nil) || (flags&op.KVIfRevision != 0 && cur != ifRev) {
		return KVResult{Rev: cur}, nil
	}
	s.kvPut(o.DB, d, e, key, o.Args[1], at)
	return KVResult{Done: true, Rev: s.rev}, nil
}

// kvPut writes a string as SET does, with SET's events.
func (s *Store) kvPut(dbi int, d *db, e *entry, key, val []byte, at int64) {
	s.put(d, e, key, strValue(val), at)
	s.emitStr(dbi, ClassString, "set", key, val)
	if at != 0 {
		s.emitStr(dbi, ClassGeneric, "expire", key, val)
	}
}

func applyKVDelete(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	ifRev, err := uintArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e := s.lookupWrite(d, o.Args[0], o.Time)
	if e == nil || (ifRev != 0 && e.rev != ifRev) {
		return KVResult{}, nil
	}
	s.deleteEntry(d, o.Args[0])
	s.emit(o.DB, ClassGeneric, "del", o.Args[0])
	return KVResult{Done: true, Rev: s.rev}, nil
}

// kvCompare is one decoded compare of an op.KVTxn.
type kvCompare struct {
	key     []byte
	target  int64
	cmp     int64
	operand []byte
	rev     uint64
	exists  bool
}

// kvStep is one decoded step of an op.KVTxn.
type kvStep struct {
	del      bool
	key, val []byte
	at       int64
}

func applyKVTxn(s *Store, o *op.Op) (any, error) {
	cmps, then, els, err := parseKVTxn(o.Args)
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	ok := true
	for i := range cmps {
		held, err := s.kvHolds(d, &cmps[i], o.Time)
		if err != nil {
			return nil, err // nothing applied: compares change nothing
		}
		ok = ok && held
	}
	steps := then
	if !ok {
		steps = els
	}
	for _, st := range steps {
		e := s.lookupWrite(d, st.key, o.Time)
		switch {
		case !st.del:
			s.kvPut(o.DB, d, e, st.key, st.val, st.at)
		case e != nil:
			s.deleteEntry(d, st.key)
			s.emit(o.DB, ClassGeneric, "del", st.key)
		}
	}
	return KVResult{Done: ok, Rev: s.rev}, nil
}

// parseKVTxn decodes and checks a whole op.KVTxn before anything is
// applied: a malformed one changes nothing.
func parseKVTxn(a [][]byte) (cmps []kvCompare, then, els []kvStep, err error) {
	if len(a) < 2 {
		return nil, nil, nil, ErrMalformedOp
	}
	n, ok := op.ParseInt(a[0])
	if !ok || n < 0 || n > int64(len(a)-2)/4 {
		return nil, nil, nil, ErrMalformedOp
	}
	cmps = make([]kvCompare, n)
	for i := range cmps {
		c := a[1+4*i : 5+4*i]
		t, ok1 := op.ParseInt(c[1])
		cmp, ok2 := op.ParseInt(c[2])
		if !ok1 || !ok2 || cmp < op.KVCmpEqual || cmp > op.KVCmpGreater {
			return nil, nil, nil, ErrMalformedOp
		}
		k := kvCompare{key: c[0], target: t, cmp: cmp, operand: c[3]}
		switch t {
		case op.KVTargetValue:
		case op.KVTargetRevision:
			if k.rev, ok = op.ParseUint(c[3]); !ok {
				return nil, nil, nil, ErrMalformedOp
			}
		case op.KVTargetExists:
			if (string(c[3]) != "0" && string(c[3]) != "1") || cmp > op.KVCmpNotEqual {
				return nil, nil, nil, ErrMalformedOp
			}
			k.exists = c[3][0] == '1'
		default:
			return nil, nil, nil, ErrMalformedOp
		}
		cmps[i] = k
	}
	a = a[1+4*n:]
	m, ok := op.ParseInt(a[0])
	a = a[1:]
	if !ok || m < 0 || m > int64(len(a))/4 || (len(a)-4*int(m))%4 != 0 {
		return nil, nil, nil, ErrMalformedOp
	}
	if then, err = parseKVSteps(a[:4*m]); err != nil {
		return nil, nil, nil, err
	}
	if els, err = parseKVSteps(a[4*m:]); err != nil {
		return nil, nil, nil, err
	}
	return cmps, then, els, nil
}

func parseKVSteps(a [][]byte) ([]kvStep, error) {
	steps := make([]kvStep, len(a)/4)
	for i := range steps {
		x := a[4*i : 4*i+4]
		st := kvStep{key: x[1], val: x[2]}
		switch string(x[0]) {
		case "0":
			at, ok := op.ParseInt(x[3])
			if !ok || at < 0 {
				return nil, ErrMalformedOp
			}
			st.at = at
		case "1":
			st.del = true
		default:
			return nil, ErrMalformedOp
		}
		steps[i] = st
	}
	return steps, nil
}

// kvHolds evaluates one compare at time now without changing anything (an
// expired key reads as absent but is not removed here).
func (s *Store) kvHolds(d *db, c *kvCompare, now int64) (bool, error) {
	e := d.dict.find(c.key)
	if e != nil && e.expireAt != 0 && e.expireAt <= now {
		e = nil
	}
	var r int
	switch c.target {
	case op.KVTargetValue:
		if e == nil {
			return false, nil // etcd: a value compare of an absent key fails
		}
		if e.typ != TypeString {
			return false, ErrWrongType
		}
		r = bytes.Compare(e.str, c.operand)
	case op.KVTargetRevision:
		var cur uint64
		if e != nil {
			cur = e.rev
		}
		switch {
		case cur < c.rev:
			r = -1
		case cur > c.rev:
			r = 1
		}
	default: // exists
		if (e != nil) != c.exists {
			r = 1
		}
	}
	switch c.cmp {
	case op.KVCmpEqual:
		return r == 0, nil
	case op.KVCmpNotEqual:
		return r != 0, nil
	case op.KVCmpLess:
		return r < 0, nil
	default:
		return r > 0, nil
	}
}

// --- reads ---

// KVEntry is one string key as the keyspace API reads it.
type KVEntry struct {
	Key      []byte
	Value    []byte // nil in a keys-only range; aliases the store's value (never modified)
	Rev      uint64 // the key's revision
	ExpireAt int64  // unix ms, 0 = none
}

// CurrentRevision returns the store revision: the number of operations
// applied (equal on every replica that applied the same log).
func (s *Store) CurrentRevision() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

// GetWithRevision reads key as a string with its revision and deadline.
// found is false when the key is absent; err is ErrWrongType when it holds
// another type. rev is the store revision the read saw.
func (s *Store) GetWithRevision(dbi int, key []byte, now int64) (kv KVEntry, found bool, rev uint64, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.readLookup(dbi, key, now)
	switch {
	case e == nil:
		return KVEntry{}, false, s.rev, nil
	case e.typ != TypeString:
		return KVEntry{}, false, s.rev, ErrWrongType
	}
	return KVEntry{Key: key, Value: e.str, Rev: e.rev, ExpireAt: e.expireAt}, true, s.rev, nil
}

// RangeOptions select the keys of a Range: those with Prefix, or in
// [Start, End) (End nil = no upper bound), strictly after After (when not
// nil), at most Limit (> 0) of them.
type RangeOptions struct {
	Prefix     []byte
	Start, End []byte
	After      []byte
	Limit      int
	KeysOnly   bool
}

// Range returns the Limit smallest live string keys of dbi (in byte order)
// that opts select, whether more remain after them, and the store revision
// the read saw. Keys holding other types, and keys past their deadline, are
// skipped. Safe for concurrent use; runs under the read lock.
//
// Range walks the database's ordered key index (kvindex.go): it seeks to
// the largest of Start, Prefix and After (After itself excluded) and walks
// forward until End, the end of Prefix, or Limit+1 matches (the extra one
// answers more). A page costs O(log n + k) where k counts the keys walked:
// the matches plus the non-string and expired keys among them. Those cannot
// be skipped by the index, so a range crowded with them (hashes under the
// prefix, or many keys awaiting the expiry cycle) makes a page walk them all,
// bounded by the keys in the range, never the whole database. The first
// Range on a database builds its index, O(n log n) once (see orderedIndex).
func (s *Store) Range(dbi int, opts RangeOptions, now int64) (kvs []KVEntry, more bool, rev uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) || opts.Limit <= 0 {
		return nil, false, s.rev
	}
	prefix, start, end, after := string(opts.Prefix), string(opts.Start), string(opts.End), string(opts.After)
	hasEnd, hasAfter := opts.End != nil, opts.After != nil
	from := max(start, prefix)
	if hasAfter {
		from = max(from, after)
	}
	es := make([]*entry, 0, min(opts.Limit+1, 1024))
	s.dbs[dbi].orderedIndex().ascendFrom(from, func(e *entry) bool {
		k := e.key
		if (hasEnd && k >= end) || !strings.HasPrefix(k, prefix) {
			return false // k >= from >= prefix: past the prefix, so is every later key
		}
		if e.typ != TypeString || (e.expireAt != 0 && e.expireAt <= now) || (hasAfter && k == after) {
			return true
		}
		es = append(es, e)
		return len(es) <= opts.Limit
	})
	if len(es) > opts.Limit {
		es, more = es[:opts.Limit], true
	}
	n := 0
	for _, e := range es {
		n += len(e.key)
	}
	arena := make([]byte, 0, n) // one allocation for every key
	kvs = make([]KVEntry, len(es))
	for i, e := range es {
		arena = append(arena, e.key...)
		kvs[i] = KVEntry{Key: arena[len(arena)-len(e.key) : len(arena) : len(arena)], Rev: e.rev, ExpireAt: e.expireAt}
		if !opts.KeysOnly {
			kvs[i].Value = e.str
		}
	}
	return kvs, more, s.rev
}
