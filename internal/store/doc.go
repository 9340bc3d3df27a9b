// Package store is the deterministic state machine: the keyspace of every
// database, one file per data type, the expiry index, and Apply(op).
//
// It imports only internal/op and internal/glob: no networking, no Raft, no
// telemetry, and it never reads the clock or a random source. Time arrives in
// each operation (op.Op.Time); randomness for reads (RANDOMKEY) arrives as an
// argument. See DESIGN.md in this directory.
package store
