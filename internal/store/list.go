package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/skiffdb/skiff/internal/op"
)

// Lists (TypeList). A list value's obj is a *list: a ring buffer of
// elements. Elements are never modified once stored (they are the op's
// argument slices); apply mutates only the container, so a reader copies the
// element slice headers out under the read lock and may use them after.

// ErrIndexOutOfRange is LSET's error for an index outside the list (the
// command layer's error table maps it to Redis's reply).
var ErrIndexOutOfRange = errors.New("store: index out of range")

var listApply = map[op.Code]applyFunc{
	op.ListPush:   applyListPush,
	op.ListPop:    applyListPop,
	op.ListSet:    applyListSet,
	op.ListInsert: applyListInsert,
	op.ListRem:    applyListRem,
	op.ListTrim:   applyListTrim,
	op.ListMove:   applyListMove,
	op.ListMPop:   applyListMPop,
}

// list is a deque: a ring buffer whose capacity is zero or a power of two.
type list struct {
	buf  [][]byte
	head int // index in buf of element 0
	n    int
}

func (l *list) Len() int { return l.n }

func (l *list) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// At returns element i (0 <= i < Len()).
func (l *list) At(i int) []byte { return l.buf[l.slot(i)] }

func (l *list) set(i int, v []byte) { l.buf[l.slot(i)] = v }

func (l *list) resize(c int) {
	nb := make([][]byte, c)
	for i := 0; i < l.n; i++ {
		nb[i] = l.At(i)
	}
	l.buf, l.head = nb, 0
}

func (l *list) grow() {
	if l.n == len(l.buf) {
		l.resize(max(4, 2*len(l.buf)))
	}
}

func (l *list) shrink() {
	if len(l.buf) > 16 && l.n < len(l.buf)/4 {
		l.resize(len(l.buf) / 2)
	}
}

// PushFront inserts v before element 0.
func (l *list) PushFront(v []byte) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = v
	l.n++
}

// PushBack appends v.
func (l *list) PushBack(v []byte) {
	l.grow()
	l.buf[l.slot(l.n)] = v
	l.n++
}

// PopFront removes and returns element 0 (the list must not be empty).
func (l *list) PopFront() []byte {
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.shrink()
	return v
}

// PopBack removes and returns the last element (the list must not be empty).
func (l *list) PopBack() []byte {
	i := l.slot(l.n - 1)
	v := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.shrink()
	return v
}

func (l *list) push(right bool, v []byte) {
	if right {
		l.PushBack(v)
	} else {
		l.PushFront(v)
	}
}

func (l *list) pop(right bool) []byte {
	if right {
		return l.PopBack()
	}
	return l.PopFront()
}

// Elems returns the elements in order, in a new slice.
func (l *list) Elems() [][]byte { return l.appendRange(nil, 0, l.n) }

func (l *list) appendRange(dst [][]byte, from, to int) [][]byte {
	for i := from; i < to; i++ {
		dst = append(dst, l.At(i))
	}
	return dst
}

// replace makes elems (owned by the list from now on) the content.
func (l *list) replace(elems [][]byte) {
	c := 4
	for c < len(elems) {
		c *= 2
	}
	nb := make([][]byte, c)
	copy(nb, elems)
	l.buf, l.head, l.n = nb, 0, len(elems)
}

func newList(elems [][]byte) *list {
	l := &list{}
	l.replace(elems)
	return l
}

var listOps = &typeOps{
	payload: func(v value) ([]byte, error) {
		l := v.obj.(*list)
		n := binary.MaxVarintLen64
		for i := 0; i < l.n; i++ {
			n += len(l.At(i)) + 5
		}
		buf := binary.AppendUvarint(make([]byte, 0, n), uint64(l.n))
		for i := 0; i < l.n; i++ {
			e := l.At(i)
			buf = binary.AppendUvarint(buf, uint64(len(e)))
			buf = append(buf, e...)
		}
		return buf, nil
	},
	fromPayload: func(p []byte) (value, error) {
		cnt, k := binary.Uvarint(p)
		if k <= 0 || cnt == 0 || cnt > uint64(len(p)) {
			return value{}, fmt.Errorf("%w: bad list length", ErrSnapshotCorrupt)
		}
		p = p[k:]
		elems := make([][]byte, 0, cnt)
		for range cnt {
			ln, k := binary.Uvarint(p)
			if k <= 0 || ln > uint64(len(p)-k) {
				return value{}, fmt.Errorf("%w: truncated list element", ErrSnapshotCorrupt)
			}
			p = p[k:]
			elems = append(elems, p[:ln:ln])
			p = p[ln:]
		}
		if len(p) != 0 {
			return value{}, fmt.Errorf("%w: bytes after list elements", ErrSnapshotCorrupt)
		}
		return value{typ: TypeList, obj: newList(elems)}, nil
	},
	// Elements are immutable: copying the container is a deep enough copy.
	clone: func(v value) value {
		v.obj = newList(v.obj.(*list).Elems())
		return v
	},
	encoding: func(v value) string {
		l := v.obj.(*list)
		if l.n > listMaxListpackEntries {
			return "quicklist"
		}
		for i := 0; i < l.n; i++ {
			if len(l.At(i)) > listMaxListpackValue {
				return "quicklist"
			}
		}
		return "listpack"
	},
	digest: func(buf []byte, v value) []byte {
		l := v.obj.(*list)
		buf = binary.AppendUvarint(buf, uint64(l.n))
		for i := 0; i < l.n; i++ {
			e := l.At(i)
			buf = binary.AppendUvarint(buf, uint64(len(e)))
			buf = append(buf, e...)
		}
		return buf
	},
}

// OBJECT ENCODING thresholds (Redis's list-max-listpack entries and value size).
const (
	listMaxListpackEntries = 128
	listMaxListpackValue   = 64
)

func listValue(l *list) value { return value{typ: TypeList, obj: l} }

// listFor returns key's live list; nil entry when absent.
func (s *Store) listFor(d *db, key []byte, now int64) (*entry, *list, error) {
	return objFor[*list](s, d, key, now, TypeList)
}

// touched stamps an in-place change (after preserve), emits event, and
// removes the key when the list became empty (emitting "del" after it, as
// Redis does).
func (s *Store) touched(dbi int, d *db, e *entry, l *list, key []byte, event string) {
	e.rev = s.rev
	s.emit(dbi, ClassList, event, key)
	if l.n == 0 {
		s.deleteEntry(d, key)
		s.emit(dbi, ClassGeneric, "del", key)
	}
}

// pushEvent and popEvent name a push or pop at one end.
func pushEvent(right bool) string {
	if right {
		return "rpush"
	}
	return "lpush"
}

func popEvent(right bool) string {
	if right {
		return "rpop"
	}
	return "lpop"
}

// endArg parses an end: "0" left, "1" right.
func endArg(b []byte) (right bool, err error) {
	switch string(b) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, ErrMalformedOp
}

func applyListPush(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 4 {
		return nil, ErrMalformedOp
	}
	right, err := endArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	xx, err := endArg(o.Args[2])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	key, elems := o.Args[0], o.Args[3:]
	e, l, err := s.listFor(d, key, o.Time)
	if err != nil {
		return nil, err
	}
	if e == nil {
		if xx {
			return int64(0), nil
		}
		l = &list{}
		for _, v := range elems {
			l.push(right, v)
		}
		s.put(d, nil, key, listValue(l), 0)
		s.emit(o.DB, ClassList, pushEvent(right), key)
		return int64(l.n), nil
	}
	s.preserve(d, e)
	for _, v := range elems {
		l.push(right, v)
	}
	e.rev = s.rev
	s.emit(o.DB, ClassList, pushEvent(right), key)
	return int64(l.n), nil
}

func applyListPop(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	right, err := endArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	count, err := intArg(o.Args[2])
	if err != nil || count < -1 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, l, err := s.listFor(d, key, o.Time)
	if e == nil || err != nil {
		return nil, err
	}
	if count == 0 {
		return [][]byte{}, nil
	}
	s.preserve(d, e)
	if count == -1 {
		v := l.pop(right)
		s.touched(o.DB, d, e, l, key, popEvent(right))
		return v, nil
	}
	out := make([][]byte, 0, min(int64(l.n), count))
	for int64(len(out)) < count && l.n > 0 {
		out = append(out, l.pop(right))
	}
	s.touched(o.DB, d, e, l, key, popEvent(right))
	return out, nil
}

// listIndex normalizes a possibly negative index; ok is false when out of range.
func listIndex(idx int64, n int) (int, bool) {
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		return 0, false
	}
	return int(idx), true
}

func applyListSet(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, l, err := s.listFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrNoSuchKey
	}
	// The index is the client's argument, checked here: Redis reports a
	// missing key or a wrong type before a bad index.
	idx, err := ParseStrictInt(o.Args[1])
	if err != nil {
		return nil, ErrNotInteger
	}
	i, ok := listIndex(idx, l.n)
	if !ok {
		return nil, ErrIndexOutOfRange
	}
	s.preserve(d, e)
	l.set(i, o.Args[2])
	e.rev = s.rev
	s.emit(o.DB, ClassList, "lset", o.Args[0])
	return nil, nil
}

func applyListInsert(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 4); err != nil {
		return nil, err
	}
	before, err := endArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, l, err := s.listFor(d, o.Args[0], o.Time)
	if e == nil || err != nil {
		return int64(0), err
	}
	pivot := o.Args[2]
	at := -1
	for i := 0; i < l.n; i++ {
		if bytes.Equal(l.At(i), pivot) {
			at = i
			break
		}
	}
	if at < 0 {
		return int64(-1), nil
	}
	if !before {
		at++
	}
	s.preserve(d, e)
	switch {
	case at == 0:
		l.PushFront(o.Args[3])
	case at == l.n:
		l.PushBack(o.Args[3])
	default:
		elems := make([][]byte, 0, l.n+1)
		elems = l.appendRange(elems, 0, at)
		elems = append(elems, o.Args[3])
		elems = l.appendRange(elems, at, l.n)
		l.replace(elems)
	}
	e.rev = s.rev
	s.emit(o.DB, ClassList, "linsert", o.Args[0])
	return int64(l.n), nil
}

func applyListRem(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	count, err := intArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	key, elem := o.Args[0], o.Args[2]
	e, l, err := s.listFor(d, key, o.Time)
	if e == nil || err != nil {
		return int64(0), err
	}
	remove := make([]bool, l.n)
	var removed int64
	if count >= 0 {
		for i := 0; i < l.n && (count == 0 || removed < count); i++ {
			if bytes.Equal(l.At(i), elem) {
				remove[i] = true
				removed++
			}
		}
	} else {
		limit := -count // MinInt64 stays negative: no limit, as in Redis
		for i := l.n - 1; i >= 0 && (limit < 0 || removed < limit); i-- {
			if bytes.Equal(l.At(i), elem) {
				remove[i] = true
				removed++
			}
		}
	}
	if removed == 0 {
		return int64(0), nil
	}
	s.preserve(d, e)
	keep := make([][]byte, 0, l.n-int(removed))
	for i := 0; i < l.n; i++ {
		if !remove[i] {
			keep = append(keep, l.At(i))
		}
	}
	l.replace(keep)
	s.touched(o.DB, d, e, l, key, "lrem")
	return removed, nil
}

// listRange normalizes LRANGE/LTRIM's start and stop; the range [from, to)
// is empty when from >= to.
func listRange(start, stop int64, n int) (from, to int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0
	}
	stop = min(stop, ln-1)
	return int(start), int(stop) + 1
}

func applyListTrim(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	start, err1 := intArg(o.Args[1])
	stop, err2 := intArg(o.Args[2])
	if err1 != nil || err2 != nil {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e, l, err := s.listFor(d, key, o.Time)
	if e == nil || err != nil {
		return nil, err
	}
	from, to := listRange(start, stop, l.n)
	// Redis signals the key as modified even when nothing is trimmed.
	s.preserve(d, e)
	if from >= to {
		l.replace(nil)
	} else {
		for l.n > to {
			l.PopBack()
		}
		for range from {
			l.PopFront()
		}
	}
	s.touched(o.DB, d, e, l, key, "ltrim")
	return nil, nil
}

func applyListMove(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 4); err != nil {
		return nil, err
	}
	fromRight, err1 := endArg(o.Args[2])
	toRight, err2 := endArg(o.Args[3])
	if err1 != nil || err2 != nil {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	src, dst := o.Args[0], o.Args[1]
	se, sl, err := s.listFor(d, src, o.Time)
	if se == nil || err != nil {
		return nil, err
	}
	de, dl, err := s.listFor(d, dst, o.Time)
	if err != nil {
		return nil, err
	}
	// Redis's order: the push on dst ("new" first when created), then the
	// pop on src, then "del" when src became empty.
	s.preserve(d, se)
	v := sl.pop(fromRight)
	if de == se {
		sl.push(toRight, v)
		se.rev = s.rev
		s.emit(o.DB, ClassList, pushEvent(toRight), dst)
		s.emit(o.DB, ClassList, popEvent(fromRight), src)
		return v, nil
	}
	if de == nil {
		l := &list{}
		l.push(toRight, v)
		s.put(d, nil, dst, listValue(l), 0)
	} else {
		s.preserve(d, de)
		dl.push(toRight, v)
		de.rev = s.rev
	}
	s.emit(o.DB, ClassList, pushEvent(toRight), dst)
	s.touched(o.DB, d, se, sl, src, popEvent(fromRight))
	return v, nil
}

func applyListMPop(s *Store, o *op.Op) (any, error) {
	right, count, keys, err := mpopArgs(o)
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	for _, key := range keys {
		e, l, err := s.listFor(d, key, o.Time)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		s.preserve(d, e)
		out := make([][]byte, 1, 1+min(int64(l.n), count))
		out[0] = key
		for int64(len(out)-1) < count && l.n > 0 {
			out = append(out, l.pop(right))
		}
		s.touched(o.DB, d, e, l, key, popEvent(right))
		return out, nil
	}
	return nil, nil
}

// --- reads ---

// readList returns key's live list under the read lock (held by the caller).
func (s *Store) readList(dbi int, key []byte, now int64) (*list, error) {
	return objRead[*list](s, dbi, key, now, TypeList)
}

// ListLen returns LLEN of key (0 when absent).
func (s *Store) ListLen(dbi int, key []byte, now int64) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, err := s.readList(dbi, key, now)
	if l == nil {
		return 0, err
	}
	return int64(l.n), nil
}

// ListRange returns LRANGE key start stop (empty when absent).
func (s *Store) ListRange(dbi int, key []byte, start, stop int64, now int64) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, err := s.readList(dbi, key, now)
	if l == nil {
		return nil, err
	}
	from, to := listRange(start, stop, l.n)
	if from >= to {
		return nil, nil
	}
	return l.appendRange(make([][]byte, 0, to-from), from, to), nil
}

// ListIndex returns LINDEX key index; ok is false when absent or out of range.
func (s *Store) ListIndex(dbi int, key []byte, index int64, now int64) (v []byte, ok bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, err := s.readList(dbi, key, now)
	if l == nil {
		return nil, false, err
	}
	i, ok := listIndex(index, l.n)
	if !ok {
		return nil, false, nil
	}
	return l.At(i), true, nil
}

// ListPos returns the positions LPOS reports: matches of elem starting
// with the rank-th one (negative rank: from the tail), at most count of them
// (0 = all), scanning at most maxLen elements (0 = all).
func (s *Store) ListPos(dbi int, key, elem []byte, rank, count, maxLen int64, now int64) ([]int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, err := s.readList(dbi, key, now)
	if l == nil {
		return nil, err
	}
	fromTail := rank < 0
	if fromTail {
		rank = -rank // MinInt64 stays negative: every match qualifies, as in Redis
	}
	var out []int64
	var matches int64
	for step := 0; step < l.n && (maxLen == 0 || int64(step) < maxLen); step++ {
		i := step
		if fromTail {
			i = l.n - 1 - step
		}
		if !bytes.Equal(l.At(i), elem) {
			continue
		}
		matches++
		if matches >= rank {
			out = append(out, int64(i))
			if count != 1 && (count == 0 || int64(len(out)) < count) {
				continue
			}
			break
		}
	}
	return out, nil
}

// mpopArgs parses the arguments LMPOP and ZMPOP share: an end (left/min or
// right/max), a count > 0 and at least one key.
func mpopArgs(o *op.Op) (end bool, count int64, keys [][]byte, err error) {
	if len(o.Args) < 3 {
		return false, 0, nil, ErrMalformedOp
	}
	if end, err = endArg(o.Args[0]); err != nil {
		return false, 0, nil, err
	}
	count, err = intArg(o.Args[1])
	if err != nil || count <= 0 {
		return false, 0, nil, ErrMalformedOp
	}
	return end, count, o.Args[2:], nil
}
