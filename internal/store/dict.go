package store

import (
	"hash/maphash"
	"math/bits"
)

// dict is the keyspace hash table of one database: chained buckets in a
// power-of-two table, grown and shrunk by incremental rehashing (one bucket
// moved per mutation), so no single write pays for moving the whole table.
// It exists instead of a Go map because SCAN needs a cursor that survives
// resizes (the reverse-binary cursor) and RANDOMKEY needs O(1) sampling.
//
// Only the apply goroutine mutates a dict (under Store.mu write lock); readers
// call find/scan/random under the read lock, and those never mutate.
type dict struct {
	seed      maphash.Seed
	t         [2]table
	rehashIdx int // index of the next t[0] bucket to move; -1 when not rehashing
	count     int
}

type table struct {
	buckets []*entry
	used    int
}

func (t *table) mask() uint64 { return uint64(len(t.buckets) - 1) }

const dictMinSize = 4

func newDict(seed maphash.Seed) *dict {
	d := &dict{seed: seed, rehashIdx: -1}
	d.t[0].buckets = make([]*entry, dictMinSize)
	return d
}

func (d *dict) hash(key []byte) uint64    { return maphash.Bytes(d.seed, key) }
func (d *dict) hashStr(key string) uint64 { return maphash.String(d.seed, key) }
func (d *dict) rehashing() bool           { return d.rehashIdx >= 0 }
func (d *dict) len() int                  { return d.count }
func bucketOf(t *table, h uint64) **entry { return &t.buckets[h&t.mask()] }
func (d *dict) tables() int {
	if d.rehashing() {
		return 2
	}
	return 1
}

// find returns the entry for key, or nil. It never mutates.
func (d *dict) find(key []byte) *entry {
	if d.count == 0 {
		return nil
	}
	h := d.hash(key)
	for i := 0; i < d.tables(); i++ {
		t := &d.t[i]
		for e := *bucketOf(t, h); e != nil; e = e.next {
			if e.hash == h && e.key == string(key) {
				return e
			}
		}
	}
	return nil
}

// insert adds e, whose key must not be present. e.hash is set here.
func (d *dict) insert(e *entry) {
	d.step()
	d.maybeGrow()
	e.hash = d.hashStr(e.key)
	t := &d.t[0]
	if d.rehashing() {
		t = &d.t[1]
	}
	b := bucketOf(t, e.hash)
	e.next = *b
	*b = e
	t.used++
	d.count++
}

// remove unlinks and returns the entry for key, or nil.
func (d *dict) remove(key []byte) *entry {
	if d.count == 0 {
		return nil
	}
	d.step()
	h := d.hash(key)
	for i := 0; i < d.tables(); i++ {
		t := &d.t[i]
		for p := bucketOf(t, h); *p != nil; p = &(*p).next {
			e := *p
			if e.hash == h && e.key == string(key) {
				*p = e.next
				e.next = nil
				t.used--
				d.count--
				d.maybeShrink()
				return e
			}
		}
	}
	return nil
}

func (d *dict) maybeGrow() {
	if d.rehashing() || d.t[0].used < len(d.t[0].buckets) {
		return
	}
	d.resize(len(d.t[0].buckets) * 2)
}

func (d *dict) maybeShrink() {
	if d.rehashing() || len(d.t[0].buckets) <= dictMinSize || d.t[0].used*8 >= len(d.t[0].buckets) {
		return
	}
	size := dictMinSize
	for size < d.t[0].used {
		size *= 2
	}
	d.resize(size)
}

func (d *dict) resize(size int) {
	d.t[1] = table{buckets: make([]*entry, size)}
	d.rehashIdx = 0
}

// step moves one non-empty bucket (visiting at most 10 empty ones) from the
// old table to the new one.
func (d *dict) step() {
	if !d.rehashing() {
		return
	}
	old, nw := &d.t[0], &d.t[1]
	for empty := 0; d.rehashIdx < len(old.buckets) && old.buckets[d.rehashIdx] == nil; empty++ {
		if empty == 10 {
			return
		}
		d.rehashIdx++
	}
	if d.rehashIdx < len(old.buckets) {
		for e := old.buckets[d.rehashIdx]; e != nil; {
			next := e.next
			b := bucketOf(nw, e.hash)
			e.next = *b
			*b = e
			old.used--
			nw.used++
			e = next
		}
		old.buckets[d.rehashIdx] = nil
		d.rehashIdx++
	}
	if d.rehashIdx >= len(old.buckets) {
		d.t[0] = d.t[1]
		d.t[1] = table{}
		d.rehashIdx = -1
	}
}

// scan calls fn for every entry of the bucket(s) the cursor names and returns
// the next cursor (0 when the iteration is complete). This is Redis's
// reverse-binary cursor: every entry present for the whole iteration is
// returned at least once even if the table is resized between calls.
func (d *dict) scan(v uint64, fn func(*entry)) uint64 {
	if d.count == 0 {
		return 0
	}
	emit := func(t *table, idx uint64) {
		for e := t.buckets[idx]; e != nil; e = e.next {
			fn(e)
		}
	}
	if !d.rehashing() {
		t := &d.t[0]
		m := t.mask()
		emit(t, v&m)
		v |= ^m
		return bits.Reverse64(bits.Reverse64(v) + 1)
	}
	small, large := &d.t[0], &d.t[1]
	if len(small.buckets) > len(large.buckets) {
		small, large = large, small
	}
	m0, m1 := small.mask(), large.mask()
	// Buckets of t[0] below rehashIdx are empty (moved); emitting them is harmless.
	emit(small, v&m0)
	for {
		emit(large, v&m1)
		v |= ^m1
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}

// random returns a uniformly chosen bucket's random entry, or nil when empty.
// rnd returns a pseudo-random number; the read path supplies it (apply never
// calls random).
func (d *dict) random(rnd func() uint64) *entry {
	if d.count == 0 {
		return nil
	}
	for tries := 0; tries < 1000; tries++ {
		var b *entry
		if d.rehashing() {
			n0, n1 := len(d.t[0].buckets), len(d.t[1].buckets)
			i := d.rehashIdx + int(rnd()%uint64(n0+n1-d.rehashIdx))
			if i < n0 {
				b = d.t[0].buckets[i]
			} else {
				b = d.t[1].buckets[i-n0]
			}
		} else {
			b = d.t[0].buckets[rnd()&d.t[0].mask()]
		}
		if b != nil {
			n := 0
			for e := b; e != nil; e = e.next {
				n++
			}
			k := int(rnd() % uint64(n))
			for e := b; e != nil; e = e.next {
				if k == 0 {
					return e
				}
				k--
			}
		}
	}
	// Very sparse table: take the first entry from a random starting point.
	var found *entry
	v := rnd()
	for found == nil {
		v = d.scan(v, func(e *entry) {
			if found == nil {
				found = e
			}
		})
	}
	return found
}

// each calls fn for every entry, in table order. fn must not mutate d.
func (d *dict) each(fn func(*entry) bool) {
	for i := 0; i < d.tables(); i++ {
		for _, b := range d.t[i].buckets {
			for e := b; e != nil; e = e.next {
				if !fn(e) {
					return
				}
			}
		}
	}
}
