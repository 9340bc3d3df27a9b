package store

// ordIndex is an insertion-ordered map from name to V with O(1) lookup,
// append and delete: deletion leaves a tombstone, and tombstones are
// compacted away once they outnumber the live items. Hashes and sets use it
// so that small ones reply in insertion order, as Redis's listpacks do.
type ordIndex[V any] struct {
	idx   map[string]int   // live name -> position in items
	items []orderedItem[V] // insertion order, with tombstones
	dead  int              // tombstones in items
}

type orderedItem[V any] struct {
	name string
	val  V
	dead bool
}

func newOrdIndex[V any](n int) ordIndex[V] {
	return ordIndex[V]{idx: make(map[string]int, n), items: make([]orderedItem[V], 0, n)}
}

// appendNew adds name, which must not be present.
func (o *ordIndex[V]) appendNew(name string, v V) {
	o.idx[name] = len(o.items)
	o.items = append(o.items, orderedItem[V]{name: name, val: v})
}

// del removes name and reports whether it was present.
func (o *ordIndex[V]) del(name []byte) bool {
	i, ok := o.idx[string(name)]
	if !ok {
		return false
	}
	delete(o.idx, string(name))
	o.items[i] = orderedItem[V]{dead: true}
	o.dead++
	if o.dead > 8 && o.dead > len(o.items)/2 {
		o.compact()
	}
	return true
}

func (o *ordIndex[V]) compact() {
	live := o.items[:0]
	for _, it := range o.items {
		if !it.dead {
			o.idx[it.name] = len(live)
			live = append(live, it)
		}
	}
	clear(o.items[len(live):])
	o.items = live
	o.dead = 0
}
