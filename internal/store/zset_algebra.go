package store

import (
	"cmp"
	"math"
	"slices"

	"github.com/skiffdb/skiff/internal/op"
)

// Sorted-set algebra: ZUNION, ZINTER, ZDIFF, ZINTERCARD and the *STORE
// forms, over sorted sets and sets.

// Sorted-set algebra kinds and aggregates.
const (
	ZSetUnion = iota
	ZSetInter
	ZSetDiff
)

// Aggregates of ZUNION/ZINTER.
const (
	ZAggSum = iota
	ZAggMin
	ZAggMax
)

var zstoreEvents = map[op.Code]string{op.ZUnionStore: "zunionstore", op.ZInterStore: "zinterstore", op.ZDiffStore: "zdiffstore"}

func applyZAlgebraStore(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 4 || len(o.Args)%2 != 0 {
		return nil, ErrMalformedOp
	}
	kind := map[op.Code]int{op.ZUnionStore: ZSetUnion, op.ZInterStore: ZSetInter, op.ZDiffStore: ZSetDiff}[o.Code]
	agg, err := intArg(o.Args[1])
	if err != nil || agg < ZAggSum || agg > ZAggMax {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	n := (len(o.Args) - 2) / 2
	keys, weights := make([][]byte, n), make([]float64, n)
	for i := range n {
		keys[i] = o.Args[2+2*i]
		w, ok := ParseScore(o.Args[3+2*i])
		if !ok {
			return nil, ErrMalformedOp
		}
		weights[i] = w
	}
	srcs, err := zsources(keys, weights, func(k []byte) *entry { return s.lookupWrite(d, k, o.Time) })
	if err != nil {
		return nil, err
	}
	res, _ := zalgebra(srcs, kind, int(agg), 0, false)
	return s.zstore(o.DB, d, o.Args[0], res, zstoreEvents[o.Code], o.Time), nil
}

// zsrc is one input of the algebra: a sorted set, a set (every member
// scores 1) or nothing (a missing key).
type zsrc struct {
	z      *zsetObj
	set    *setObj
	weight float64
}

func (src *zsrc) len() int {
	switch {
	case src.z != nil:
		return src.z.len()
	case src.set != nil:
		return src.set.len()
	}
	return 0
}

// each calls fn for every member until fn returns false.
func (src *zsrc) each(fn func(m string, score float64) bool) {
	switch {
	case src.z != nil:
		for x := src.z.zsl.first(); x != nil; x = x.level[0].forward {
			if !fn(x.member, x.score) {
				return
			}
		}
	case src.set != nil:
		for i := range src.set.items {
			if it := &src.set.items[i]; !it.dead && !fn(it.name, 1) {
				return
			}
		}
	}
}

func (src *zsrc) find(m string) (float64, bool) {
	switch {
	case src.z != nil:
		if n, ok := src.z.dict[m]; ok {
			return n.score, true
		}
	case src.set != nil:
		if _, ok := src.set.idx[m]; ok {
			return 1, true
		}
	}
	return 0, false
}

// zsources looks the keys up as Redis's ZUNION/ZINTER/ZDIFF do: a missing
// key is empty; anything but a sorted set or a set is ErrWrongType.
func zsources(keys [][]byte, weights []float64, look func(key []byte) *entry) ([]zsrc, error) {
	srcs := make([]zsrc, len(keys))
	for i, k := range keys {
		srcs[i].weight = 1
		if weights != nil {
			srcs[i].weight = weights[i]
		}
		e := look(k)
		switch {
		case e == nil:
		case e.typ == TypeZSet:
			srcs[i].z = e.obj.(*zsetObj)
		case e.typ == TypeSet:
			srcs[i].set = e.obj.(*setObj)
		default:
			return nil, ErrWrongType
		}
	}
	return srcs, nil
}

func zaggregate(target, val float64, agg int) float64 {
	switch agg {
	case ZAggMin:
		if val < target {
			return val
		}
		return target
	case ZAggMax:
		if val > target {
			return val
		}
		return target
	}
	// inf + -inf is NaN: Redis makes it 0.
	if t := target + val; !math.IsNaN(t) {
		return t
	}
	return 0
}

// zalgebra computes a union, intersection or difference the way Redis's
// zunionInterDiffGenericCommand does (unions and intersections visit the
// inputs from the smallest, a stable order, which decides how sums round).
// It returns the result in (score, member) order, or with cardOnly only the
// size of an intersection, stopping at limit (> 0).
func zalgebra(srcs []zsrc, kind, agg int, limit int, cardOnly bool) ([]ZEntry, int) {
	if kind != ZSetDiff {
		srcs = slices.Clone(srcs)
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return cmp.Compare(a.len(), b.len()) })
	}
	var out []ZEntry
	card := 0
	switch kind {
	case ZSetUnion:
		acc := make(map[string]float64)
		for i := range srcs {
			src := &srcs[i]
			src.each(func(m string, sc float64) bool {
				v := src.weight * sc
				if math.IsNaN(v) {
					v = 0
				}
				if cur, ok := acc[m]; ok {
					acc[m] = zaggregate(cur, v, agg)
				} else {
					acc[m] = v
				}
				return true
			})
		}
		out = make([]ZEntry, 0, len(acc))
		for m, sc := range acc {
			out = append(out, ZEntry{m, sc})
		}
	case ZSetInter:
		if len(srcs) == 0 || srcs[0].len() == 0 {
			return nil, 0
		}
		first := &srcs[0]
		first.each(func(m string, sc float64) bool {
			score := first.weight * sc
			if math.IsNaN(score) {
				score = 0
			}
			for j := 1; j < len(srcs); j++ {
				v, ok := srcs[j].find(m)
				if !ok {
					return true
				}
				score = zaggregate(score, v*srcs[j].weight, agg)
			}
			card++
			if cardOnly {
				return limit <= 0 || card < limit
			}
			out = append(out, ZEntry{m, score})
			return true
		})
	case ZSetDiff:
		if len(srcs) == 0 {
			return nil, 0
		}
		srcs[0].each(func(m string, sc float64) bool {
			for j := 1; j < len(srcs); j++ {
				if _, ok := srcs[j].find(m); ok {
					return true
				}
			}
			out = append(out, ZEntry{m, sc})
			return true
		})
	}
	slices.SortFunc(out, zentryCmp)
	return out, card
}
