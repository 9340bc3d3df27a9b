package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/skiffdb/skiff/internal/glob"
	"github.com/skiffdb/skiff/internal/op"
)

// Hashes (TypeHash).
//
// A hash is a *hashObj in value.obj: a map from field to its position in an
// insertion-ordered slice (deleted positions are tombstones, compacted when
// they outnumber the live fields). Insertion order is what Redis shows for a
// small (listpack) hash, so HGETALL/HKEYS/HVALS/HRANDFIELD replies match it
// byte for byte; Redis shows a big (hashtable) hash in table order, which no
// client may depend on, and skiff keeps insertion order there too.
//
// Apply mutates a hashObj in place (after s.preserve); readers iterate it
// under the read lock and copy out the field list. Field values ([]byte) are
// never mutated in place (a change stores a new slice), so readers may
// return them after the lock is released; field names are strings.

// Hash errors (the command layer's error table maps them to Redis's replies).
var (
	ErrHashNotInteger = errors.New("store: hash value is not an integer")
	ErrHashNotFloat   = errors.New("store: hash value is not a float")
)

// Redis's built-in conversion thresholds from listpack to hashtable
// (hash-max-listpack-entries, hash-max-listpack-value).
const (
	hashMaxListpackEntries = 512
	hashMaxListpackValue   = 64
)

// HashScanDefaultCount is HSCAN's COUNT when none is given.
const HashScanDefaultCount = 10

type hashObj struct {
	ordIndex[[]byte] // fields in insertion order
	// big is the "hashtable" encoding: set once the hash exceeds the
	// listpack thresholds and kept (like Redis, which never converts back).
	// It decides OBJECT ENCODING and whether HSCAN pages with a cursor.
	big bool
}

func newHashObj(n int) *hashObj {
	return &hashObj{ordIndex: newOrdIndex[[]byte](n)}
}

func (h *hashObj) len() int { return len(h.idx) }

func (h *hashObj) get(f []byte) ([]byte, bool) {
	i, ok := h.idx[string(f)]
	if !ok {
		return nil, false
	}
	return h.items[i].val, true
}

// set stores v (not copied: op arguments are owned by the store once
// applied) and reports whether field f was added.
func (h *hashObj) set(f, v []byte) bool {
	if len(f) > hashMaxListpackValue || len(v) > hashMaxListpackValue {
		h.big = true
	}
	if i, ok := h.idx[string(f)]; ok {
		h.items[i].val = v
		return false
	}
	name := string(f)
	h.appendNew(name, v)
	if len(h.idx) > hashMaxListpackEntries {
		h.big = true
	}
	return true
}

// each calls fn for each live field in insertion order.
func (h *hashObj) each(fn func(name string, val []byte)) {
	for i := range h.items {
		if !h.items[i].dead {
			fn(h.items[i].name, h.items[i].val)
		}
	}
}

func (h *hashObj) clone() *hashObj {
	c := newHashObj(h.len())
	h.each(func(name string, val []byte) { c.appendNew(name, val) })
	c.big = h.big
	return c
}

func hashValue(h *hashObj) value { return value{typ: TypeHash, obj: h} }

var hashOps = &typeOps{
	// Payload: flags(1: bit 0 = hashtable encoding) count:uvarint, then
	// count times namelen:uvarint name vallen:uvarint val, in insertion order.
	payload: func(v value) ([]byte, error) {
		h := v.obj.(*hashObj)
		n := 1 + binary.MaxVarintLen64
		h.each(func(name string, val []byte) { n += len(name) + len(val) + 2*binary.MaxVarintLen64 })
		b := make([]byte, 0, n)
		var flags byte
		if h.big {
			flags = 1
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(h.len()))
		h.each(func(name string, val []byte) {
			b = binary.AppendUvarint(b, uint64(len(name)))
			b = append(b, name...)
			b = binary.AppendUvarint(b, uint64(len(val)))
			b = append(b, val...)
		})
		return b, nil
	},
	fromPayload: func(p []byte) (value, error) {
		bad := func(why string) (value, error) {
			return value{}, fmt.Errorf("%w: hash: %s", ErrSnapshotCorrupt, why)
		}
		if len(p) < 1 || p[0] > 1 {
			return bad("flags")
		}
		big := p[0] == 1
		p = p[1:]
		n, k := binary.Uvarint(p)
		if k <= 0 || n == 0 || n > uint64(len(p)) {
			return bad("count")
		}
		p = p[k:]
		next := func() ([]byte, bool) {
			l, k := binary.Uvarint(p)
			if k <= 0 || l > uint64(len(p)-k) {
				return nil, false
			}
			b := p[k : k+int(l) : k+int(l)]
			p = p[k+int(l):]
			return b, true
		}
		h := newHashObj(int(min(n, 1024)))
		for range n {
			f, ok1 := next()
			v, ok2 := next()
			if !ok1 || !ok2 {
				return bad("truncated field")
			}
			if _, dup := h.idx[string(f)]; dup {
				return bad("duplicate field")
			}
			h.set(f, v)
		}
		if len(p) != 0 {
			return bad("trailing bytes")
		}
		h.big = h.big || big
		return hashValue(h), nil
	},
	clone: func(v value) value { return hashValue(v.obj.(*hashObj).clone()) },
	encoding: func(v value) string {
		if v.obj.(*hashObj).big {
			return "hashtable"
		}
		return "listpack"
	},
	// Canonical: encoding flag, count, then fields sorted by name.
	digest: func(buf []byte, v value) []byte {
		h := v.obj.(*hashObj)
		names := make([]string, 0, h.len())
		for name := range h.idx {
			names = append(names, name)
		}
		slices.Sort(names)
		if h.big {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		buf = binary.AppendUvarint(buf, uint64(len(names)))
		for _, name := range names {
			val, _ := h.get([]byte(name))
			buf = binary.AppendUvarint(buf, uint64(len(name)))
			buf = append(buf, name...)
			buf = binary.AppendUvarint(buf, uint64(len(val)))
			buf = append(buf, val...)
		}
		return buf
	},
}

var hashApply = map[op.Code]applyFunc{
	op.HSet:         applyHSet,
	op.HSetNX:       applyHSetNX,
	op.HDel:         applyHDel,
	op.HIncrBy:      applyHIncrBy,
	op.HIncrByFloat: applyHIncrByFloat,
}

// hashFor returns key's live hash on the write path; nil entry when absent.
func (s *Store) hashFor(d *db, key []byte, now int64) (*entry, *hashObj, error) {
	return objFor[*hashObj](s, d, key, now, TypeHash)
}

// hashSetOne sets one field of key's hash (e, h from hashFor), creating the
// key when absent. Reports whether the field was added.
func (s *Store) hashSetOne(d *db, e *entry, h *hashObj, key, f, v []byte) bool {
	if e == nil {
		h = newHashObj(1)
		h.set(f, v)
		s.put(d, nil, key, hashValue(h), 0)
		return true
	}
	s.preserve(d, e)
	added := h.set(f, v)
	e.rev = s.rev
	return added
}

func applyHSet(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 3 || len(o.Args)%2 != 1 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, h, err := s.hashFor(d, key, o.Time)
	if err != nil {
		return nil, err
	}
	var added int64
	if e == nil {
		h = newHashObj((len(o.Args) - 1) / 2)
		for i := 1; i < len(o.Args); i += 2 {
			if h.set(o.Args[i], o.Args[i+1]) {
				added++
			}
		}
		s.put(d, nil, key, hashValue(h), 0)
		s.emit(o.DB, ClassHash, "hset", key)
		return added, nil
	}
	s.preserve(d, e)
	for i := 1; i < len(o.Args); i += 2 {
		if h.set(o.Args[i], o.Args[i+1]) {
			added++
		}
	}
	e.rev = s.rev
	s.emit(o.DB, ClassHash, "hset", key)
	return added, nil
}

func applyHSetNX(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, h, err := s.hashFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if _, ok := h.get(o.Args[1]); ok {
			return int64(0), nil
		}
	}
	s.hashSetOne(d, e, h, o.Args[0], o.Args[1], o.Args[2])
	s.emit(o.DB, ClassHash, "hset", o.Args[0])
	return int64(1), nil
}

func applyHDel(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	e, h, err := s.hashFor(d, o.Args[0], o.Time)
	if e == nil || err != nil {
		return int64(0), err
	}
	any := false
	for _, f := range o.Args[1:] {
		if _, ok := h.get(f); ok {
			any = true
			break
		}
	}
	if !any {
		return int64(0), nil
	}
	s.preserve(d, e)
	var n int64
	for _, f := range o.Args[1:] {
		if h.del(f) {
			n++
		}
	}
	e.rev = s.rev
	s.emit(o.DB, ClassHash, "hdel", o.Args[0])
	if h.len() == 0 {
		s.deleteEntry(d, o.Args[0])
		s.emit(o.DB, ClassGeneric, "del", o.Args[0])
	}
	return n, nil
}

func applyHIncrBy(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	delta, err := intArg(o.Args[2])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, h, err := s.hashFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	var cur int64
	if e != nil {
		if v, ok := h.get(o.Args[1]); ok {
			if cur, err = ParseStrictInt(v); err != nil {
				return nil, ErrHashNotInteger
			}
		}
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		return nil, ErrOverflow
	}
	cur += delta
	s.hashSetOne(d, e, h, o.Args[0], o.Args[1], strconv.AppendInt(nil, cur, 10))
	s.emit(o.DB, ClassHash, "hincrby", o.Args[0])
	return cur, nil
}

func applyHIncrByFloat(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	delta, err := ParseHashFloat(o.Args[2])
	if err != nil || delta.IsInf() {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	e, h, err := s.hashFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	if e != nil {
		if v, ok := h.get(o.Args[1]); ok {
			if cur, err = ParseHashFloat(v); err != nil {
				return nil, ErrHashNotFloat
			}
		}
	}
	if cur.IsInf() {
		return nil, ErrNaN
	}
	cur.Add(cur, delta)
	if ldOverflows(cur) {
		return nil, ErrNaN
	}
	nv := FormatLongDouble(cur)
	s.hashSetOne(d, e, h, o.Args[0], o.Args[1], nv)
	s.emit(o.DB, ClassHash, "hincrbyfloat", o.Args[0])
	return nv, nil
}

// ldMaxExp is the binary exponent bound of an x87 long double: a value
// whose MantExp exceeds it is infinite there.
const ldMaxExp = 16384

func ldOverflows(f *big.Float) bool { return f.IsInf() || f.MantExp(nil) > ldMaxExp }

// ParseHashFloat parses a long double as Redis's string2ld does, including
// what ParseLongDouble leaves out: "inf"/"infinity" (any case, signed) are
// infinite, and a finite literal beyond the long double range is rejected.
// HINCRBYFLOAT rejects an infinite increment itself ("ERR value is NaN or
// Infinity") and an infinite stored value as producing Infinity.
func ParseHashFloat(b []byte) (*big.Float, error) {
	t := strings.ToLower(string(b))
	sign := 1
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	if t == "inf" || t == "infinity" {
		return new(big.Float).SetPrec(longDoublePrec).SetInf(sign < 0), nil
	}
	f, err := ParseLongDouble(b)
	if err != nil {
		return nil, err
	}
	if ldOverflows(f) {
		return nil, ErrNotFloat
	}
	return f, nil
}

// hashRead returns key's live hash for a read (caller holds the read lock).
func (s *Store) hashRead(dbi int, key []byte, now int64) (*hashObj, error) {
	return objRead[*hashObj](s, dbi, key, now, TypeHash)
}

// HGet returns field's value in key's hash; found is false when the key or
// the field does not exist.
func (s *Store) HGet(dbi int, key, field []byte, now int64) (val []byte, found bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, err := s.hashRead(dbi, key, now)
	if h == nil || err != nil {
		return nil, false, err
	}
	val, found = h.get(field)
	return val, found, nil
}

// HMGet returns the value of each field (found[i] false when missing).
func (s *Store) HMGet(dbi int, key []byte, fields [][]byte, now int64) (vals [][]byte, found []bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, err := s.hashRead(dbi, key, now)
	if err != nil {
		return nil, nil, err
	}
	vals, found = make([][]byte, len(fields)), make([]bool, len(fields))
	if h != nil {
		for i, f := range fields {
			vals[i], found[i] = h.get(f)
		}
	}
	return vals, found, nil
}

// HLen returns the number of fields of key's hash (0 when absent).
func (s *Store) HLen(dbi int, key []byte, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, err := s.hashRead(dbi, key, now)
	if h == nil || err != nil {
		return 0, err
	}
	return int64(h.len()), nil
}

// HGetAll returns the fields and values of key's hash in the order Redis
// shows a small hash (insertion order). names or vals is nil when not asked.
func (s *Store) HGetAll(dbi int, key []byte, now int64, wantNames, wantVals bool) (names []string, vals [][]byte, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, err := s.hashRead(dbi, key, now)
	if h == nil || err != nil {
		return nil, nil, err
	}
	if wantNames {
		names = make([]string, 0, h.len())
	}
	if wantVals {
		vals = make([][]byte, 0, h.len())
	}
	h.each(func(name string, val []byte) {
		if wantNames {
			names = append(names, name)
		}
		if wantVals {
			vals = append(vals, val)
		}
	})
	return names, vals, nil
}

// HRandField picks fields of key's hash with HRANDFIELD's rules, using rnd
// as the random source (a read: randomness never reaches apply).
//
// count > 0: min(count, len) distinct fields; when count >= len, the whole
// hash in its order. count < 0: -count fields, possibly repeated. The
// caller handles count == 0 and the no-count form (count 1). vals is
// filled when withVals. found is false when the key does not exist.
func (s *Store) HRandField(dbi int, key []byte, now int64, count int64, withVals bool, rnd func() uint64) (names []string, vals [][]byte, found bool, err error) {
	s.mu.RLock()
	h, err := s.hashRead(dbi, key, now)
	if h == nil || err != nil {
		s.mu.RUnlock()
		return nil, nil, false, err
	}
	// Positions of the live fields (all of items when there are no
	// tombstones: no copy).
	live := func(j int) int { return j }
	size := int64(len(h.items))
	if h.dead > 0 {
		pos := make([]int, 0, h.len())
		for i := range h.items {
			if !h.items[i].dead {
				pos = append(pos, i)
			}
		}
		live, size = func(j int) int { return pos[j] }, int64(len(pos))
	}
	if count < 0 {
		// -count picks with repetition: copy the fields out (bounded by the
		// hash size) and sample without holding the lock, however large
		// count is.
		allNames, allVals := make([]string, size), make([][]byte, size)
		for j := range allNames {
			it := &h.items[live(j)]
			allNames[j], allVals[j] = it.name, it.val
		}
		s.mu.RUnlock()
		for range -count {
			j := rnd() % uint64(size)
			names = append(names, allNames[j])
			if withVals {
				vals = append(vals, allVals[j])
			}
		}
		return names, vals, true, nil
	}
	defer s.mu.RUnlock()
	pick := func(i int) {
		names = append(names, h.items[i].name)
		if withVals {
			vals = append(vals, h.items[i].val)
		}
	}
	if count >= size {
		for j := range int(size) {
			pick(live(j))
		}
		return names, vals, true, nil
	}
	// count distinct positions drawn uniformly (a sparse Fisher-Yates: only
	// swapped positions are recorded), in random order.
	swapped := make(map[int64]int64, count)
	at := func(j int64) int64 {
		if v, ok := swapped[j]; ok {
			return v
		}
		return j
	}
	for j := range count {
		k := j + int64(rnd()%uint64(size-j))
		vj, vk := at(j), at(k)
		swapped[j], swapped[k] = vk, vj
		pick(live(int(vk)))
	}
	return names, vals, true, nil
}

// HScan is HSCAN. A small (listpack) hash is returned whole with cursor 0,
// as Redis does. A big one is walked in the order of a fixed 64-bit hash
// (FNV-1a) of the field names, and the cursor is the hash value to resume
// from: every field present for the whole iteration is returned exactly
// once (fields with colliding hashes come in the same page), whatever is
// added or removed meanwhile; fields added or removed during the iteration
// may or may not be returned. The cursor means the same on every replica.
// match (a glob, nil = all) filters the page after it was taken, like Redis,
// so a page may be empty before the iteration ends.
func (s *Store) HScan(dbi int, key []byte, now int64, cursor uint64, match []byte, count int) (next uint64, names []string, vals [][]byte, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, err := s.hashRead(dbi, key, now)
	if h == nil || err != nil {
		return 0, nil, nil, err
	}
	add := func(name string, val []byte) {
		if match != nil && !glob.MatchString(string(match), name, false) {
			return
		}
		names = append(names, name)
		vals = append(vals, val)
	}
	if !h.big {
		h.each(add)
		return 0, names, vals, nil
	}
	type cand struct {
		hv uint64
		i  int
	}
	var cs []cand
	for i := range h.items {
		if it := &h.items[i]; !it.dead {
			if hv := fnv64(it.name); hv >= cursor {
				cs = append(cs, cand{hv, i})
			}
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].hv < cs[b].hv })
	count = max(count, 1)
	n := min(count, len(cs))
	for n < len(cs) && cs[n].hv == cs[n-1].hv {
		n++ // a cursor cannot split fields of one hash value
	}
	for _, c := range cs[:n] {
		add(h.items[c.i].name, h.items[c.i].val)
	}
	if n == len(cs) || cs[n-1].hv == math.MaxUint64 {
		return 0, names, vals, nil
	}
	return cs[n-1].hv + 1, names, vals, nil
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
