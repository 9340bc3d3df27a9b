package store

// The skiplist of a sorted set: Redis's zskiplist (Pugh's skiplist with a
// span per forward link, so ranks are O(log n), and a backward link at level
// 0 for reverse walks), ordered by (score, member) with members compared
// bytewise.
//
// Levels come from a deterministic generator held by each list (apply never
// reads a random source). The shape of a list is therefore a function of
// its history: a replica that rebuilt the list from a snapshot has another
// shape. Every query here answers from the order alone (the same on every
// replica); none depends on the shape.

const (
	zslMaxLevel = 32
	zslP        = 0xFFFF / 4 // a level is promoted with probability 1/4
)

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zslLevel struct {
	forward *zslNode
	span    int // number of level-0 links this one jumps
}

type zskiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	level  int
	rnd    uint64 // xorshift64* state
}

func newZskiplist() *zskiplist {
	return &zskiplist{
		header: &zslNode{level: make([]zslLevel, 1, 4)},
		level:  1,
		rnd:    0x9e3779b97f4a7c15,
	}
}

func (zl *zskiplist) randomLevel() int {
	level := 1
	for level < zslMaxLevel {
		zl.rnd ^= zl.rnd >> 12
		zl.rnd ^= zl.rnd << 25
		zl.rnd ^= zl.rnd >> 27
		if (zl.rnd*0x2545f4914f6cdd1d>>32)&0xFFFF >= zslP {
			break
		}
		level++
	}
	return level
}

// growHeader gives the header at least level links (it grows with the
// list, so that a small sorted set does not pay for 32 levels).
func (zl *zskiplist) growHeader(level int) {
	if h := zl.header; len(h.level) < level {
		h.level = append(h.level, make([]zslLevel, level-len(h.level))...)
	}
}

// zslLess orders (score, member) pairs as Redis does.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// insert adds member, which must not be present.
func (zl *zskiplist) insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		if i < zl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := zl.randomLevel()
	if level > zl.level {
		zl.growHeader(level)
		for i := zl.level; i < level; i++ {
			rank[i] = 0
			update[i] = zl.header
			update[i].level[i].span = zl.length
		}
		zl.level = level
	}
	x = &zslNode{member: member, score: score, level: make([]zslLevel, level)}
	for i := range level {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < zl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zl.header {
		x.backward = update[0]
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x
	} else {
		zl.tail = x
	}
	zl.length++
	return x
}

// appendTail adds a node after the tail: (score, member) must order after
// every node present. Used to build a list from sorted input in O(n).
func (zl *zskiplist) appendTail(score float64, member string, last *[zslMaxLevel]*zslNode) *zslNode {
	level := zl.randomLevel()
	if level > zl.level {
		zl.growHeader(level)
		for i := zl.level; i < level; i++ {
			zl.header.level[i].span = zl.length
		}
		zl.level = level
	}
	x := &zslNode{member: member, score: score, level: make([]zslLevel, level)}
	for i := range zl.level {
		p := last[i]
		if p == nil {
			p = zl.header
		}
		if i < level {
			// p's span at level i counts the nodes after it; x follows them.
			p.level[i].span++
			p.level[i].forward = x
			last[i] = x
		} else {
			p.level[i].span++
		}
	}
	x.backward = zl.tail
	zl.tail = x
	zl.length++
	return x
}

// deleteNode unlinks x given update[i], the last node before x at level i.
func (zl *zskiplist) deleteNode(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := range zl.level {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		zl.tail = x.backward
	}
	for zl.level > 1 && zl.header.level[zl.level-1].forward == nil {
		zl.level--
	}
	zl.length--
}

// delete removes the node (score, member) and reports whether it was there.
func (zl *zskiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		zl.deleteNode(x, &update)
		return true
	}
	return false
}

// rank returns the 1-based rank of (score, member), 0 when absent.
func (zl *zskiplist) rank(score float64, member string) int {
	r := 0
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x != zl.header && x.member == member {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r (nil when out of range).
func (zl *zskiplist) byRank(r int) *zslNode {
	if r < 1 || r > zl.length {
		return nil
	}
	traversed := 0
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// countBefore returns how many nodes fail pred, for a pred that is false
// on a prefix of the order and true after it (the 0-based rank of the first
// node satisfying it; length when none does).
func (zl *zskiplist) countBefore(pred func(*zslNode) bool) int {
	r := 0
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !pred(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	return r
}

// deleteRange removes the nodes of 1-based ranks start..end (inclusive),
// calling fn for each removed node.
func (zl *zskiplist) deleteRange(start, end int, fn func(*zslNode)) int {
	var update [zslMaxLevel]*zslNode
	traversed := 0
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span < start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	traversed++
	x = x.level[0].forward
	removed := 0
	for x != nil && traversed <= end {
		next := x.level[0].forward
		zl.deleteNode(x, &update)
		fn(x)
		removed++
		traversed++
		x = next
	}
	return removed
}

// first returns the first node (nil when empty).
func (zl *zskiplist) first() *zslNode { return zl.header.level[0].forward }
