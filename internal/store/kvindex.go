package store

import "github.com/google/btree"

// The ordered key index behind Range (kv.go): a B-tree of a database's keys
// in byte order, so a page seeks to its first key and walks forward,
// O(log n + keys walked), instead of scanning the whole hash table.
//
// It is derived, node-local state, like the dict's table layout: not
// replicated, not in snapshots, not in the digest. Most databases never see a
// Range, so a database has none until the first Range on it builds one (db.index
// nil until then); from then on apply keeps it equal to the dict's key set
// through the two places keys are born and die, put and deleteEntry (store.go).
// Without an index that hook costs apply one nil check; with one, a key's
// creation or removal pays a B-tree insert or delete (about 3k instructions
// each at 100k keys, BenchmarkApplyCreateDelete). A database that
// replaces another starts without one: FLUSHDB/FLUSHALL (flushedDB) and
// Restore make new dbs; SWAPDB swaps *db values, so an index follows its keys.
//
// Concurrency: the tree is mutated only by apply (Store.mu write lock) and
// read by Range (read lock), so readers never see it change; concurrent reads
// of a btree are safe. The build is the one write under the read lock: it
// reads the dict (stable, apply is excluded) into a new tree under
// db.indexMu, so concurrent first Ranges build it once, then publishes it
// with an atomic store before the read lock is released; apply, which can
// only run after that, sees it and maintains it.

// indexDegree is the B-tree's degree (nodes hold degree-1 .. 2*degree-1
// items), etcd's choice for its key index.
const indexDegree = 32

// indexItem is one key of the index. key is the entry's own key string (it
// shares the entry's memory, no copy) kept beside the pointer so that
// comparisons during a seek do not load the entry.
type indexItem struct {
	key string
	e   *entry
}

func indexLess(a, b indexItem) bool { return a.key < b.key }

// keyIndex is a database's ordered key index.
type keyIndex struct {
	t *btree.BTreeG[indexItem]
}

// add records a created entry (apply only: put).
func (ix *keyIndex) add(e *entry) {
	ix.t.ReplaceOrInsert(indexItem{key: e.key, e: e})
}

// remove forgets a removed entry (apply only: deleteEntry).
func (ix *keyIndex) remove(e *entry) {
	ix.t.Delete(indexItem{key: e.key})
}

// len returns the number of keys indexed.
func (ix *keyIndex) len() int { return ix.t.Len() }

// ascendFrom calls fn for each indexed entry with key >= from, in key order,
// until fn returns false.
func (ix *keyIndex) ascendFrom(from string, fn func(*entry) bool) {
	ix.t.AscendGreaterOrEqual(indexItem{key: from}, func(it indexItem) bool { return fn(it.e) })
}

// orderedIndex returns d's index, building it from d's dict if d has none.
// The caller holds Store.mu, read or write: the dict does not change while
// the build reads it. The first call on a database costs O(n log n) (all
// its keys, whatever their type), and apply waits for it like for any
// long read.
func (d *db) orderedIndex() *keyIndex {
	if ix := d.index.Load(); ix != nil {
		return ix
	}
	d.indexMu.Lock()
	defer d.indexMu.Unlock()
	if ix := d.index.Load(); ix != nil {
		return ix // another reader built it while we waited
	}
	ix := buildIndex(d.dict)
	d.index.Store(ix)
	return ix
}

// buildIndex indexes every entry of dt, in the dict's (hash) order. Sorting
// first would not be faster, and ascending insertions leave every node half
// full: a tree about 40% bigger, whose nodes sit at the minimum size where
// each later delete must first rebalance them.
func buildIndex(dt *dict) *keyIndex {
	ix := &keyIndex{t: btree.NewG(indexDegree, indexLess)}
	dt.each(func(e *entry) bool {
		ix.add(e)
		return true
	})
	return ix
}
