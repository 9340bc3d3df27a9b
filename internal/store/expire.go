package store

// expHeap is a min-heap of the entries that have a deadline, ordered by
// deadline then key, so the expiry cycle finds every expired key without
// scanning the keyspace. Each entry records its index (heapIdx).
type expHeap []*entry

func (h expHeap) less(i, j int) bool {
	if h[i].expireAt != h[j].expireAt {
		return h[i].expireAt < h[j].expireAt
	}
	return h[i].key < h[j].key
}

func (h expHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (h *expHeap) push(e *entry) {
	e.heapIdx = len(*h)
	*h = append(*h, e)
	h.up(e.heapIdx)
}

func (h *expHeap) remove(e *entry) {
	i := e.heapIdx
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	e.heapIdx = -1
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h *expHeap) fix(e *entry) {
	if !h.down(e.heapIdx) {
		h.up(e.heapIdx)
	}
}

func (h expHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h expHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// ExpiredKeys returns up to limit keys of database dbi whose deadline is
// <= now, earliest first. The expiry cycle proposes them as an op.Expired
// operation; it is a read and changes nothing.
func (s *Store) ExpiredKeys(dbi int, now int64, limit int) [][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) {
		return nil
	}
	h := s.dbs[dbi].expires
	var out [][]byte
	// Walk the heap breadth-first, pruning subtrees whose root is not expired.
	queue := []int{0}
	for len(queue) > 0 && len(out) < limit {
		i := queue[0]
		queue = queue[1:]
		if i >= len(h) || h[i].expireAt > now {
			continue
		}
		out = append(out, []byte(h[i].key))
		queue = append(queue, 2*i+1, 2*i+2)
	}
	return out
}

// NextDeadline returns the earliest deadline in database dbi, or 0.
func (s *Store) NextDeadline(dbi int) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) || len(s.dbs[dbi].expires) == 0 {
		return 0
	}
	return s.dbs[dbi].expires[0].expireAt
}
