package store

import "github.com/skiffdb/skiff/internal/op"

// genList generates a random list operation for the snapshot tests (a plain
// SET until lists exist).
func genList(g *opGen, o *op.Op) {
	o.Code, o.Args = op.Set, [][]byte{g.key(), g.val(), []byte("0"), []byte("0")}
}
