package store

import (
	"github.com/skiffdb/skiff/internal/op"
)

// genList generates a random list operation for the snapshot tests: pushes
// dominate so that lists exist for the other operations to change.
func genList(g *opGen, o *op.Op) {
	r := g.rng
	end := func() []byte { return op.Itoa(int64(r.IntN(2))) }
	idx := func() []byte { return op.Itoa(int64(r.IntN(12) - 6)) }
	// elem draws from a small alphabet so that LREM, LINSERT pivots and LPOS hit.
	elem := func() []byte {
		if r.IntN(4) == 0 {
			return g.val()
		}
		return []byte{byte('a' + r.IntN(4))}
	}
	switch p := r.IntN(100); {
	case p < 35:
		o.Code, o.Args = op.ListPush, [][]byte{g.key(), end(), op.Itoa(int64(r.IntN(10) / 9))}
		for range 1 + r.IntN(5) {
			o.Args = append(o.Args, elem())
		}
	case p < 50:
		count := op.Itoa(int64(r.IntN(5) - 1))
		o.Code, o.Args = op.ListPop, [][]byte{g.key(), end(), count}
	case p < 58:
		o.Code, o.Args = op.ListSet, [][]byte{g.key(), idx(), elem()}
	case p < 66:
		o.Code, o.Args = op.ListInsert, [][]byte{g.key(), end(), elem(), elem()}
	case p < 73:
		o.Code, o.Args = op.ListRem, [][]byte{g.key(), idx(), elem()}
	case p < 80:
		o.Code, o.Args = op.ListTrim, [][]byte{g.key(), idx(), idx()}
	case p < 92:
		o.Code, o.Args = op.ListMove, [][]byte{g.key(), g.key(), end(), end()}
	default:
		o.Code, o.Args = op.ListMPop, [][]byte{end(), op.Itoa(int64(1 + r.IntN(3))), g.key(), g.key()}
	}
}
