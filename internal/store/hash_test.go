package store

import (
	"strconv"

	"github.com/skiffdb/skiff/internal/op"
)

// genHash generates a random hash operation for the snapshot tests, on keys
// from g.key() (so hashes meet strings: WRONGTYPE, COPY, RENAME ...). Fields
// come from a small set so that updates, deletions and emptied keys happen;
// now and then a hash grows past the listpack thresholds.
func genHash(g *opGen, o *op.Op) {
	r := g.rng
	field := func() []byte {
		if r.IntN(50) == 0 {
			return []byte("long-field-" + strconv.Itoa(r.IntN(300)) + string(make([]byte, 60)))
		}
		return []byte("f" + strconv.Itoa(r.IntN(12)))
	}
	switch p := r.IntN(100); {
	case p < 40:
		o.Code, o.Args = op.HSet, [][]byte{g.key()}
		if r.IntN(40) == 0 { // past hash-max-listpack-entries
			for i := range 520 {
				o.Args = append(o.Args, []byte("g"+strconv.Itoa(i)), g.val())
			}
			break
		}
		for range 1 + r.IntN(3) {
			o.Args = append(o.Args, field(), g.val())
		}
	case p < 50:
		o.Code, o.Args = op.HSetNX, [][]byte{g.key(), field(), g.val()}
	case p < 75:
		o.Code, o.Args = op.HDel, [][]byte{g.key(), field(), field()}
	case p < 90:
		o.Code, o.Args = op.HIncrBy, [][]byte{g.key(), field(), op.Itoa(int64(r.IntN(20) - 10))}
	default:
		o.Code, o.Args = op.HIncrByFloat, [][]byte{g.key(), field(), []byte("0.1")}
	}
}
