package store

import "github.com/skiffdb/skiff/internal/op"

// genHash generates a random hash operation for the snapshot tests (a plain
// SET until hashes exist).
func genHash(g *opGen, o *op.Op) {
	o.Code, o.Args = op.Set, [][]byte{g.key(), g.val(), []byte("0"), []byte("0")}
}
