package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/skiffdb/skiff/internal/op"
)

// rangeScan is Range as it was before the ordered index: a scan of the
// whole database keeping the Limit+1 smallest matches in a bounded heap. It
// is the reference the index-backed Range must equal.
func rangeScan(s *Store, dbi int, opts RangeOptions, now int64) (kvs []KVEntry, more bool, rev uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) || opts.Limit <= 0 {
		return nil, false, s.rev
	}
	prefix, start, end, after := string(opts.Prefix), string(opts.Start), string(opts.End), string(opts.After)
	hasEnd, hasAfter := opts.End != nil, opts.After != nil
	h := keyHeap{max: opts.Limit + 1}
	s.dbs[dbi].dict.each(func(e *entry) bool {
		k := e.key
		if e.typ != TypeString || (e.expireAt != 0 && e.expireAt <= now) ||
			!strings.HasPrefix(k, prefix) || k < start || (hasEnd && k >= end) || (hasAfter && k <= after) {
			return true
		}
		h.offer(e)
		return true
	})
	es := h.es
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	if len(es) > opts.Limit {
		es, more = es[:opts.Limit], true
	}
	kvs = make([]KVEntry, len(es))
	for i, e := range es {
		kvs[i] = KVEntry{Key: []byte(e.key), Rev: e.rev, ExpireAt: e.expireAt}
		if !opts.KeysOnly {
			kvs[i].Value = e.str
		}
	}
	return kvs, more, s.rev
}

// keyHeap keeps the max smallest entries by key: a max-heap on key, so the
// largest kept is at the root and is replaced by anything smaller.
type keyHeap struct {
	es  []*entry
	max int
}

func (h *keyHeap) offer(e *entry) {
	if len(h.es) < h.max {
		h.es = append(h.es, e)
		h.up(len(h.es) - 1)
		return
	}
	if e.key >= h.es[0].key {
		return
	}
	h.es[0] = e
	h.down(0)
}

func (h *keyHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h.es[p].key >= h.es[i].key {
			return
		}
		h.es[p], h.es[i] = h.es[i], h.es[p]
		i = p
	}
}

func (h *keyHeap) down(i int) {
	n := len(h.es)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		big := l
		if r := l + 1; r < n && h.es[r].key > h.es[l].key {
			big = r
		}
		if h.es[i].key >= h.es[big].key {
			return
		}
		h.es[i], h.es[big] = h.es[big], h.es[i]
		i = big
	}
}

func hasIndex(s *Store, dbi int) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dbs[dbi].index.Load() != nil
}

// checkIndexes verifies every built index holds exactly its dict's entries,
// in key order, each item's key being its entry's own string.
func checkIndexes(t *testing.T, s *Store) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, d := range s.dbs {
		ix := d.index.Load()
		if ix == nil {
			continue
		}
		var want []*entry
		d.dict.each(func(e *entry) bool { want = append(want, e); return true })
		slices.SortFunc(want, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
		var got []*entry
		ix.t.Ascend(func(it indexItem) bool {
			if unsafe.StringData(it.key) != unsafe.StringData(it.e.key) || len(it.key) != len(it.e.key) {
				t.Fatalf("db %d: item key %q is not entry %q's own string", i, it.key, it.e.key)
			}
			got = append(got, it.e)
			return true
		})
		if !slices.Equal(got, want) || ix.len() != d.dict.len() {
			t.Fatalf("db %d: index holds %d entries, dict %d (or other entries)", i, len(got), len(want))
		}
	}
}

func sameRange(t *testing.T, what string, got []KVEntry, gotMore bool, want []KVEntry, wantMore bool) {
	t.Helper()
	eq := gotMore == wantMore && slices.EqualFunc(got, want, func(a, b KVEntry) bool {
		return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) && (a.Value == nil) == (b.Value == nil) &&
			a.Rev == b.Rev && a.ExpireAt == b.ExpireAt
	})
	if !eq {
		keys := func(kvs []KVEntry) []string {
			var ks []string
			for _, kv := range kvs {
				ks = append(ks, string(kv.Key))
			}
			return ks
		}
		t.Fatalf("%s:\n got %q more=%v\nwant %q more=%v", what, keys(got), gotMore, keys(want), wantMore)
	}
}

// randomRangeOptions picks a selection over opGen's keys: k<i>, the long
// L... keys and medium-key-... keys, with prefixes that cut them in
// different places.
func randomRangeOptions(r *rand.Rand, g *opGen) RangeOptions {
	opts := RangeOptions{Limit: 1 + r.IntN(40), KeysOnly: r.IntN(4) == 0}
	if r.IntN(20) == 0 {
		opts.Limit = 1000
	}
	switch r.IntN(5) {
	case 0:
	case 1:
		opts.Prefix = []byte([]string{"k", "k1", "k2", "k19", "L", "m", "medium-key-", "z", "k100"}[r.IntN(9)])
	case 2:
		opts.Start = g.key()
	case 3:
		opts.Start = g.key()
		opts.End = g.key()
	default:
		opts.Start = []byte("k3")
		opts.End = []byte("k5")
	}
	if r.IntN(3) == 0 {
		opts.After = g.key()
	}
	return opts
}

// TestRange_IndexMatchesScan applies random operations of every family
// (creates, deletes, overwrites with other types, deadlines, expiry,
// renames, moves) plus FLUSHDB, FLUSHALL, SWAPDB and Restore at a far higher
// rate than opGen does, and compares Range with the reference scan on
// random databases (building their indexes as it goes), paging through
// whole ranges with After, at read times that make some keys expired.
func TestRange_IndexMatchesScan(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			g := newOpGen(seed, 400)
			r := rand.New(rand.NewPCG(seed, 77))
			s := newSnapStore()
			applyOps(s, g.fill(300))
			for step := range 30000 {
				o := g.next()
				switch p := r.IntN(1000); {
				case p < 3:
					o = op.Op{Code: op.FlushDB, DB: r.IntN(snapDBs), Time: g.now}
				case p < 4:
					o = op.Op{Code: op.FlushAll, Time: g.now}
				case p < 8:
					a, b := r.IntN(snapDBs), r.IntN(snapDBs)
					o = op.Op{Code: op.SwapDB, Time: g.now, Args: [][]byte{op.Itoa(int64(a)), op.Itoa(int64(b))}}
				}
				before := make([]bool, snapDBs)
				for i := range before {
					before[i] = hasIndex(s, i)
				}
				s.Apply(&o)
				switch o.Code {
				case op.FlushDB:
					if hasIndex(s, o.DB) {
						t.Fatalf("step %d: FLUSHDB kept db %d's index", step, o.DB)
					}
				case op.FlushAll:
					for i := range snapDBs {
						if hasIndex(s, i) {
							t.Fatalf("step %d: FLUSHALL kept db %d's index", step, i)
						}
					}
				case op.SwapDB:
					a, _ := strconv.Atoi(string(o.Args[0]))
					b, _ := strconv.Atoi(string(o.Args[1]))
					if hasIndex(s, a) != before[b] || hasIndex(s, b) != before[a] {
						t.Fatalf("step %d: SWAPDB %d %d: the indexes did not follow their databases", step, a, b)
					}
				}
				if r.IntN(3000) == 0 {
					if err := s.Restore(bytes.NewReader(snapshotBytes(t, s))); err != nil {
						t.Fatal(err)
					}
					for i := range snapDBs {
						if hasIndex(s, i) {
							t.Fatalf("step %d: db %d has an index after Restore", step, i)
						}
					}
				}
				if r.IntN(40) != 0 {
					continue
				}
				dbi := r.IntN(snapDBs)
				now := g.now + int64(r.IntN(3200)) - 200
				opts := randomRangeOptions(r, g)
				what := func(page int) string {
					return fmt.Sprintf("step %d db %d prefix %q start %q end %q after %q limit %d page %d",
						step, dbi, opts.Prefix, opts.Start, opts.End, opts.After, opts.Limit, page)
				}
				for page := 0; ; page++ {
					got, gotMore, gotRev := s.Range(dbi, opts, now)
					want, wantMore, wantRev := rangeScan(s, dbi, opts, now)
					if gotRev != wantRev {
						t.Fatalf("%s: revision %d, want %d", what(page), gotRev, wantRev)
					}
					sameRange(t, what(page), got, gotMore, want, wantMore)
					if !gotMore || page == 5 {
						break
					}
					opts.After = got[len(got)-1].Key
				}
				checkIndexes(t, s)
			}
			checkIndexes(t, s)
		})
	}
}

// TestRange_IndexLifecycle: a database's index is built by its first Range
// and maintained by apply; FLUSHDB and FLUSHALL drop it, SWAPDB carries it
// with its keys, Restore leaves none, and the next Range rebuilds it.
func TestRange_IndexLifecycle(t *testing.T) {
	s := New(Options{Databases: 3})
	ap := func(db int, code op.Code, args ...string) {
		t.Helper()
		if _, err := applyDB(t, s, db, code, args...); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(db int) []string {
		t.Helper()
		kvs, _, _ := s.Range(db, RangeOptions{Limit: 100, KeysOnly: true}, t0)
		var ks []string
		for _, kv := range kvs {
			ks = append(ks, string(kv.Key))
		}
		checkIndexes(t, s)
		return ks
	}
	want := func(what string, got []string, w ...string) {
		t.Helper()
		if !slices.Equal(got, w) {
			t.Fatalf("%s: %q, want %q", what, got, w)
		}
	}
	for _, k := range []string{"c", "a", "b"} {
		ap(0, op.Set, k, "v", "0", "0")
	}
	ap(1, op.Set, "x", "v", "0", "0")
	if hasIndex(s, 0) || hasIndex(s, 1) {
		t.Fatal("an index before any Range")
	}
	want("db 0", keys(0), "a", "b", "c")
	if !hasIndex(s, 0) || hasIndex(s, 1) {
		t.Fatal("Range on db 0 built the wrong indexes")
	}
	// Maintained by apply: create, delete, rename, a type change, MOVE.
	ap(0, op.Set, "aa", "v", "0", "0")
	ap(0, op.Del, "b")
	ap(0, op.Rename, "c", "d", "0")
	if _, err := applyDB(t, s, 0, op.ListPush, "a", "1", "0", "x"); err == nil {
		t.Fatal("LPUSH on a string")
	}
	ap(0, op.Del, "a")
	ap(0, op.ListPush, "a", "1", "0", "x") // a is a list now: indexed, not listed
	ap(0, op.Move, "aa", "1")
	checkIndexes(t, s)
	want("db 0 after writes", keys(0), "d")
	// SWAPDB: the index follows the keys.
	ap(0, op.SwapDB, "0", "1")
	if hasIndex(s, 0) || !hasIndex(s, 1) {
		t.Fatal("SWAPDB: the index did not follow its database")
	}
	ap(1, op.Set, "e", "v", "0", "0")
	want("db 1 after SWAPDB", keys(1), "d", "e")
	want("db 0 after SWAPDB", keys(0), "aa", "x")
	// FLUSHDB drops it; the next Range builds an empty one.
	ap(1, op.FlushDB)
	if hasIndex(s, 1) || !hasIndex(s, 0) {
		t.Fatal("FLUSHDB: wrong indexes")
	}
	want("db 1 after FLUSHDB", keys(1))
	ap(1, op.Set, "f", "v", "0", "0")
	want("db 1 refilled", keys(1), "f")
	// Restore: new databases, no index until the next Range.
	snap := snapshotBytes(t, s)
	ap(0, op.Set, "later", "v", "0", "0")
	if err := s.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if hasIndex(s, i) {
			t.Fatalf("db %d has an index after Restore", i)
		}
	}
	want("db 0 after Restore", keys(0), "aa", "x")
	// FLUSHALL drops them all.
	want("db 1 before FLUSHALL", keys(1), "f")
	ap(0, op.FlushAll)
	for i := range 3 {
		if hasIndex(s, i) {
			t.Fatalf("db %d has an index after FLUSHALL", i)
		}
	}
	want("db 0 after FLUSHALL", keys(0))
}

// TestRange_ConcurrentFirstBuild: Ranges racing to build a database's index
// build it once and agree, while apply writes (run under -race).
func TestRange_ConcurrentFirstBuild(t *testing.T) {
	s := New(Options{})
	for i := range 2000 {
		kvApplyOp(t, s, op.Set, t0, fmt.Sprintf("k%05d", i), "v", "0", "0")
	}
	const readers = 8
	idx := make([]*keyIndex, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			kvs, _, _ := s.Range(0, RangeOptions{Prefix: []byte("k0"), Limit: 10}, t0)
			if len(kvs) != 10 || string(kvs[0].Key) != "k00000" {
				t.Errorf("reader %d: %d keys", i, len(kvs))
			}
			s.mu.RLock()
			idx[i] = s.dbs[0].index.Load()
			s.mu.RUnlock()
		})
	}
	wg.Go(func() {
		for i := range 200 {
			s.Apply(&op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte(fmt.Sprintf("w%d", i)), []byte("v"), []byte("0"), []byte("0")}})
		}
	})
	wg.Wait()
	for i := range idx {
		if idx[i] != idx[0] || idx[i] == nil {
			t.Fatal("the index was built more than once")
		}
	}
	checkIndexes(t, s)
}

// TestRange_SkipsCrowdedRange: non-string and expired keys inside the range
// are walked and skipped; keys outside it are never reached.
func TestRange_SkipsCrowdedRange(t *testing.T) {
	s := New(Options{})
	for i := range 50 {
		kvApplyOp(t, s, op.ListPush, t0, fmt.Sprintf("p:%03d", i), "1", "0", "x")
		kvApplyOp(t, s, op.Set, t0, fmt.Sprintf("q:%03d", i), "v", "0", strconv.FormatInt(t0+1, 10))
	}
	kvApplyOp(t, s, op.Set, t0, "p:zzz", "v", "0", "0")
	kvApplyOp(t, s, op.Set, t0, "q:zzz", "v", "0", "0")
	for _, pre := range []string{"p:", "q:"} {
		opts := RangeOptions{Prefix: []byte(pre), Limit: 1}
		got, more, _ := s.Range(0, opts, t0+1)
		want, wantMore, _ := rangeScan(s, 0, opts, t0+1)
		sameRange(t, pre, got, more, want, wantMore)
		if len(got) != 1 || string(got[0].Key) != pre+"zzz" || more {
			t.Fatalf("%s: %d keys, more=%v", pre, len(got), more)
		}
	}
}

// benchRangeStore holds n string keys k<i> in db 0.
func benchRangeStore(b *testing.B, n int) *Store {
	s := New(Options{})
	o := op.Op{Code: op.Set, Time: t0, Args: [][]byte{nil, []byte("value"), []byte("0"), []byte("0")}}
	for i := range n {
		o.Args[0] = fmt.Appendf(nil, "key:%08d", i)
		if _, err := s.Apply(&o); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkRange: one page of 100 keys out of 100k, from a different
// starting key each time, with the index and with the reference scan (the
// algorithm Range had before the index).
func BenchmarkRange(b *testing.B) {
	const n, limit = 100000, 100
	s := benchRangeStore(b, n)
	afters := make([][]byte, 1024)
	for i := range afters {
		afters[i] = fmt.Appendf(nil, "key:%08d", (i*7919)%n)
	}
	for _, impl := range []struct {
		name string
		fn   func(*Store, int, RangeOptions, int64) ([]KVEntry, bool, uint64)
	}{{"scan", rangeScan}, {"index", (*Store).Range}} {
		b.Run(impl.name, func(b *testing.B) {
			impl.fn(s, 0, RangeOptions{Limit: 1}, t0) // the index's one-time build is not timed
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				kvs, _, _ := impl.fn(s, 0, RangeOptions{Prefix: []byte("key:"), After: afters[i%len(afters)], Limit: limit}, t0)
				if len(kvs) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

// BenchmarkRangeIndexBuild is the first Range on a database of 100k keys:
// it builds the index (apply waits for it).
func BenchmarkRangeIndexBuild(b *testing.B) {
	s := benchRangeStore(b, 100000)
	b.ReportAllocs()
	for b.Loop() {
		s.dbs[0].index.Store(nil)
		s.Range(0, RangeOptions{Limit: 100}, t0)
	}
}

// BenchmarkApplyPushPopIndexed is BenchmarkApplyPushPop once Range has built
// the database's index: each push and pop inserts and deletes a key in it.
func BenchmarkApplyPushPopIndexed(b *testing.B) {
	s := New(Options{})
	s.Range(0, RangeOptions{Limit: 1}, t0)
	push := op.Op{Code: op.ListPush, Time: t0, Args: [][]byte{[]byte("queue:default"), []byte("1"), []byte("0"), []byte("job")}}
	pop := op.Op{Code: op.ListPop, Time: t0, Args: [][]byte{[]byte("queue:default"), []byte("1"), []byte("-1")}}
	b.ReportAllocs()
	for b.Loop() {
		s.Apply(&push)
		s.Apply(&pop)
	}
}

// BenchmarkApplyCreateDelete is apply's cost of a key's birth and death in a
// database of 100k keys, without an index (no Range ever ran on it) and with
// one (after a Range): the index's cost to the write path.
func BenchmarkApplyCreateDelete(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(map[bool]string{false: "noindex", true: "index"}[indexed], func(b *testing.B) {
			s := benchRangeStore(b, 100000)
			if indexed {
				s.Range(0, RangeOptions{Limit: 1}, t0)
			}
			keys := make([][]byte, 1024)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "key:%08d:new", (i*7919)%100000)
			}
			set := op.Op{Code: op.Set, Time: t0, Args: [][]byte{nil, []byte("value"), []byte("0"), []byte("0")}}
			del := op.Op{Code: op.Del, Time: t0, Args: [][]byte{nil}}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k := keys[i%len(keys)]
				set.Args[0], del.Args[0] = k, k
				s.Apply(&set)
				s.Apply(&del)
			}
		})
	}
}
