package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/skiffdb/skiff/internal/glob"
	"github.com/skiffdb/skiff/internal/op"
)

// Sets (TypeSet).
//
// A set is a *setObj in value.obj: a map from member to its position in an
// insertion-ordered slice (deleted positions are tombstones, compacted when
// they outnumber the live members), plus the encoding Redis 7.2 would use.
// The encoding decides the order Redis shows: an intset in ascending
// integer order, a listpack in insertion order; a hashtable shows table
// order, which no client may depend on, and skiff shows insertion order.
// Encodings change as Redis's do (intset -> listpack -> hashtable, never
// back), driven only by the replicated operations, so they are part of the
// state (and of Digest).
//
// Apply mutates a setObj in place (after s.preserve); readers copy members
// out under the read lock (members are immutable strings).

// Set encodings.
const (
	setIntset uint8 = iota
	setListpack
	setHashtable
)

// Redis 7.2's default thresholds (set-max-intset-entries,
// set-max-listpack-entries, set-max-listpack-value).
const (
	setMaxIntsetEntries   = 512
	setMaxListpackEntries = 128
	setMaxListpackValue   = 64
)

// SetScanDefaultCount is SSCAN's COUNT when none is given.
const SetScanDefaultCount = 10

type setObj struct {
	ordIndex[struct{}] // members in insertion order
	enc                uint8
}

func isIntMember(m string) bool {
	_, ok := op.ParseInt([]byte(m))
	return ok
}

func intOf(m string) int64 {
	n, _ := op.ParseInt([]byte(m))
	return n
}

// newSetFor returns an empty set with the encoding Redis's setTypeCreate
// picks for a first member and a size hint.
func newSetFor(first []byte, hint int) *setObj {
	enc := setHashtable
	switch {
	case isIntMember(string(first)) && hint <= setMaxIntsetEntries:
		enc = setIntset
	case hint <= setMaxListpackEntries:
		enc = setListpack
	}
	return &setObj{ordIndex: newOrdIndex[struct{}](min(hint, 1024)), enc: enc}
}

// newIntsetSet is an empty set as createIntsetObject makes it (the
// destination of the *STORE commands).
func newIntsetSet() *setObj { return &setObj{ordIndex: newOrdIndex[struct{}](0), enc: setIntset} }

func (t *setObj) len() int { return len(t.idx) }

func (t *setObj) has(m []byte) bool { _, ok := t.idx[string(m)]; return ok }

func (t *setObj) appendMember(name string) { t.appendNew(name, struct{}{}) }

// add adds m (converting the encoding as Redis's setTypeAdd does) and
// reports whether it was added.
func (t *setObj) add(m []byte) bool {
	if t.has(m) {
		return false
	}
	name := string(m)
	switch t.enc {
	case setIntset:
		switch {
		case isIntMember(name):
			t.appendMember(name)
			if t.len() > setMaxIntsetEntries {
				t.enc = setHashtable
			}
			return true
		case t.len() < setMaxListpackEntries && len(name) <= setMaxListpackValue:
			// The listpack starts as the intset's (ascending) order.
			t.sortInts()
			t.enc = setListpack
		default:
			t.enc = setHashtable
		}
	case setListpack:
		if t.len() >= setMaxListpackEntries || len(name) > setMaxListpackValue {
			t.enc = setHashtable
		}
	}
	t.appendMember(name)
	return true
}

// sortInts reorders the live members of an intset in ascending order.
func (t *setObj) sortInts() {
	live := t.members()
	slices.SortFunc(live, func(a, b string) int {
		x, y := intOf(a), intOf(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	clear(t.items)
	t.items, t.dead = t.items[:0], 0
	for _, m := range live {
		t.appendMember(m)
	}
}

// members returns the live members in insertion order.
func (t *setObj) members() []string {
	out := make([]string, 0, t.len())
	for i := range t.items {
		if !t.items[i].dead {
			out = append(out, t.items[i].name)
		}
	}
	return out
}

// ordered returns the live members in the order Redis shows them.
func (t *setObj) ordered() []string {
	out := t.members()
	if t.enc == setIntset {
		slices.SortFunc(out, func(a, b string) int {
			x, y := intOf(a), intOf(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
	}
	return out
}

func (t *setObj) clone() *setObj {
	c := &setObj{ordIndex: newOrdIndex[struct{}](t.len()), enc: t.enc}
	for i := range t.items {
		if !t.items[i].dead {
			c.appendMember(t.items[i].name)
		}
	}
	return c
}

func setValue(t *setObj) value { return value{typ: TypeSet, obj: t} }

var setEncodingNames = [...]string{setIntset: "intset", setListpack: "listpack", setHashtable: "hashtable"}

var setOps = &typeOps{
	// Payload: encoding(1) count:uvarint, then count times len:uvarint
	// member, in insertion order.
	payload: func(v value) ([]byte, error) {
		t := v.obj.(*setObj)
		n := 1 + binary.MaxVarintLen64
		for i := range t.items {
			n += len(t.items[i].name) + binary.MaxVarintLen64
		}
		b := make([]byte, 0, n)
		b = append(b, t.enc)
		b = binary.AppendUvarint(b, uint64(t.len()))
		for i := range t.items {
			if !t.items[i].dead {
				b = binary.AppendUvarint(b, uint64(len(t.items[i].name)))
				b = append(b, t.items[i].name...)
			}
		}
		return b, nil
	},
	fromPayload: func(p []byte) (value, error) {
		bad := func(why string) (value, error) {
			return value{}, fmt.Errorf("%w: set: %s", ErrSnapshotCorrupt, why)
		}
		if len(p) < 1 || p[0] > setHashtable {
			return bad("encoding")
		}
		enc := p[0]
		p = p[1:]
		n, k := binary.Uvarint(p)
		if k <= 0 || n == 0 || n > uint64(len(p)) {
			return bad("count")
		}
		p = p[k:]
		switch {
		case enc == setIntset && n > setMaxIntsetEntries:
			return bad("intset too large")
		case enc == setListpack && n > setMaxListpackEntries:
			return bad("listpack too large")
		}
		t := &setObj{ordIndex: newOrdIndex[struct{}](int(min(n, 1024))), enc: enc}
		for range n {
			l, k := binary.Uvarint(p)
			if k <= 0 || l > uint64(len(p)-k) {
				return bad("truncated member")
			}
			m := string(p[k : k+int(l)])
			p = p[k+int(l):]
			if _, dup := t.idx[m]; dup {
				return bad("duplicate member")
			}
			if enc == setIntset && !isIntMember(m) {
				return bad("non-integer member in intset")
			}
			if enc == setListpack && len(m) > setMaxListpackValue {
				return bad("long member in listpack")
			}
			t.appendMember(m)
		}
		if len(p) != 0 {
			return bad("trailing bytes")
		}
		return setValue(t), nil
	},
	clone:    func(v value) value { return setValue(v.obj.(*setObj).clone()) },
	encoding: func(v value) string { return setEncodingNames[v.obj.(*setObj).enc] },
	// Canonical: encoding, count, then members sorted.
	digest: func(buf []byte, v value) []byte {
		t := v.obj.(*setObj)
		names := t.members()
		slices.Sort(names)
		buf = append(buf, t.enc)
		buf = binary.AppendUvarint(buf, uint64(len(names)))
		for _, m := range names {
			buf = binary.AppendUvarint(buf, uint64(len(m)))
			buf = append(buf, m...)
		}
		return buf
	},
}

var setApply = map[op.Code]applyFunc{
	op.SAdd:        applySAdd,
	op.SRem:        applySRem,
	op.SPop:        applySPop,
	op.SMove:       applySMove,
	op.SInterStore: applySStore,
	op.SUnionStore: applySStore,
	op.SDiffStore:  applySStore,
}

// setFor returns key's live set on the write path; nil entry when absent.
func (s *Store) setFor(d *db, key []byte, now int64) (*entry, *setObj, error) {
	return objFor[*setObj](s, d, key, now, TypeSet)
}

func applySAdd(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, t, err := s.setFor(d, key, o.Time)
	if err != nil {
		return nil, err
	}
	var added int64
	if e == nil {
		t = newSetFor(o.Args[1], len(o.Args)-1)
		for _, m := range o.Args[1:] {
			if t.add(m) {
				added++
			}
		}
		s.put(d, nil, key, setValue(t), 0)
		s.emit(o.DB, ClassSet, "sadd", key)
		return added, nil
	}
	any := false
	for _, m := range o.Args[1:] {
		if !t.has(m) {
			any = true
			break
		}
	}
	if !any {
		return int64(0), nil
	}
	s.preserve(d, e)
	for _, m := range o.Args[1:] {
		if t.add(m) {
			added++
		}
	}
	e.rev = s.rev
	s.emit(o.DB, ClassSet, "sadd", key)
	return added, nil
}

// setRemove removes members from key's set and returns those removed,
// emitting event ("srem", "spop") and "del" when the set became empty.
func (s *Store) setRemove(o *op.Op, event string) ([][]byte, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	e, t, err := s.setFor(d, o.Args[0], o.Time)
	if e == nil || err != nil {
		return nil, err
	}
	any := false
	for _, m := range o.Args[1:] {
		if t.has(m) {
			any = true
			break
		}
	}
	if !any {
		return nil, nil
	}
	s.preserve(d, e)
	var removed [][]byte
	for _, m := range o.Args[1:] {
		if t.del(m) {
			removed = append(removed, m)
		}
	}
	e.rev = s.rev
	s.emit(o.DB, ClassSet, event, o.Args[0])
	if t.len() == 0 {
		s.deleteEntry(d, o.Args[0])
		s.emit(o.DB, ClassGeneric, "del", o.Args[0])
	}
	return removed, nil
}

func applySRem(s *Store, o *op.Op) (any, error) {
	removed, err := s.setRemove(o, "srem")
	if err != nil {
		return nil, err
	}
	return int64(len(removed)), nil
}

func applySPop(s *Store, o *op.Op) (any, error) {
	removed, err := s.setRemove(o, "spop")
	if err != nil {
		return nil, err
	}
	if removed == nil {
		removed = [][]byte{}
	}
	return removed, nil
}

func applySMove(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	src, dst, m := o.Args[0], o.Args[1], o.Args[2]
	se, st, err := s.setFor(d, src, o.Time)
	if err != nil {
		return nil, err
	}
	de, dt, derr := s.setFor(d, dst, o.Time)
	if se == nil {
		return int64(0), nil
	}
	if derr != nil {
		return nil, derr
	}
	if se == de {
		if st.has(m) {
			return int64(1), nil
		}
		return int64(0), nil
	}
	if !st.has(m) {
		return int64(0), nil
	}
	s.preserve(d, se)
	st.del(m)
	se.rev = s.rev
	s.emit(o.DB, ClassSet, "srem", src)
	if st.len() == 0 {
		s.deleteEntry(d, src)
		s.emit(o.DB, ClassGeneric, "del", src)
	}
	if de == nil {
		dt = newSetFor(m, 1)
		dt.add(m)
		s.put(d, nil, dst, setValue(dt), 0)
		s.emit(o.DB, ClassSet, "sadd", dst)
		return int64(1), nil
	}
	if dt.has(m) {
		return int64(1), nil // dst is unchanged: not stamped, no "sadd" (as Redis)
	}
	s.preserve(d, de)
	dt.add(m)
	de.rev = s.rev
	s.emit(o.DB, ClassSet, "sadd", dst)
	return int64(1), nil
}

// Set algebra kinds.
const (
	SetInter = iota
	SetUnion
	SetDiff
)

// storeEvents names the keyspace event of each kind's *STORE command.
var storeEvents = [...]string{SetInter: "sinterstore", SetUnion: "sunionstore", SetDiff: "sdiffstore"}

// setsOf looks up keys as Redis's set algebra does: every key is checked
// for its type; a missing key is a nil set. empty reports an intersection
// with a missing key.
func setsOf(keys [][]byte, kind int, look func(key []byte) (*entry, error)) (sets []*setObj, empty bool, err error) {
	sets = make([]*setObj, len(keys))
	for i, k := range keys {
		e, err := look(k)
		if err != nil {
			return nil, false, err
		}
		if e == nil {
			empty = empty || kind == SetInter
			continue
		}
		if e.typ != TypeSet {
			return nil, false, ErrWrongType
		}
		sets[i] = e.obj.(*setObj)
	}
	if empty {
		return nil, true, nil
	}
	return sets, false, nil
}

// setAlgebra computes the members of kind over sets (from setsOf), in the
// order Redis's algorithms produce them (for the deterministic parts).
// limit > 0 stops an intersection after limit members.
func setAlgebra(sets []*setObj, kind int, limit int) []string {
	var out []string
	switch kind {
	case SetInter:
		order := slices.Clone(sets)
		sort.SliceStable(order, func(a, b int) bool { return order[a].len() < order[b].len() })
		if len(order) == 0 || order[0].len() == 0 {
			return nil
		}
	next:
		for _, m := range order[0].ordered() {
			for _, o := range order[1:] {
				if _, ok := o.idx[m]; !ok {
					continue next
				}
			}
			out = append(out, m)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	case SetUnion:
		seen := make(map[string]struct{})
		for _, t := range sets {
			if t == nil {
				continue
			}
			for _, m := range t.ordered() {
				if _, ok := seen[m]; !ok {
					seen[m] = struct{}{}
					out = append(out, m)
				}
			}
		}
	case SetDiff:
		if sets[0] == nil {
			return nil
		}
	nextd:
		for _, m := range sets[0].ordered() {
			for _, o := range sets[1:] {
				if o != nil {
					if _, ok := o.idx[m]; ok {
						continue nextd
					}
				}
			}
			out = append(out, m)
		}
	}
	return out
}

func applySStore(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	kind := map[op.Code]int{op.SInterStore: SetInter, op.SUnionStore: SetUnion, op.SDiffStore: SetDiff}[o.Code]
	d := s.dbs[o.DB]
	dst := o.Args[0]
	sets, empty, err := setsOf(o.Args[1:], kind, func(k []byte) (*entry, error) {
		return s.lookupWrite(d, k, o.Time), nil
	})
	if err != nil {
		return nil, err
	}
	var res []string
	if !empty {
		res = setAlgebra(sets, kind, 0)
	}
	if len(res) == 0 {
		// Like Redis's dbDelete here: an expired but present dst counts.
		if s.deleteEntry(d, dst) != nil {
			s.emit(o.DB, ClassGeneric, "del", dst)
		}
		return int64(0), nil
	}
	t := newIntsetSet()
	for _, m := range res {
		t.add([]byte(m))
	}
	s.put(d, s.lookupWrite(d, dst, o.Time), dst, setValue(t), 0)
	s.emit(o.DB, ClassSet, storeEvents[kind], dst)
	return int64(t.len()), nil
}

// setRead returns key's live set for a read (caller holds the read lock).
func (s *Store) setRead(dbi int, key []byte, now int64) (*setObj, error) {
	return objRead[*setObj](s, dbi, key, now, TypeSet)
}

// SCard returns the number of members of key's set (0 when absent).
func (s *Store) SCard(dbi int, key []byte, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.setRead(dbi, key, now)
	if t == nil || err != nil {
		return 0, err
	}
	return int64(t.len()), nil
}

// SIsMember reports for each member whether it is in key's set.
func (s *Store) SIsMember(dbi int, key []byte, members [][]byte, now int64) ([]bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.setRead(dbi, key, now)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(members))
	if t != nil {
		for i, m := range members {
			out[i] = t.has(m)
		}
	}
	return out, nil
}

// SMembers returns the members of key's set in the order Redis shows them
// (see the top of this file).
func (s *Store) SMembers(dbi int, key []byte, now int64) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.setRead(dbi, key, now)
	if t == nil || err != nil {
		return nil, err
	}
	return t.ordered(), nil
}

// SetAlgebra is SINTER (SetInter), SUNION (SetUnion) or SDIFF (SetDiff)
// over keys; limit > 0 bounds an intersection (SINTERCARD's LIMIT).
func (s *Store) SetAlgebra(dbi int, keys [][]byte, kind int, limit int, now int64) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sets, empty, err := setsOf(keys, kind, func(k []byte) (*entry, error) {
		return s.readLookup(dbi, k, now), nil
	})
	if empty || err != nil {
		return nil, err
	}
	return setAlgebra(sets, kind, limit), nil
}

// SRandMember picks members of key's set with SRANDMEMBER's rules, using
// rnd as the random source (a read: randomness never reaches apply).
// count > 0: min(count, len) distinct members, the whole set in its order
// when count >= len. count < 0: -count members, possibly repeated. found
// is false when the key does not exist.
func (s *Store) SRandMember(dbi int, key []byte, now int64, count int64, rnd func() uint64) (members []string, found bool, err error) {
	s.mu.RLock()
	t, err := s.setRead(dbi, key, now)
	if t == nil || err != nil {
		s.mu.RUnlock()
		return nil, false, err
	}
	all := t.ordered()
	s.mu.RUnlock()
	size := int64(len(all))
	if count < 0 {
		for range -count {
			members = append(members, all[rnd()%uint64(size)])
		}
		return members, true, nil
	}
	if count >= size {
		return all, true, nil
	}
	// Partial Fisher-Yates over the copy.
	for j := range count {
		k := j + int64(rnd()%uint64(size-j))
		all[j], all[k] = all[k], all[j]
	}
	return all[:count], true, nil
}

// SScan is SSCAN. A small (intset or listpack) set is returned whole with
// cursor 0, as Redis does. A big one is walked in the order of a fixed
// 64-bit hash (FNV-1a) of the members, the cursor being the hash value to
// resume from (the same on every replica): every member present for the
// whole iteration is returned exactly once. match (a glob, nil = all)
// filters the page after it was taken, like Redis.
func (s *Store) SScan(dbi int, key []byte, now int64, cursor uint64, match []byte, count int) (next uint64, members []string, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.setRead(dbi, key, now)
	if t == nil || err != nil {
		return 0, nil, err
	}
	add := func(m string) {
		if match == nil || glob.MatchString(string(match), m, false) {
			members = append(members, m)
		}
	}
	if t.enc != setHashtable {
		for _, m := range t.ordered() {
			add(m)
		}
		return 0, members, nil
	}
	type cand struct {
		hv uint64
		i  int
	}
	var cs []cand
	for i := range t.items {
		if it := &t.items[i]; !it.dead {
			if hv := fnv64(it.name); hv >= cursor {
				cs = append(cs, cand{hv, i})
			}
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].hv < cs[b].hv })
	count = max(count, 1)
	n := min(count, len(cs))
	for n < len(cs) && cs[n].hv == cs[n-1].hv {
		n++
	}
	for _, c := range cs[:n] {
		add(t.items[c.i].name)
	}
	if n == len(cs) || cs[n-1].hv == math.MaxUint64 {
		return 0, members, nil
	}
	return cs[n-1].hv + 1, members, nil
}
