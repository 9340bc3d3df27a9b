package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/skiffdb/skiff/internal/op"
)

// Sorted sets (TypeZSet).
//
// A sorted set is a *zsetObj in value.obj: a map from member to its node in
// a skiplist ordered by (score, member) with rank spans (zset_skiplist.go),
// so lookups are O(1) and rank and range operations O(log n), plus the
// encoding Redis would use. Redis keeps a small sorted set in a listpack
// (at most 128 members of at most 64 bytes) and converts it to a skiplist
// for good once it grows past that; skiff keeps the skiplist for both and
// the encoding as a flag, part of the state (and of Digest), changed only
// by the replicated operations, exactly when Redis 7.0 changes it. Two
// things depend on it besides OBJECT ENCODING: ZSCAN returns a listpack
// whole, and a listpack stores a score of -0 as 0 (Redis writes listpack
// scores as text and -0 prints as "0"), which ZSCORE then shows.
//
// Apply mutates a zsetObj in place (after s.preserve); readers copy members
// (immutable strings) and scores out under the read lock.

// ErrScoreNaN is an increment (ZINCRBY, ZADD INCR) whose result is NaN
// (inf + -inf). Its text is Redis's reply: the command layer passes errors
// that start with an error code through unchanged.
var ErrScoreNaN = errors.New("ERR resulting score is not a number (NaN)")

// Redis's default conversion thresholds from listpack to skiplist
// (zset-max-listpack-entries, zset-max-listpack-value).
const (
	zsetMaxListpackEntries = 128
	zsetMaxListpackValue   = 64
)

// ZSetScanDefaultCount is ZSCAN's COUNT when none is given.
const ZSetScanDefaultCount = 10

// ZEntry is a member of a sorted set with its score.
type ZEntry struct {
	Member string
	Score  float64
}

// ZPopped is the reply value of op.ZMPop: the key popped from and the
// members popped, in pop order.
type ZPopped struct {
	Key     []byte
	Entries []ZEntry
}

// ZRangeBy selects how a range is given.
type ZRangeBy uint8

// Range kinds.
const (
	ZByRank ZRangeBy = iota
	ZByScore
	ZByLex
)

// ZRangeSpec is one ZRANGE-family range. Rank ranges index the reverse
// order when Rev is set; score and lex ranges are always min to max (the
// command layer swaps the arguments of the REV forms).
type ZRangeSpec struct {
	By          ZRangeBy
	Rev         bool
	Start, Stop int64 // ZByRank
	Score       ZScoreRange
	Lex         ZLexRange
	// LIMIT (ZByScore and ZByLex): skip Offset members (a negative offset
	// selects nothing, as in Redis), then return at most Count (< 0: all).
	Offset, Count int64
}

type zsetObj struct {
	dict     map[string]*zslNode
	zsl      *zskiplist
	listpack bool
}

func newZsetObj(listpack bool, hint int) *zsetObj {
	return &zsetObj{dict: make(map[string]*zslNode, min(hint, 1024)), zsl: newZskiplist(), listpack: listpack}
}

func zsetValue(z *zsetObj) value { return value{typ: TypeZSet, obj: z} }

func (z *zsetObj) len() int { return z.zsl.length }

// stored returns score as this encoding stores it: a listpack turns -0
// into 0.
func (z *zsetObj) stored(score float64) float64 {
	if z.listpack && score == 0 {
		return 0
	}
	return score
}

// insertNew adds member, which must not be present, converting a listpack
// that would grow past the thresholds (Redis's zsetAdd).
func (z *zsetObj) insertNew(member string, score float64) {
	if z.listpack && (z.len()+1 > zsetMaxListpackEntries || len(member) > zsetMaxListpackValue) {
		z.listpack = false
	}
	z.dict[member] = z.zsl.insert(z.stored(score), member)
}

// setScore changes n's score, in place when its position does not change.
func (z *zsetObj) setScore(n *zslNode, score float64) {
	score = z.stored(score)
	prev, next := n.backward, n.level[0].forward
	if (prev == nil || zslLess(prev.score, prev.member, score, n.member)) &&
		(next == nil || zslLess(score, n.member, next.score, next.member)) {
		n.score = score
		return
	}
	z.zsl.delete(n.score, n.member)
	z.dict[n.member] = z.zsl.insert(score, n.member)
}

func (z *zsetObj) remove(n *zslNode) {
	z.zsl.delete(n.score, n.member)
	delete(z.dict, n.member)
}

// Outcomes of add.
const (
	zaddNop = iota
	zaddSame
	zaddUpdated
	zaddAdded
)

// add is Redis's zsetAdd: it adds or updates member under ZADD's flags and
// returns the outcome and the resulting score (the computed one: a listpack
// may store -0 as 0). before is called once, before anything changes.
func (z *zsetObj) add(score float64, member []byte, flags int64, before func()) (int, float64, error) {
	n, ok := z.dict[string(member)]
	if !ok {
		if flags&op.ZAddXX != 0 {
			return zaddNop, 0, nil
		}
		before()
		z.insertNew(string(member), score)
		return zaddAdded, score, nil
	}
	if flags&op.ZAddNX != 0 {
		return zaddNop, 0, nil
	}
	cur := n.score
	if flags&op.ZAddIncr != 0 {
		score += cur
		if math.IsNaN(score) {
			return 0, 0, ErrScoreNaN
		}
	}
	if (flags&op.ZAddLT != 0 && score >= cur) || (flags&op.ZAddGT != 0 && score <= cur) {
		return zaddNop, 0, nil
	}
	if score == cur { // -0 == 0: Redis keeps the stored one
		return zaddSame, score, nil
	}
	before()
	z.setScore(n, score)
	return zaddUpdated, score, nil
}

// entries returns every member in order.
func (z *zsetObj) entries() []ZEntry {
	out := make([]ZEntry, 0, z.len())
	for x := z.zsl.first(); x != nil; x = x.level[0].forward {
		out = append(out, ZEntry{x.member, x.score})
	}
	return out
}

// zsetFromSorted builds a sorted set from entries in (score, member) order,
// in the encoding Redis gives a computed result (listpack when it fits:
// zsetConvertToListpackIfNeeded).
func zsetFromSorted(entries []ZEntry) *zsetObj {
	lp := len(entries) <= zsetMaxListpackEntries
	for i := 0; lp && i < len(entries); i++ {
		lp = len(entries[i].Member) <= zsetMaxListpackValue
	}
	z := buildZset(entries, lp)
	if lp {
		for x := z.zsl.first(); x != nil; x = x.level[0].forward {
			x.score = z.stored(x.score)
		}
	}
	return z
}

// buildZset builds a sorted set in the given encoding from entries in
// (score, member) order, keeping the scores exactly.
func buildZset(entries []ZEntry, listpack bool) *zsetObj {
	z := newZsetObj(listpack, len(entries))
	var last [zslMaxLevel]*zslNode
	for _, e := range entries {
		z.dict[e.Member] = z.zsl.appendTail(e.Score, e.Member, &last)
	}
	return z
}

func (z *zsetObj) clone() *zsetObj { return buildZset(z.entries(), z.listpack) }

func zentryCmp(a, b ZEntry) int {
	switch {
	case a.Score < b.Score:
		return -1
	case a.Score > b.Score:
		return 1
	}
	return cmp.Compare(a.Member, b.Member)
}

// interval returns the 0-based ranks [from, to) the range selects before
// LIMIT (from >= to: nothing).
func (z *zsetObj) interval(sp *ZRangeSpec) (from, to int) {
	n := int64(z.len())
	switch sp.By {
	case ZByRank:
		start, stop := sp.Start, sp.Stop
		if start < 0 {
			start += n
		}
		if stop < 0 {
			stop += n
		}
		start = max(start, 0)
		if start > stop || start >= n {
			return 0, 0
		}
		stop = min(stop, n-1)
		if sp.Rev {
			return int(n - 1 - stop), int(n - start)
		}
		return int(start), int(stop) + 1
	case ZByScore:
		r := &sp.Score
		from = z.zsl.countBefore(func(x *zslNode) bool { return r.gteMin(x.score) })
		to = z.zsl.countBefore(func(x *zslNode) bool { return !r.lteMax(x.score) })
		return from, to
	default:
		return z.lexInterval(&sp.Lex, sp.Rev)
	}
}

// lexInterval is interval for a lex range. Lex ranges assume every member
// has the same score; Redis does not check. A listpack is scanned as Redis
// scans it (from the head, or from the tail for a reverse range), so small
// sorted sets with mixed scores answer as Redis does; a skiplist is
// searched by rank (the same answer on every replica, whatever its shape).
func (z *zsetObj) lexInterval(r *ZLexRange, rev bool) (from, to int) {
	n := z.len()
	if n == 0 || r.empty() {
		return 0, 0
	}
	if !z.listpack {
		from = sort.Search(n, func(i int) bool { return r.gteMin(z.zsl.byRank(i + 1).member) })
		to = sort.Search(n, func(i int) bool { return !r.lteMax(z.zsl.byRank(i + 1).member) })
		return from, to
	}
	head, tail := z.zsl.first(), z.zsl.tail
	if !r.gteMin(tail.member) || !r.lteMax(head.member) {
		return 0, 0
	}
	if !rev {
		x, i := head, 0
		for !r.gteMin(x.member) {
			x, i = x.level[0].forward, i+1
		}
		j := i
		for x != nil && r.lteMax(x.member) {
			x, j = x.level[0].forward, j+1
		}
		return i, j
	}
	x, i := tail, n-1
	for !r.lteMax(x.member) {
		x, i = x.backward, i-1
	}
	j := i
	for x != nil && r.gteMin(x.member) {
		x, j = x.backward, j-1
	}
	return j + 1, i + 1
}

// lexLimitListpack applies a positive LIMIT offset to a listpack's lex
// interval [from, to) as Redis's genericZrangebylexCommand does: it steps
// offset members from the first (last, for Rev) member in range without
// looking at them, then takes members while they are within the far bound
// (max, or min for Rev). With mixed scores the members past the interval
// may be in range again, so this is not the interval shifted by offset.
func (z *zsetObj) lexLimitListpack(sp *ZRangeSpec, from, to int) (int, int) {
	n := int64(z.len())
	r := &sp.Lex
	room := func(taken int64) bool { return sp.Count < 0 || taken < sp.Count }
	if !sp.Rev {
		pos := int64(from) + sp.Offset
		if pos >= n {
			return 0, 0
		}
		end := pos
		for x := z.zsl.byRank(int(pos) + 1); x != nil && room(end-pos) && r.lteMax(x.member); x = x.level[0].forward {
			end++
		}
		return int(pos), int(end)
	}
	pos := int64(to) - 1 - sp.Offset // the first member in reply order
	if pos < 0 {
		return 0, 0
	}
	start := pos + 1
	for x := z.zsl.byRank(int(pos) + 1); x != nil && room(pos+1-start) && r.gteMin(x.member); x = x.backward {
		start--
	}
	return int(start), int(pos) + 1
}

// collect returns the members a range selects, LIMIT applied, in reply
// order (descending for Rev).
func (z *zsetObj) collect(sp *ZRangeSpec) []ZEntry {
	from, to := z.interval(sp)
	if from >= to {
		return nil
	}
	if sp.By == ZByLex && z.listpack && sp.Offset > 0 {
		from, to = z.lexLimitListpack(sp, from, to)
	} else if sp.By != ZByRank {
		off := sp.Offset
		if off < 0 || off >= int64(to-from) {
			return nil
		}
		if sp.Rev {
			to -= int(off)
		} else {
			from += int(off)
		}
		if sp.Count >= 0 && sp.Count < int64(to-from) {
			if sp.Rev {
				from = to - int(sp.Count)
			} else {
				to = from + int(sp.Count)
			}
		}
		if from >= to {
			return nil
		}
	}
	out := make([]ZEntry, 0, to-from)
	if sp.Rev {
		for x := z.zsl.byRank(to); len(out) < cap(out); x = x.backward {
			out = append(out, ZEntry{x.member, x.score})
		}
		return out
	}
	for x := z.zsl.byRank(from + 1); len(out) < cap(out); x = x.level[0].forward {
		out = append(out, ZEntry{x.member, x.score})
	}
	return out
}

var zsetOps = &typeOps{
	// Payload: flags(1: bit 0 = skiplist encoding) count:uvarint, then
	// count times len:uvarint member score:8 (IEEE bits, little endian), in
	// (score, member) order.
	payload: func(v value) ([]byte, error) {
		z := v.obj.(*zsetObj)
		n := 1 + binary.MaxVarintLen64
		for m := range z.dict {
			n += len(m) + binary.MaxVarintLen64 + 8
		}
		b := make([]byte, 0, n)
		if z.listpack {
			b = append(b, 0)
		} else {
			b = append(b, 1)
		}
		return appendZEntries(b, z), nil
	},
	fromPayload: func(p []byte) (value, error) {
		bad := func(why string) (value, error) {
			return value{}, fmt.Errorf("%w: zset: %s", ErrSnapshotCorrupt, why)
		}
		if len(p) < 1 || p[0] > 1 {
			return bad("flags")
		}
		lp := p[0] == 0
		p = p[1:]
		n, k := binary.Uvarint(p)
		if k <= 0 || n == 0 || n > uint64(len(p)) {
			return bad("count")
		}
		p = p[k:]
		if lp && n > zsetMaxListpackEntries {
			return bad("listpack too large")
		}
		entries := make([]ZEntry, 0, min(n, 1024))
		for range n {
			l, k := binary.Uvarint(p)
			if k <= 0 || l > uint64(len(p)-k) || len(p)-k-int(l) < 8 {
				return bad("truncated member")
			}
			e := ZEntry{Member: string(p[k : k+int(l)])}
			p = p[k+int(l):]
			e.Score = math.Float64frombits(binary.LittleEndian.Uint64(p))
			p = p[8:]
			switch {
			case math.IsNaN(e.Score):
				return bad("NaN score")
			case lp && len(e.Member) > zsetMaxListpackValue:
				return bad("long member in listpack")
			case len(entries) > 0 && zentryCmp(entries[len(entries)-1], e) >= 0:
				return bad("members out of order")
			}
			entries = append(entries, e)
		}
		if len(p) != 0 {
			return bad("trailing bytes")
		}
		return zsetValue(buildZset(entries, lp)), nil
	},
	clone: func(v value) value { return zsetValue(v.obj.(*zsetObj).clone()) },
	encoding: func(v value) string {
		if v.obj.(*zsetObj).listpack {
			return "listpack"
		}
		return "skiplist"
	},
	// Canonical: the payload (already in a canonical order).
	digest: func(buf []byte, v value) []byte {
		z := v.obj.(*zsetObj)
		if z.listpack {
			buf = append(buf, 0)
		} else {
			buf = append(buf, 1)
		}
		return appendZEntries(buf, z)
	},
}

func appendZEntries(b []byte, z *zsetObj) []byte {
	b = binary.AppendUvarint(b, uint64(z.len()))
	for x := z.zsl.first(); x != nil; x = x.level[0].forward {
		b = binary.AppendUvarint(b, uint64(len(x.member)))
		b = append(b, x.member...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x.score))
	}
	return b
}

var zsetApply = map[op.Code]applyFunc{
	op.ZAdd:        applyZAdd,
	op.ZRem:        applyZRem,
	op.ZRemRange:   applyZRemRange,
	op.ZMPop:       applyZMPop,
	op.ZRangeStore: applyZRangeStore,
	op.ZUnionStore: applyZAlgebraStore,
	op.ZInterStore: applyZAlgebraStore,
	op.ZDiffStore:  applyZAlgebraStore,
}

// zsetFor returns key's live sorted set on the write path; nil entry when
// absent.
func (s *Store) zsetFor(d *db, key []byte, now int64) (*entry, *zsetObj, error) {
	return objFor[*zsetObj](s, d, key, now, TypeZSet)
}

// zsetTouched finishes an in-place change of key's sorted set: stamps the
// entry, emits event and removes the key when it became empty.
func (s *Store) zsetTouched(dbi int, d *db, e *entry, z *zsetObj, key []byte, event string) {
	e.rev = s.rev
	s.emit(dbi, ClassZSet, event, key)
	if z.len() == 0 {
		s.deleteEntry(d, key)
		s.emit(dbi, ClassGeneric, "del", key)
	}
}

func applyZAdd(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 4 || len(o.Args)%2 != 0 {
		return nil, ErrMalformedOp
	}
	flags, err := intArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	incr := flags&op.ZAddIncr != 0
	if incr && len(o.Args) != 4 {
		return nil, ErrMalformedOp
	}
	pairs := o.Args[2:]
	scores := make([]float64, len(pairs)/2)
	for i := range scores {
		f, ok := ParseScore(pairs[2*i])
		if !ok {
			return nil, ErrMalformedOp
		}
		scores[i] = f
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, z, err := s.zsetFor(d, key, o.Time)
	if err != nil {
		return nil, err
	}
	if e == nil {
		if flags&op.ZAddXX != 0 {
			if incr {
				return nil, nil
			}
			return int64(0), nil
		}
		z = newZsetObj(true, len(scores))
	}
	preserved := e == nil
	before := func() {
		if !preserved {
			s.preserve(d, e)
			preserved = true
		}
	}
	var added, updated, processed int64
	var score float64
	for i, sc := range scores {
		res, newScore, err := z.add(sc, pairs[2*i+1], flags, before)
		if err != nil {
			return nil, err // NaN: only INCR (one pair), nothing changed
		}
		switch res {
		case zaddAdded:
			added++
		case zaddUpdated:
			updated++
		}
		if res != zaddNop {
			processed++
			score = newScore
		}
	}
	if e == nil {
		s.put(d, nil, key, zsetValue(z), 0)
	} else if added+updated > 0 {
		e.rev = s.rev
	}
	if added+updated > 0 {
		event := "zadd"
		if incr {
			event = "zincr"
		}
		s.emit(o.DB, ClassZSet, event, key)
	}
	switch {
	case incr && processed > 0:
		return score, nil
	case incr:
		return nil, nil
	case flags&op.ZAddCH != 0:
		return added + updated, nil
	}
	return added, nil
}

func applyZRem(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, z, err := s.zsetFor(d, key, o.Time)
	if e == nil || err != nil {
		return int64(0), err
	}
	var removed int64
	for _, m := range o.Args[1:] {
		n, ok := z.dict[string(m)]
		if !ok {
			continue
		}
		if removed == 0 {
			s.preserve(d, e)
		}
		z.remove(n)
		removed++
		if z.len() == 0 {
			break
		}
	}
	if removed > 0 {
		s.zsetTouched(o.DB, d, e, z, key, "zrem")
	}
	return removed, nil
}

// zrangeSpecArgs parses an op's range: by ("0" rank, "1" score, "2" lex),
// min and max.
func zrangeSpecArgs(by, min, max []byte) (ZRangeSpec, error) {
	sp := ZRangeSpec{Count: -1}
	var ok bool
	switch string(by) {
	case "0":
		var err1, err2 error
		sp.Start, err1 = op.Int(min)
		sp.Stop, err2 = op.Int(max)
		ok = err1 == nil && err2 == nil
	case "1":
		sp.By = ZByScore
		sp.Score, ok = ParseScoreRange(min, max)
	case "2":
		sp.By = ZByLex
		sp.Lex, ok = ParseLexRange(min, max)
	}
	if !ok {
		return sp, ErrMalformedOp
	}
	return sp, nil
}

var zremRangeEvents = [...]string{ZByRank: "zremrangebyrank", ZByScore: "zremrangebyscore", ZByLex: "zremrangebylex"}

func applyZRemRange(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 4); err != nil {
		return nil, err
	}
	sp, err := zrangeSpecArgs(o.Args[1], o.Args[2], o.Args[3])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, z, err := s.zsetFor(d, key, o.Time)
	if e == nil || err != nil {
		return int64(0), err
	}
	from, to := z.interval(&sp)
	if from >= to {
		return int64(0), nil
	}
	s.preserve(d, e)
	n := z.zsl.deleteRange(from+1, to, func(x *zslNode) { delete(z.dict, x.member) })
	s.zsetTouched(o.DB, d, e, z, key, zremRangeEvents[sp.By])
	return int64(n), nil
}

func applyZMPop(s *Store, o *op.Op) (any, error) {
	maxEnd, count, keys, err := mpopArgs(o)
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	for _, key := range keys {
		e, z, err := s.zsetFor(d, key, o.Time)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		s.preserve(d, e)
		out := ZPopped{Key: key, Entries: make([]ZEntry, 0, min(int64(z.len()), count))}
		for int64(len(out.Entries)) < count && z.len() > 0 {
			x := z.zsl.first()
			if maxEnd {
				x = z.zsl.tail
			}
			out.Entries = append(out.Entries, ZEntry{x.member, x.score})
			z.remove(x)
		}
		event := "zpopmin"
		if maxEnd {
			event = "zpopmax"
		}
		s.zsetTouched(o.DB, d, e, z, key, event)
		return out, nil
	}
	return nil, nil
}

func applyZRangeStore(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 8); err != nil {
		return nil, err
	}
	sp, err := zrangeSpecArgs(o.Args[2], o.Args[4], o.Args[5])
	if err != nil {
		return nil, err
	}
	switch string(o.Args[3]) {
	case "0":
	case "1":
		sp.Rev = true
	default:
		return nil, ErrMalformedOp
	}
	off, err1 := op.Int(o.Args[6])
	cnt, err2 := op.Int(o.Args[7])
	if err1 != nil || err2 != nil {
		return nil, ErrMalformedOp
	}
	sp.Offset, sp.Count = off, cnt
	d := s.dbs[o.DB]
	_, z, err := s.zsetFor(d, o.Args[1], o.Time)
	if err != nil {
		return nil, err
	}
	var res []ZEntry
	if z != nil {
		res = z.collect(&sp)
		if sp.Rev {
			slices.Reverse(res)
		}
	}
	return s.zstore(o.DB, d, o.Args[0], res, "zrangestore", o.Time), nil
}

// zstore stores entries (in order) in dst, replacing whatever it held, or
// deletes dst when there are none. Reply: the size.
func (s *Store) zstore(dbi int, d *db, dst []byte, entries []ZEntry, event string, now int64) int64 {
	de := s.lookupWrite(d, dst, now)
	if len(entries) == 0 {
		if de != nil {
			s.deleteEntry(d, dst)
			s.emit(dbi, ClassGeneric, "del", dst)
		}
		return 0
	}
	s.put(d, de, dst, zsetValue(zsetFromSorted(entries)), 0)
	s.emit(dbi, ClassZSet, event, dst)
	return int64(len(entries))
}
