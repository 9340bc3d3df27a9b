package store

import (
	"unsafe"
)

// Memory introspection (MEMORY USAGE, MEMORY STATS, DEBUG OBJECT). The
// numbers estimate what the Go heap holds for a key: the entry, its key and
// value bytes, and the structures around them (slices, maps, skiplist
// nodes), rounded as the allocator rounds small objects. Go maps are costed
// at an average load; a string value sharing a larger buffer (an applied log
// entry) is counted at its own length. They are estimates, as Redis's are,
// and only comparable with each other.

// DefaultMemorySamples is how many elements of a collection MEMORY USAGE
// looks at when no SAMPLES is given (Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES).
const DefaultMemorySamples = 5

// Sizes of the structures a key is made of.
const (
	usagePtrSize      = int64(unsafe.Sizeof(uintptr(0)))
	usageSliceSize    = int64(unsafe.Sizeof([]byte(nil)))
	usageStringSize   = int64(unsafe.Sizeof(""))
	usageEntrySize    = int64(unsafe.Sizeof(entry{}))
	usageListSize     = int64(unsafe.Sizeof(list{}))
	usageHashSize     = int64(unsafe.Sizeof(hashObj{}))
	usageHashItemSize = int64(unsafe.Sizeof(orderedItem[[]byte]{}))
	usageSetSize      = int64(unsafe.Sizeof(setObj{}))
	usageSetItemSize  = int64(unsafe.Sizeof(orderedItem[struct{}]{}))
	usageZsetSize     = int64(unsafe.Sizeof(zsetObj{})) + int64(unsafe.Sizeof(zskiplist{}))
	usageZslNodeSize  = int64(unsafe.Sizeof(zslNode{}))
	usageZslLevelSize = int64(unsafe.Sizeof(zslLevel{}))
	usageIntSize      = int64(unsafe.Sizeof(0))
	usageDictSize     = int64(unsafe.Sizeof(dict{}))
	usageMapCtrl      = 1 // a Go map's control byte per slot
)

// usageAlloc rounds n up as the allocator's size classes do (roughly: to 8
// bytes below 128, to 16 below 1 KiB, to 128 above).
func usageAlloc(n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 128:
		return (n + 7) &^ 7
	case n <= 1024:
		return (n + 15) &^ 15
	}
	return (n + 127) &^ 127
}

// usageMapBytes estimates a Go map of n entries whose key and value take slot
// bytes: slots at an average load of 5/8, plus a control byte each.
func usageMapBytes(n int, slot int64) int64 {
	if n == 0 {
		return 0
	}
	return int64(n) * (slot + usageMapCtrl) * 8 / 5
}

// MemoryUsage estimates the bytes key and its value hold, sampling up to
// DefaultMemorySamples elements of a collection; false when key is absent
// or expired. It does not count as an access of the key. Safe for
// concurrent use (read lock).
func (s *Store) MemoryUsage(db int, key []byte, now int64) (int64, bool) {
	return s.MemoryUsageSamples(db, key, now, DefaultMemorySamples)
}

// MemoryUsageSamples is MemoryUsage looking at up to samples elements of a
// collection and extrapolating to all of them (samples <= 0: every
// element, exact but O(n) under the read lock).
func (s *Store) MemoryUsageSamples(db int, key []byte, now int64, samples int) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.peekLive(db, key, now)
	if e == nil {
		return 0, false
	}
	return usageEntryBytes(e, samples), true
}

// peekLive finds a live entry without touching its access time.
func (s *Store) peekLive(dbi int, key []byte, now int64) *entry {
	if dbi < 0 || dbi >= len(s.dbs) {
		return nil
	}
	e := s.dbs[dbi].dict.find(key)
	if e == nil || (e.expireAt != 0 && e.expireAt <= now) {
		return nil
	}
	return e
}

// usageEntryBytes estimates e's key, value and its slot in the keyspace.
func usageEntryBytes(e *entry, samples int) int64 {
	n := usageAlloc(usageEntrySize) + usagePtrSize // the entry and its share of the bucket array
	if len(e.key) > inlineKey {
		n += usageAlloc(int64(len(e.key)))
	}
	if e.expireAt != 0 {
		n += usagePtrSize // its place in the expiry heap
	}
	return n + usageValueBytes(e.value, samples)
}

// usageExtrapolate scales sum, measured over k of count elements, to all of them
// (as Redis's objectComputeSize does with its samples).
func usageExtrapolate(sum int64, k, count int) int64 {
	if k == 0 || k == count {
		return sum
	}
	return sum * int64(count) / int64(k)
}

// usageValueBytes estimates a value's bytes, looking at up to samples elements
// of a collection (all when samples <= 0).
func usageValueBytes(v value, samples int) int64 {
	switch v.typ {
	case TypeString:
		return usageAlloc(int64(len(v.str)))
	case TypeList:
		l := v.obj.(*list)
		k := usageSampleCount(l.n, samples)
		var sum int64
		for i := 0; i < k; i++ {
			sum += usageAlloc(int64(len(l.At(i))))
		}
		return usageAlloc(usageListSize) + usageAlloc(int64(len(l.buf))*usageSliceSize) + usageExtrapolate(sum, k, l.n)
	case TypeHash:
		h := v.obj.(*hashObj)
		var sum int64
		live := usageLiveItems(h.items, h.len(), samples)
		for _, i := range live {
			sum += usageAlloc(int64(len(h.items[i].name))) + usageAlloc(int64(len(h.items[i].val)))
		}
		return usageAlloc(usageHashSize) + usageMapBytes(h.len(), usageStringSize+usageIntSize) +
			usageAlloc(int64(cap(h.items))*usageHashItemSize) + usageExtrapolate(sum, len(live), h.len())
	case TypeSet:
		t := v.obj.(*setObj)
		var sum int64
		live := usageLiveItems(t.items, t.len(), samples)
		for _, i := range live {
			sum += usageAlloc(int64(len(t.items[i].name)))
		}
		return usageAlloc(usageSetSize) + usageMapBytes(t.len(), usageStringSize+usageIntSize) +
			usageAlloc(int64(cap(t.items))*usageSetItemSize) + usageExtrapolate(sum, len(live), t.len())
	case TypeZSet:
		z := v.obj.(*zsetObj)
		k := usageSampleCount(z.len(), samples)
		var sum int64
		x := z.zsl.header.level[0].forward
		for i := 0; i < k && x != nil; i, x = i+1, x.level[0].forward {
			sum += usageAlloc(usageZslNodeSize) + usageAlloc(int64(cap(x.level))*usageZslLevelSize) + usageAlloc(int64(len(x.member)))
		}
		return usageAlloc(usageZsetSize) + usageMapBytes(z.len(), usageStringSize+usagePtrSize) + usageExtrapolate(sum, k, z.len())
	}
	return 0
}

// usageSampleCount is how many of count elements to look at.
func usageSampleCount(count, samples int) int {
	if samples > 0 && samples < count {
		return samples
	}
	return count
}

// usageLiveItems returns the positions of up to samples live items (all when
// samples <= 0) of an ordIndex's items, which hold live entries.
func usageLiveItems[V any](items []orderedItem[V], live, samples int) []int {
	want := usageSampleCount(live, samples)
	out := make([]int, 0, want)
	for i := range items {
		if len(out) == want {
			break
		}
		if !items[i].dead {
			out = append(out, i)
		}
	}
	return out
}

// KeyDebug is what DEBUG OBJECT reports about a key.
type KeyDebug struct {
	Addr       uintptr // the entry's address (Redis prints the object's)
	Type       Type
	Encoding   string
	Serialized int64 // bytes of the key's value in a snapshot record
	IdleMs     int64 // since the last access
	AccessMs   int64 // the last access, unix ms
	Len        int64 // elements (1 for a string)
	ElemBytes  int64 // the bytes of its elements (a string: its length)
}

// DebugObject describes key for DEBUG OBJECT; false when it is absent or
// expired. It encodes the value as a snapshot does (O(n)) and does not
// count as an access. Safe for concurrent use (read lock).
func (s *Store) DebugObject(db int, key []byte, now int64) (KeyDebug, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.peekLive(db, key, now)
	if e == nil {
		return KeyDebug{}, false
	}
	d := KeyDebug{Addr: uintptr(unsafe.Pointer(e)), Type: e.typ, Encoding: encodingOf(e), AccessMs: e.atime.Load()}
	d.IdleMs = max(now-d.AccessMs, 0)
	if ops := opsFor(e.typ); ops != nil {
		if p, err := ops.payload(e.value); err == nil {
			d.Serialized = int64(len(p))
		}
	}
	switch e.typ {
	case TypeString:
		d.Len, d.ElemBytes = 1, int64(len(e.str))
	case TypeList:
		l := e.obj.(*list)
		d.Len = int64(l.n)
		for i := 0; i < l.n; i++ {
			d.ElemBytes += int64(len(l.At(i)))
		}
	case TypeHash:
		d.Len = int64(e.obj.(*hashObj).len())
	case TypeSet:
		d.Len = int64(e.obj.(*setObj).len())
	case TypeZSet:
		d.Len = int64(e.obj.(*zsetObj).len())
	}
	return d, true
}

// DBMemory is one database's share of MEMORY STATS.
type DBMemory struct {
	DB                int
	Keys, Expires     int64
	MainOverhead      int64 // the keyspace hash table (buckets and dict)
	ExpiresOverhead   int64 // the expiry heap
	OverheadPerEntry  int64 // an entry's own bytes (MEMORY STATS counts it as overhead)
	EstimatedKeyBytes int64 // a sampled estimate of all keys and values (MEMORY USAGE summed)
}

// MemoryStats returns the per-database numbers of MEMORY STATS for the
// databases holding keys. The key bytes are estimated from up to sample
// keys per database (sample <= 0: all of them). Safe for concurrent use
// (read lock).
func (s *Store) MemoryStats(sample int) []DBMemory {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []DBMemory
	for i, d := range s.dbs {
		if d.dict.len() == 0 {
			continue
		}
		m := DBMemory{DB: i, Keys: int64(d.dict.len()), Expires: int64(len(d.expires))}
		m.MainOverhead = usageAlloc(usageDictSize) + int64(len(d.dict.t[0].buckets)+len(d.dict.t[1].buckets))*usagePtrSize
		m.ExpiresOverhead = int64(cap(d.expires)) * usagePtrSize
		m.OverheadPerEntry = usageAlloc(usageEntrySize)
		var seen, bytes int64
		for ti := 0; ti < 2 && (sample <= 0 || seen < int64(sample)); ti++ {
			for _, b := range d.dict.t[ti].buckets {
				for e := b; e != nil && (sample <= 0 || seen < int64(sample)); e = e.next {
					bytes += usageEntryBytes(e, DefaultMemorySamples)
					seen++
				}
				if sample > 0 && seen >= int64(sample) {
					break
				}
			}
		}
		if seen > 0 {
			m.EstimatedKeyBytes = bytes * m.Keys / seen
		}
		out = append(out, m)
	}
	return out
}
