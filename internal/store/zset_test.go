package store

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// zgenScores and zgenWeights are the numbers the generators use: exact in
// binary (sums do not depend on rounding), with signed zeros and infinities
// so that NaN and -0 handling is exercised.
var (
	zgenScores  = []string{"0", "-0", "1", "1.5", "2", "-2", "3", "10", "0.25", "inf", "-inf"}
	zgenWeights = []string{"1", "2", "0", "-1", "0.5", "inf"}
)

// zgenFlags are ZADD's valid option combinations.
var zgenFlags = []int{
	0, op.ZAddNX, op.ZAddXX, op.ZAddGT, op.ZAddLT, op.ZAddCH, op.ZAddXX | op.ZAddGT, op.ZAddXX | op.ZAddLT,
	op.ZAddNX | op.ZAddCH, op.ZAddGT | op.ZAddCH, op.ZAddIncr, op.ZAddIncr | op.ZAddNX, op.ZAddIncr | op.ZAddXX,
	op.ZAddIncr | op.ZAddGT, op.ZAddIncr | op.ZAddLT,
}

func zgenRange(r *rand.Rand, by int) (min, max []byte) {
	switch by {
	case 0:
		return op.Itoa(int64(r.IntN(12) - 6)), op.Itoa(int64(r.IntN(12) - 6))
	case 1:
		b := func() []byte {
			s := zgenScores[r.IntN(len(zgenScores))]
			if r.IntN(3) == 0 {
				s = "(" + s
			}
			return []byte(s)
		}
		return b(), b()
	}
	b := func() []byte {
		switch r.IntN(6) {
		case 0:
			return []byte("-")
		case 1:
			return []byte("+")
		case 2:
			return []byte("(" + string(rune('a'+r.IntN(16))))
		}
		return []byte("[" + string(rune('a'+r.IntN(16))))
	}
	return b(), b()
}

// genZSet generates a random sorted-set operation for the snapshot and
// determinism tests, on keys from g.key() (so sorted sets meet other types:
// WRONGTYPE, COPY, RENAME, sets as algebra inputs ...). Members come from a
// small pool so that removals and emptied keys happen; now and then a sorted
// set grows past the listpack thresholds.
func genZSet(g *opGen, o *op.Op) {
	r := g.rng
	member := func() []byte {
		if r.IntN(25) == 0 {
			return []byte("long-member-" + strconv.Itoa(r.IntN(20)) + strings.Repeat("x", 60))
		}
		return []byte(string(rune('a' + r.IntN(16))))
	}
	score := func() []byte { return []byte(zgenScores[r.IntN(len(zgenScores))]) }
	switch p := r.IntN(100); {
	case p < 35:
		flags := zgenFlags[r.IntN(len(zgenFlags))]
		o.Code, o.Args = op.ZAdd, [][]byte{g.key(), op.Itoa(int64(flags))}
		switch {
		case flags&op.ZAddIncr != 0:
			o.Args = append(o.Args, score(), member())
		case r.IntN(40) == 0: // past the thresholds
			for i := range 150 {
				o.Args = append(o.Args, op.Itoa(int64(i%7)), []byte("g"+strconv.Itoa(i)))
			}
		default:
			for range 1 + r.IntN(3) {
				o.Args = append(o.Args, score(), member())
			}
		}
	case p < 45:
		o.Code, o.Args = op.ZRem, [][]byte{g.key(), member(), member()}
	case p < 55:
		by := r.IntN(3)
		min, max := zgenRange(r, by)
		o.Code, o.Args = op.ZRemRange, [][]byte{g.key(), op.Itoa(int64(by)), min, max}
	case p < 65:
		o.Code, o.Args = op.ZMPop, [][]byte{op.Itoa(int64(r.IntN(2))), op.Itoa(int64(1 + r.IntN(3))), g.key(), g.key()}
	case p < 75:
		by := r.IntN(3)
		min, max := zgenRange(r, by)
		o.Code, o.Args = op.ZRangeStore, [][]byte{g.key(), g.key(), op.Itoa(int64(by)), op.Itoa(int64(r.IntN(2))),
			min, max, op.Itoa(int64(r.IntN(3))), op.Itoa(int64(r.IntN(5) - 1))}
	default:
		codes := []op.Code{op.ZUnionStore, op.ZInterStore, op.ZDiffStore}
		o.Code, o.Args = codes[r.IntN(3)], [][]byte{g.key(), op.Itoa(int64(r.IntN(3)))}
		for range 1 + r.IntN(3) {
			o.Args = append(o.Args, g.key(), []byte(zgenWeights[r.IntN(len(zgenWeights))]))
		}
	}
}

// --- the model-based test ---

// zref is the reference model of one key: a string, a set (an algebra
// input) or a sorted set as a plain map, sorted on every read.
type zref struct {
	str      bool
	set      map[string]bool
	z        map[string]float64
	listpack bool
}

func (k *zref) sorted() []ZEntry {
	out := make([]ZEntry, 0, len(k.z))
	for m, s := range k.z {
		out = append(out, ZEntry{m, s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score < out[j].Score
		}
		return out[i].Member < out[j].Member
	})
	return out
}

func (k *zref) norm(s float64) float64 {
	if k.listpack && s == 0 {
		return 0
	}
	return s
}

func (k *zref) uniform() bool {
	first, set := 0.0, false
	for _, s := range k.z {
		if set && s != first {
			return false
		}
		first, set = s, true
	}
	return true
}

type zmodel struct {
	keys map[string]*zref
}

func (m *zmodel) zset(key string) (*zref, error) {
	k := m.keys[key]
	if k != nil && k.z == nil {
		return nil, ErrWrongType
	}
	return k, nil
}

// newZref is a computed result in the encoding Redis gives it.
func newZref(es []ZEntry) *zref {
	k := &zref{z: map[string]float64{}, listpack: len(es) <= zsetMaxListpackEntries}
	for _, e := range es {
		k.listpack = k.listpack && len(e.Member) <= zsetMaxListpackValue
	}
	for _, e := range es {
		k.z[e.Member] = k.norm(e.Score)
	}
	return k
}

func (m *zmodel) storeResult(dst string, es []ZEntry) int64 {
	if len(es) == 0 {
		delete(m.keys, dst)
		return 0
	}
	m.keys[dst] = newZref(es)
	return int64(len(es))
}

func (m *zmodel) zadd(key string, flags int, pairs []string) (any, error) {
	k, err := m.zset(key)
	if err != nil {
		return nil, err
	}
	has := func(f int) bool { return flags&f != 0 }
	if k == nil {
		if has(op.ZAddXX) {
			if has(op.ZAddIncr) {
				return nil, nil
			}
			return int64(0), nil
		}
		k = &zref{z: map[string]float64{}, listpack: true}
	}
	var added, updated, processed int64
	var last float64
	for i := 0; i < len(pairs); i += 2 {
		sc, _ := strconv.ParseFloat(pairs[i], 64)
		mem := pairs[i+1]
		cur, ok := k.z[mem]
		switch {
		case !ok && has(op.ZAddXX), ok && has(op.ZAddNX):
			continue
		case !ok:
			if k.listpack && (len(k.z)+1 > zsetMaxListpackEntries || len(mem) > zsetMaxListpackValue) {
				k.listpack = false
			}
			k.z[mem] = k.norm(sc)
			added++
			processed++
			last = sc
			continue
		}
		if has(op.ZAddIncr) {
			sc += cur
			if math.IsNaN(sc) {
				return nil, ErrScoreNaN
			}
		}
		if (has(op.ZAddLT) && sc >= cur) || (has(op.ZAddGT) && sc <= cur) {
			continue
		}
		processed++
		last = sc
		if sc != cur {
			k.z[mem] = k.norm(sc)
			updated++
		}
	}
	if len(k.z) > 0 {
		m.keys[key] = k
	}
	switch {
	case has(op.ZAddIncr) && processed > 0:
		return last, nil
	case has(op.ZAddIncr):
		return nil, nil
	case has(op.ZAddCH):
		return added + updated, nil
	}
	return added, nil
}

// selectRange is ZRANGE's selection on sorted entries, in reply order.
func selectRange(es []ZEntry, sp *ZRangeSpec) []ZEntry {
	var sel []ZEntry
	switch sp.By {
	case ZByRank:
		n := int64(len(es))
		list := slices.Clone(es)
		if sp.Rev {
			slices.Reverse(list)
		}
		start, stop := sp.Start, sp.Stop
		if start < 0 {
			start += n
		}
		if stop < 0 {
			stop += n
		}
		start = max(start, 0)
		stop = min(stop, n-1)
		if start > stop {
			return nil
		}
		return list[start : stop+1]
	case ZByScore:
		for _, e := range es {
			if sp.Score.gteMin(e.Score) && sp.Score.lteMax(e.Score) {
				sel = append(sel, e)
			}
		}
	default:
		for _, e := range es {
			if sp.Lex.gteMin(e.Member) && sp.Lex.lteMax(e.Member) {
				sel = append(sel, e)
			}
		}
	}
	if sp.Rev {
		slices.Reverse(sel)
	}
	if sp.Offset < 0 || sp.Offset >= int64(len(sel)) {
		return nil
	}
	sel = sel[sp.Offset:]
	if sp.Count >= 0 && sp.Count < int64(len(sel)) {
		sel = sel[:sp.Count]
	}
	return sel
}

func (m *zmodel) algebra(keys []string, weights []float64, kind, agg int) ([]ZEntry, error) {
	type src struct {
		vals   map[string]float64
		weight float64
	}
	srcs := make([]src, len(keys))
	for i, key := range keys {
		srcs[i] = src{vals: map[string]float64{}, weight: weights[i]}
		k := m.keys[key]
		switch {
		case k == nil:
		case k.z != nil:
			srcs[i].vals = k.z
		case k.set != nil:
			for mem := range k.set {
				srcs[i].vals[mem] = 1
			}
		default:
			return nil, ErrWrongType
		}
	}
	if kind != ZSetDiff {
		slices.SortStableFunc(srcs, func(a, b src) int { return len(a.vals) - len(b.vals) })
	}
	nan0 := func(f float64) float64 {
		if math.IsNaN(f) {
			return 0
		}
		return f
	}
	aggr := func(a, b float64) float64 {
		switch agg {
		case ZAggMin:
			if b < a {
				return b
			}
			return a
		case ZAggMax:
			if b > a {
				return b
			}
			return a
		}
		return nan0(a + b)
	}
	res := map[string]float64{}
	switch kind {
	case ZSetUnion:
		for _, s := range srcs {
			for mem, v := range s.vals {
				v = nan0(v * s.weight)
				if cur, ok := res[mem]; ok {
					res[mem] = aggr(cur, v)
				} else {
					res[mem] = v
				}
			}
		}
	case ZSetInter:
	next:
		for mem, v := range srcs[0].vals {
			acc := nan0(v * srcs[0].weight)
			for _, s := range srcs[1:] {
				w, ok := s.vals[mem]
				if !ok {
					continue next
				}
				acc = aggr(acc, w*s.weight)
			}
			res[mem] = acc
		}
	case ZSetDiff:
	nextd:
		for mem, v := range srcs[0].vals {
			for _, s := range srcs[1:] {
				if _, ok := s.vals[mem]; ok {
					continue nextd
				}
			}
			res[mem] = v
		}
	}
	return (&zref{z: res}).sorted(), nil
}

// zmodelKeys: sorted sets, plus a set and a string the operations meet.
var zmodelKeys = []string{"z0", "z1", "z2", "z3", "set", "str"}

func TestZSetModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	steps := 3000
	if *modelSeed != 0 {
		seeds = []uint64{*modelSeed}
	}
	if *modelSteps != 0 {
		steps = *modelSteps
	}
	seen := map[string]int{}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runZSetModel(t, seed, steps, seen) })
	}
	t.Logf("met: %v", seen)
	// Keep the generator honest: the interesting cases must occur.
	for _, what := range []string{"NaN", "WRONGTYPE", "skiplist", "listpack", "-0"} {
		if len(seeds)*steps >= 10000 && seen[what] == 0 {
			t.Errorf("%d steps never met %s", len(seeds)*steps, what)
		}
	}
}

func runZSetModel(t *testing.T, seed uint64, steps int, seen map[string]int) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	s := New(Options{})
	m := &zmodel{keys: map[string]*zref{}}
	key := func() string {
		if r.IntN(12) == 0 {
			return zmodelKeys[4+r.IntN(2)]
		}
		return zmodelKeys[r.IntN(4)]
	}
	member := func() string {
		if r.IntN(30) == 0 {
			return "long" + strconv.Itoa(r.IntN(5)) + strings.Repeat("y", 62)
		}
		return string(rune('a' + r.IntN(16)))
	}
	score := func() string { return zgenScores[r.IntN(len(zgenScores))] }
	// uniform reports whether a lex operation on key is well defined
	// (every member has the same score).
	uniform := func(key string) bool {
		k := m.keys[key]
		return k == nil || k.z == nil || k.uniform()
	}
	randSpec := func(key string, limit bool) (ZRangeSpec, []string) {
		by := r.IntN(3)
		if by == 2 && !uniform(key) {
			by = 1
		}
		min, max := zgenRange(r, by)
		sp, err := zrangeSpecArgs(op.Itoa(int64(by)), min, max)
		if err != nil {
			t.Fatal(err)
		}
		sp.Rev = r.IntN(2) == 0
		if limit && by != 0 && r.IntN(2) == 0 {
			sp.Offset, sp.Count = int64(r.IntN(4)-1), int64(r.IntN(5)-1)
		}
		return sp, []string{strconv.Itoa(by), string(min), string(max)}
	}
	check := func(i int, what string, got, want any, gerr, werr error) {
		t.Helper()
		switch {
		case errors.Is(werr, ErrScoreNaN):
			seen["NaN"]++
		case errors.Is(werr, ErrWrongType):
			seen["WRONGTYPE"]++
		}
		if !errors.Is(gerr, werr) || (werr == nil && !zsame(got, want)) {
			t.Fatalf("seed %d step %d %s: got %#v (%v), want %#v (%v)", seed, i, what, got, gerr, want, werr)
		}
	}
	mustApply(t, s, op.Set, "str", "v", "0", "0")
	m.keys["str"] = &zref{str: true}
	mustApply(t, s, op.SAdd, "set", "a", "c", "x")
	m.keys["set"] = &zref{set: map[string]bool{"a": true, "c": true, "x": true}}

	for i := range steps {
		var what string
		var got, want any
		var gerr, werr error
		switch p := r.IntN(100); {
		case p < 30:
			flags := zgenFlags[r.IntN(len(zgenFlags))]
			k := key()
			var pairs []string
			switch {
			case flags&op.ZAddIncr != 0:
				pairs = []string{score(), member()}
			case r.IntN(60) == 0:
				for j := range 130 {
					pairs = append(pairs, strconv.Itoa(j%5), "g"+strconv.Itoa(j))
				}
			default:
				for range 1 + r.IntN(4) {
					pairs = append(pairs, score(), member())
				}
			}
			what = fmt.Sprintf("ZADD %s %d %q", k, flags, pairs)
			got, gerr = apply(t, s, op.ZAdd, t0, append([]string{k, strconv.Itoa(flags)}, pairs...)...)
			want, werr = m.zadd(k, flags, pairs)
		case p < 40:
			k := key()
			mems := []string{member(), member(), member()}
			what = fmt.Sprintf("ZREM %s %q", k, mems)
			got, gerr = apply(t, s, op.ZRem, t0, append([]string{k}, mems...)...)
			want = int64(0)
			if zk, err := m.zset(k); err != nil {
				werr = err
			} else if zk != nil {
				var n int64
				for _, mem := range mems {
					if _, ok := zk.z[mem]; ok {
						delete(zk.z, mem)
						n++
					}
				}
				if len(zk.z) == 0 {
					delete(m.keys, k)
				}
				want = n
			}
		case p < 50:
			k := key()
			sp, args := randSpec(k, false)
			sp.Rev = false
			what = fmt.Sprintf("ZREMRANGE %s %q", k, args)
			got, gerr = apply(t, s, op.ZRemRange, t0, append([]string{k}, args...)...)
			want = int64(0)
			if zk, err := m.zset(k); err != nil {
				werr = err
			} else if zk != nil {
				sel := selectRange(zk.sorted(), &sp)
				for _, e := range sel {
					delete(zk.z, e.Member)
				}
				if len(zk.z) == 0 {
					delete(m.keys, k)
				}
				want = int64(len(sel))
			}
		case p < 58:
			maxEnd, count := r.IntN(2), 1+r.IntN(3)
			keys := []string{key(), key()}
			what = fmt.Sprintf("ZMPOP %d %d %q", maxEnd, count, keys)
			got, gerr = apply(t, s, op.ZMPop, t0, append([]string{strconv.Itoa(maxEnd), strconv.Itoa(count)}, keys...)...)
			want = nil
			for _, k := range keys {
				zk, err := m.zset(k)
				if err != nil {
					werr = err
					break
				}
				if zk == nil {
					continue
				}
				es := zk.sorted()
				if maxEnd == 1 {
					slices.Reverse(es)
				}
				es = es[:min(count, len(es))]
				for _, e := range es {
					delete(zk.z, e.Member)
				}
				if len(zk.z) == 0 {
					delete(m.keys, k)
				}
				want = ZPopped{Key: []byte(k), Entries: es}
				break
			}
		case p < 66:
			dst, src := key(), key()
			sp, args := randSpec(src, true)
			rev := "0"
			if sp.Rev {
				rev = "1"
			}
			opArgs := []string{dst, src, args[0], rev, args[1], args[2], strconv.FormatInt(sp.Offset, 10), strconv.FormatInt(sp.Count, 10)}
			what = fmt.Sprintf("ZRANGESTORE %q", opArgs)
			if sp.By == ZByRank {
				sp.Offset, sp.Count = 0, -1
				opArgs[6], opArgs[7] = "0", "-1"
			}
			got, gerr = apply(t, s, op.ZRangeStore, t0, opArgs...)
			if zk, err := m.zset(src); err != nil {
				werr = err
			} else {
				var es []ZEntry
				if zk != nil {
					es = slices.Clone(selectRange(zk.sorted(), &sp))
					slices.SortFunc(es, zentryCmp)
				}
				want = m.storeResult(dst, es)
			}
		case p < 76:
			codes := []op.Code{op.ZUnionStore, op.ZInterStore, op.ZDiffStore}
			kind := r.IntN(3)
			agg := r.IntN(3)
			dst := key()
			args := []string{dst, strconv.Itoa(agg)}
			var keys []string
			var ws []float64
			for range 1 + r.IntN(3) {
				k, w := key(), zgenWeights[r.IntN(len(zgenWeights))]
				if kind == ZSetDiff {
					w = "1"
				}
				keys = append(keys, k)
				f, _ := strconv.ParseFloat(w, 64)
				ws = append(ws, f)
				args = append(args, k, w)
			}
			what = fmt.Sprintf("%v %q", codes[kind], args)
			got, gerr = apply(t, s, codes[kind], t0, args...)
			var es []ZEntry
			if es, werr = m.algebra(keys, ws, kind, agg); werr == nil {
				want = m.storeResult(dst, es)
			}
		case p < 78:
			// The string and the set come back.
			what = "SET str, SADD set"
			mustApply(t, s, op.Del, "str", "set")
			mustApply(t, s, op.Set, "str", "v", "0", "0")
			mustApply(t, s, op.SAdd, "set", "a", "c", "x")
			m.keys["str"] = &zref{str: true}
			m.keys["set"] = &zref{set: map[string]bool{"a": true, "c": true, "x": true}}
		case p < 80:
			k := key()
			what = "DEL " + k
			got, gerr = apply(t, s, op.Del, t0, k)
			want = int64(0)
			if m.keys[k] != nil {
				want = int64(1)
				delete(m.keys, k)
			}
		case p < 90: // range reads
			k := key()
			sp, args := randSpec(k, true)
			what = fmt.Sprintf("ZRANGE %s %q %+v", k, args, sp)
			got, gerr = s.ZRange(0, []byte(k), &sp, t0)
			want = []ZEntry(nil)
			if zk, err := m.zset(k); err != nil {
				werr = err
			} else if zk != nil {
				want = selectRange(zk.sorted(), &sp)
			}
			if sp.By != ZByRank && gerr == nil {
				cnt := sp
				cnt.Rev, cnt.Offset, cnt.Count = false, 0, -1
				n, err := s.ZCount(0, []byte(k), &cnt, t0)
				var wn int64
				if zk := m.keys[k]; zk != nil && zk.z != nil {
					wn = int64(len(selectRange(zk.sorted(), &cnt)))
				}
				check(i, what+" count", n, wn, err, nil)
			}
		case p < 95: // point reads
			k, mem := key(), member()
			rev := r.IntN(2) == 0
			what = fmt.Sprintf("ZRANK/ZSCORE %s %s", k, mem)
			rank, sc, found, err := s.ZRank(0, []byte(k), []byte(mem), rev, t0)
			got, gerr = fmt.Sprint(rank, math.Float64bits(sc), found), err
			want = fmt.Sprint(0, 0, false)
			if zk, err := m.zset(k); err != nil {
				werr = err
			} else if zk != nil {
				for j, e := range zk.sorted() {
					if e.Member == mem {
						if rev {
							j = len(zk.z) - 1 - j
						}
						want = fmt.Sprint(j, math.Float64bits(e.Score), true)
					}
				}
			}
		default: // algebra reads
			kind, agg := r.IntN(3), r.IntN(3)
			keys := []string{key(), key()}
			ws := []float64{1, 1}
			if kind != ZSetDiff {
				ws = []float64{2, -1}
			}
			what = fmt.Sprintf("ZALGEBRA %d %d %q", kind, agg, keys)
			got, gerr = s.ZAlgebra(0, [][]byte{[]byte(keys[0]), []byte(keys[1])}, ws, agg, kind, t0)
			want, werr = m.algebra(keys, ws, kind, agg)
			if kind == ZSetInter && werr == nil {
				n, err := s.ZInterCard(0, [][]byte{[]byte(keys[0]), []byte(keys[1])}, 0, t0)
				check(i, what+" card", n, int64(len(want.([]ZEntry))), err, nil)
			}
		}
		check(i, what, got, want, gerr, werr)
		if i%25 == 0 || i == steps-1 {
			zcompare(t, s, m, fmt.Sprintf("seed %d step %d after %s", seed, i, what))
			for _, k := range m.keys {
				switch {
				case k.z != nil && !k.listpack:
					seen["skiplist"]++
				case k.z != nil:
					seen["listpack"]++
				}
				for _, sc := range k.z {
					if sc == 0 && math.Signbit(sc) {
						seen["-0"]++
					}
				}
			}
		}
	}
}

// zsame compares replies, scores by their bits (-0 is not 0).
func zsame(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case []ZEntry:
		g, ok := got.([]ZEntry)
		if !ok || len(g) != len(w) {
			return len(w) == 0 && len(g) == 0 && ok
		}
		for i := range w {
			if g[i].Member != w[i].Member || math.Float64bits(g[i].Score) != math.Float64bits(w[i].Score) {
				return false
			}
		}
		return true
	case ZPopped:
		g, ok := got.(ZPopped)
		return ok && string(g.Key) == string(w.Key) && zsame(g.Entries, w.Entries)
	}
	return got == want
}

// zcompare checks the whole keyspace against the model: types, members,
// scores (bits), encodings and the skiplist invariants.
func zcompare(t *testing.T, s *Store, m *zmodel, where string) {
	t.Helper()
	for _, k := range zmodelKeys {
		ref := m.keys[k]
		typ := s.Type(0, []byte(k), t0)
		switch {
		case ref == nil && typ != TypeNone, ref != nil && ref.z != nil && typ != TypeZSet:
			t.Fatalf("%s: %s is a %v", where, k, typ)
		case ref == nil || ref.z == nil:
			continue
		}
		es, err := s.ZRange(0, []byte(k), &ZRangeSpec{Start: 0, Stop: -1, Count: -1}, t0)
		if err != nil || !zsame(es, ref.sorted()) {
			t.Fatalf("%s: %s holds %v, want %v", where, k, es, ref.sorted())
		}
		wantEnc := "skiplist"
		if ref.listpack {
			wantEnc = "listpack"
		}
		if enc := zenc(s, k); enc != wantEnc {
			t.Fatalf("%s: %s encoding %s, want %s", where, k, enc, wantEnc)
		}
		checkZset(t, zsetOf(t, s, k))
	}
}
