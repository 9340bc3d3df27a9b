package store

import (
	"cmp"
	"math"
	"slices"

	"github.com/skiffdb/skiff/internal/glob"
)

// Sorted-set reads. Each takes the read lock and returns copies (member
// strings are immutable), valid after the lock is released.

// zsetRead returns key's live sorted set for a read (caller holds the read
// lock).
func (s *Store) zsetRead(dbi int, key []byte, now int64) (*zsetObj, error) {
	return objRead[*zsetObj](s, dbi, key, now, TypeZSet)
}

// ZCard returns the number of members of key's sorted set (0 when absent).
func (s *Store) ZCard(dbi int, key []byte, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil {
		return 0, err
	}
	return int64(z.len()), nil
}

// ZScore returns the score of each member (found false when absent or the
// key is).
func (s *Store) ZScore(dbi int, key []byte, members [][]byte, now int64) (scores []float64, found []bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if err != nil {
		return nil, nil, err
	}
	scores, found = make([]float64, len(members)), make([]bool, len(members))
	if z != nil {
		for i, m := range members {
			if n, ok := z.dict[string(m)]; ok {
				scores[i], found[i] = n.score, true
			}
		}
	}
	return scores, found, nil
}

// ZRank returns member's 0-based rank (in descending order when rev) and
// score; found is false when the member or the key is absent.
func (s *Store) ZRank(dbi int, key, member []byte, rev bool, now int64) (rank int64, score float64, found bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil {
		return 0, 0, false, err
	}
	n, ok := z.dict[string(member)]
	if !ok {
		return 0, 0, false, nil
	}
	r := int64(z.zsl.rank(n.score, n.member)) - 1
	if rev {
		r = int64(z.len()) - 1 - r
	}
	return r, n.score, true, nil
}

// ZRange returns the members a ZRANGE-family range selects, in reply order
// (empty when the key is absent).
func (s *Store) ZRange(dbi int, key []byte, sp *ZRangeSpec, now int64) ([]ZEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil {
		return nil, err
	}
	return z.collect(sp), nil
}

// ZCount returns how many members a score or lex range (ZCOUNT,
// ZLEXCOUNT) selects.
func (s *Store) ZCount(dbi int, key []byte, sp *ZRangeSpec, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil {
		return 0, err
	}
	from, to := z.interval(sp)
	return int64(max(to-from, 0)), nil
}

// ZAlgebra is ZUNION (ZSetUnion), ZINTER (ZSetInter) or ZDIFF (ZSetDiff)
// over keys (sorted sets or sets) with weights (nil: all 1) and aggregate
// agg (ZAggSum ...), in (score, member) order.
func (s *Store) ZAlgebra(dbi int, keys [][]byte, weights []float64, agg, kind int, now int64) ([]ZEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	srcs, err := zsources(keys, weights, func(k []byte) *entry { return s.readLookup(dbi, k, now) })
	if err != nil {
		return nil, err
	}
	res, _ := zalgebra(srcs, kind, agg, 0, false)
	return res, nil
}

// ZInterCard returns the size of the intersection of keys, counting no
// further than limit when limit > 0 (ZINTERCARD).
func (s *Store) ZInterCard(dbi int, keys [][]byte, limit int, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	srcs, err := zsources(keys, nil, func(k []byte) *entry { return s.readLookup(dbi, k, now) })
	if err != nil {
		return 0, err
	}
	_, n := zalgebra(srcs, ZSetInter, ZAggSum, limit, true)
	return int64(n), nil
}

// ZRandMember picks members of key's sorted set with ZRANDMEMBER's rules,
// using rnd as the random source (a read: randomness never reaches apply).
// count > 0: min(count, len) distinct members, the whole sorted set in
// descending order when count >= len. count < 0: -count members, possibly repeated.
// found is false when the key does not exist.
func (s *Store) ZRandMember(dbi int, key []byte, now int64, count int64, rnd func() uint64) (out []ZEntry, found bool, err error) {
	s.mu.RLock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil || err != nil {
		s.mu.RUnlock()
		return nil, false, err
	}
	size := int64(z.len())
	pick := func(r int64) ZEntry { x := z.zsl.byRank(int(r) + 1); return ZEntry{x.member, x.score} }
	switch {
	case count < 0 && -count > size/4:
		// Many picks with repetition: copy the members out (bounded by the
		// size) and sample without holding the lock.
		all := z.entries()
		s.mu.RUnlock()
		out = make([]ZEntry, 0, min(-count, 1<<20))
		for range -count {
			out = append(out, all[rnd()%uint64(size)])
		}
		return out, true, nil
	case count < 0:
		defer s.mu.RUnlock()
		for range -count {
			out = append(out, pick(int64(rnd()%uint64(size))))
		}
		return out, true, nil
	}
	defer s.mu.RUnlock()
	if count >= size {
		// The whole sorted set, as Redis's zset iterator walks it: from the
		// highest score down.
		all := z.entries()
		slices.Reverse(all)
		return all, true, nil
	}
	// count distinct ranks drawn uniformly (a sparse Fisher-Yates: only
	// swapped positions are recorded), in random order.
	swapped := make(map[int64]int64, count)
	at := func(j int64) int64 {
		if v, ok := swapped[j]; ok {
			return v
		}
		return j
	}
	out = make([]ZEntry, 0, count)
	for j := range count {
		k := j + int64(rnd()%uint64(size-j))
		vj, vk := at(j), at(k)
		swapped[k] = vj
		out = append(out, pick(vk))
	}
	return out, true, nil
}

// ZScan is ZSCAN. A listpack sorted set is returned whole with cursor 0, as
// Redis does. A skiplist one is walked in the order of a fixed 64-bit hash
// (FNV-1a) of the members, the cursor being the hash value to resume from
// (the same on every replica): every member present for the whole
// iteration is returned exactly once. match (a glob, nil = all) filters the
// page after it was taken, like Redis.
func (s *Store) ZScan(dbi int, key []byte, now int64, cursor uint64, match []byte, count int) (next uint64, out []ZEntry, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.zsetRead(dbi, key, now)
	if z == nil || err != nil {
		return 0, nil, err
	}
	add := func(m string, sc float64) {
		if match == nil || glob.MatchString(string(match), m, false) {
			out = append(out, ZEntry{m, sc})
		}
	}
	if z.listpack {
		for x := z.zsl.first(); x != nil; x = x.level[0].forward {
			add(x.member, x.score)
		}
		return 0, out, nil
	}
	type cand struct {
		hv uint64
		n  *zslNode
	}
	var cs []cand
	for m, n := range z.dict {
		if hv := fnv64(m); hv >= cursor {
			cs = append(cs, cand{hv, n})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(a.hv, b.hv); c != 0 {
			return c
		}
		return cmp.Compare(a.n.member, b.n.member)
	})
	count = max(count, 1)
	k := min(count, len(cs))
	for k < len(cs) && cs[k].hv == cs[k-1].hv {
		k++
	}
	for _, c := range cs[:k] {
		add(c.n.member, c.n.score)
	}
	if k == len(cs) || cs[k-1].hv == math.MaxUint64 {
		return 0, out, nil
	}
	return cs[k-1].hv + 1, out, nil
}
