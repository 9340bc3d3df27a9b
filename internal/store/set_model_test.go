package store

// The set model (the harness is in list_model_test.go).

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// refSet is a set of the model.
type refSet struct {
	members map[string]bool
	// intset: Redis would hold the set as an intset (every member added
	// since it was created was a canonical integer, and it never held more
	// than 512), which SMEMBERS shows in ascending order. Any other order
	// is compared as a sorted set.
	intset bool
}

func (t *refSet) add(m string) bool {
	if t.members[m] {
		return false
	}
	t.members[m] = true
	if _, ok := redisInt(m); !ok || len(t.members) > 512 {
		t.intset = false
	}
	return true
}

// newRefSet is an empty set as Redis creates one for first (and hint
// members in all).
func newRefSet(first string, hint int) *refSet {
	_, isInt := redisInt(first)
	return &refSet{members: map[string]bool{}, intset: isInt && hint <= 512}
}

func TestSetModel(t *testing.T) {
	runModel(t, modelFamily{
		gen: genSetModelOp, check: checkSetModel,
		codes:    []op.Code{op.SAdd, op.SRem, op.SPop, op.SMove, op.SInterStore, op.SUnionStore, op.SDiffStore},
		errCodes: []op.Code{op.SAdd, op.SRem, op.SPop, op.SMove, op.SInterStore, op.SUnionStore, op.SDiffStore},
	})
}

// setModelMembers mixes canonical integers (intsets), integer-looking
// strings that are not canonical, and strings.
var setModelMembers = [...]string{
	"0", "1", "2", "3", "5", "8", "13", "-1", "-21", "100",
	"m0", "m1", "m2", "m3", "m4", "m5", "007", "+1", "",
}

func (r *modelRun) setMember() string {
	if r.rng.IntN(40) == 0 {
		return "long-member-" + strconv.Itoa(r.rng.IntN(3)) + strings.Repeat("x", 60)
	}
	return setModelMembers[r.rng.IntN(len(setModelMembers))]
}

func (r *modelRun) setMembers(n int) []string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = r.setMember()
	}
	return ms
}

// setAlgebraModel is SINTER, SUNION or SDIFF of keys in database db:
// every key must be absent or a set (checked before anything is computed);
// an absent key is an empty set.
func (r *modelRun) setAlgebraModel(db int, keys []string, kind int) (map[string]bool, error) {
	sets := make([]map[string]bool, len(keys))
	for i, k := range keys {
		e := r.getIn(db, k)
		if e == nil {
			continue
		}
		if e.typ != TypeSet {
			return nil, ErrWrongType
		}
		sets[i] = e.set.members
	}
	out := map[string]bool{}
	switch kind {
	case SetInter:
	next:
		for m := range sets[0] {
			for _, o := range sets[1:] {
				if !o[m] {
					continue next
				}
			}
			out[m] = true
		}
	case SetUnion:
		for _, t := range sets {
			for m := range t {
				out[m] = true
			}
		}
	case SetDiff:
		for m := range sets[0] {
			in := false
			for _, o := range sets[1:] {
				in = in || o[m]
			}
			if !in {
				out[m] = true
			}
		}
	}
	return out, nil
}

func genSetModelOp(r *modelRun) (op.Op, func() (any, error)) {
	rng := r.rng
	k := r.key()
	switch p := rng.IntN(100); {
	case p < 35: // SADD
		ms := r.setMembers(1 + rng.IntN(3))
		if rng.IntN(100) == 0 { // past the listpack (128) and intset (512) thresholds
			ms = ms[:0]
			for i := range 130 + rng.IntN(450) {
				if rng.IntN(2) == 0 {
					ms = append(ms, strconv.Itoa(i))
				} else {
					ms = append(ms, "g"+strconv.Itoa(i))
				}
			}
			if rng.IntN(2) == 0 { // only integers
				for i := range ms {
					ms[i] = strconv.Itoa(i * 3)
				}
			}
		}
		return mkop(op.SAdd, append([]string{k}, ms...)...), func() (any, error) {
			e, err := r.lookup(k, TypeSet)
			if err != nil {
				return nil, err
			}
			if e == nil {
				e = &refEntry{typ: TypeSet, set: newRefSet(ms[0], len(ms))}
				r.put(k, e)
			}
			var added int64
			for _, m := range ms {
				if e.set.add(m) {
					added++
				}
			}
			return added, nil
		}
	case p < 52: // SREM
		ms := r.setMembers(1 + rng.IntN(3))
		return mkop(op.SRem, append([]string{k}, ms...)...), func() (any, error) {
			removed, err := r.setRemoveModel(k, ms)
			return int64(len(removed)), err
		}
	case p < 64: // SPOP as replicated: the members the leader picked
		var ms []string
		if e := r.get(k); e != nil && e.typ == TypeSet {
			all := slices.Sorted(maps.Keys(e.set.members))
			for range 1 + rng.IntN(3) {
				ms = append(ms, all[rng.IntN(len(all))])
			}
		}
		if len(ms) == 0 || rng.IntN(5) == 0 { // picked, then removed meanwhile
			ms = append(ms, r.setMember())
		}
		return mkop(op.SPop, append([]string{k}, ms...)...), func() (any, error) {
			removed, err := r.setRemoveModel(k, ms)
			if err != nil {
				return nil, err
			}
			return bulks(removed), nil
		}
	case p < 78: // SMOVE (also onto itself)
		dst, m := r.key(), r.setMember()
		return mkop(op.SMove, k, dst, m), func() (any, error) {
			se, err := r.lookup(k, TypeSet)
			if se == nil || err != nil {
				return int64(0), err // an absent source is checked first
			}
			de, err := r.lookup(dst, TypeSet)
			if err != nil {
				return nil, err
			}
			if !se.set.members[m] {
				return int64(0), nil
			}
			if dst == k {
				return int64(1), nil
			}
			delete(se.set.members, m)
			if len(se.set.members) == 0 {
				r.del(k)
			}
			if de == nil {
				de = &refEntry{typ: TypeSet, set: newRefSet(m, 1)}
				r.put(dst, de)
			}
			de.set.add(m)
			return int64(1), nil
		}
	default: // SINTERSTORE SUNIONSTORE SDIFFSTORE (dst may be a source)
		kind := rng.IntN(3)
		code := [...]op.Code{SetInter: op.SInterStore, SetUnion: op.SUnionStore, SetDiff: op.SDiffStore}[kind]
		keys := r.keyList(1 + rng.IntN(3))
		return mkop(code, append([]string{k}, keys...)...), func() (any, error) {
			res, err := r.setAlgebraModel(r.db, keys, kind)
			if err != nil {
				return nil, err
			}
			r.del(k) // whatever it held
			if len(res) == 0 {
				return int64(0), nil
			}
			t := &refSet{members: map[string]bool{}, intset: true}
			for _, m := range slices.Sorted(maps.Keys(res)) {
				t.add(m)
			}
			r.put(k, &refEntry{typ: TypeSet, set: t})
			return int64(len(res)), nil
		}
	}
}

// setRemoveModel removes ms from key's set and returns those removed, in
// argument order; an emptied set is removed.
func (r *modelRun) setRemoveModel(key string, ms []string) ([]string, error) {
	e, err := r.lookup(key, TypeSet)
	if e == nil || err != nil {
		return nil, err
	}
	var removed []string
	for _, m := range ms {
		if e.set.members[m] {
			delete(e.set.members, m)
			removed = append(removed, m)
		}
	}
	if len(e.set.members) == 0 {
		r.del(key)
	}
	return removed, nil
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

func checkSetModel(r *modelRun, db int, key string) {
	e := r.getIn(db, key)
	wantErr := readErr(e, TypeSet)
	t := &refSet{members: map[string]bool{}}
	if wantErr == nil && e != nil {
		t = e.set
	}
	k := []byte(key)
	rng := r.rrng
	name := func(cmd string, args ...any) func() string {
		return func() string { return fmt.Sprintf("%s db %d %s %v", cmd, db, key, args) }
	}

	n, err := r.s.SCard(db, k, r.now)
	expectEq(r, name("SCARD"), n, err, int64(len(t.members)), wantErr)

	// SMEMBERS: an intset in ascending order, anything else as a set.
	ms, err := r.s.SMembers(db, k, r.now)
	want := sortedKeys(t.members)
	if t.intset {
		slices.SortFunc(want, func(a, b string) int {
			x, _ := redisInt(a)
			y, _ := redisInt(b)
			return cmp.Compare(x, y)
		})
	} else {
		ms = slices.Clone(ms)
		slices.Sort(ms)
	}
	expectSeq(r, name("SMEMBERS", "intset:", t.intset), ms, err, want, wantErr)

	// SISMEMBER / SMISMEMBER of members present or not.
	cands := setModelMembers[:len(setModelMembers):len(setModelMembers)]
	for range min(len(want), 20) {
		cands = append(cands, want[rng.IntN(len(want))])
	}
	in, err := r.s.SIsMember(db, k, bulks(cands), r.now)
	wantIn := make([]bool, len(cands))
	for i, m := range cands {
		wantIn[i] = t.members[m]
	}
	expectSeq(r, name("SMISMEMBER", cands), in, err, wantIn, wantErr)

	// SINTER SUNION SDIFF of this key and others of its database, and
	// SINTERCARD with a LIMIT.
	keys := append([]string{key}, r.keysFrom(rng.IntN(3))...)
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	algebra := func(cmd string, args ...any) func() string {
		return func() string { return fmt.Sprintf("%s db %d %q %v", cmd, db, keys, args) }
	}
	for kind, cmd := range [...]string{SetInter: "SINTER", SetUnion: "SUNION", SetDiff: "SDIFF"} {
		got, err := r.s.SetAlgebra(db, bulks(keys), kind, 0, r.now)
		res, werr := r.setAlgebraModel(db, keys, kind)
		got = slices.Clone(got)
		slices.Sort(got)
		expectSeq(r, algebra(cmd), got, err, sortedKeys(res), werr)
	}
	limit := rng.IntN(4)
	got, err := r.s.SetAlgebra(db, bulks(keys), SetInter, limit, r.now)
	res, werr := r.setAlgebraModel(db, keys, SetInter)
	wantN := len(res)
	if limit > 0 {
		wantN = min(wantN, limit)
	}
	for _, m := range got {
		if !res[m] {
			r.fatalf("SINTERCARD db %d %q LIMIT %d returned %q, not in the intersection %q", db, keys, limit, m, sortedKeys(res))
		}
	}
	expectEq(r, algebra("SINTERCARD", "LIMIT", limit), len(got), err, wantN, werr)
}

// keysFrom picks n keys with the read generator.
func (r *modelRun) keysFrom(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = modelKeys[r.rrng.IntN(len(modelKeys))]
	}
	return ks
}
