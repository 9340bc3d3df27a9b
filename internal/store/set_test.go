package store

import (
	"strconv"

	"github.com/skiffdb/skiff/internal/op"
)

// genSet generates a random set operation for the snapshot tests, on keys
// from g.key() (so sets meet other types: WRONGTYPE, COPY, RENAME ...).
// Members come from a small set (integers and strings, so every encoding
// appears) so that removals and emptied keys happen; now and then a set
// grows past the listpack and intset thresholds.
func genSet(g *opGen, o *op.Op) {
	r := g.rng
	member := func() []byte {
		switch r.IntN(20) {
		case 0:
			return []byte("long-member-" + strconv.Itoa(r.IntN(300)) + string(make([]byte, 60)))
		case 1, 2, 3, 4, 5, 6, 7, 8:
			return []byte(strconv.Itoa(r.IntN(12)))
		}
		return []byte("m" + strconv.Itoa(r.IntN(12)))
	}
	switch p := r.IntN(100); {
	case p < 40:
		o.Code, o.Args = op.SAdd, [][]byte{g.key()}
		if r.IntN(40) == 0 { // past the thresholds
			ints := r.IntN(2) == 0
			for i := range 600 {
				if ints {
					o.Args = append(o.Args, []byte(strconv.Itoa(i)))
				} else {
					o.Args = append(o.Args, []byte("g"+strconv.Itoa(i)))
				}
			}
			break
		}
		for range 1 + r.IntN(3) {
			o.Args = append(o.Args, member())
		}
	case p < 60:
		o.Code, o.Args = op.SRem, [][]byte{g.key(), member(), member()}
	case p < 70:
		o.Code, o.Args = op.SPop, [][]byte{g.key(), member()}
	case p < 80:
		o.Code, o.Args = op.SMove, [][]byte{g.key(), g.key(), member()}
	default:
		codes := []op.Code{op.SInterStore, op.SUnionStore, op.SDiffStore}
		o.Code, o.Args = codes[r.IntN(3)], [][]byte{g.key(), g.key(), g.key()}
	}
}
