// Package node is the composition root: New(cfg) wires the store, engine,
// command layer and front doors; Run(ctx) serves and shuts down in order.
// The binary and every test start nodes through it; nothing else wires.
// It is the only package that imports everything.
package node
