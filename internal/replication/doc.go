// Package replication wires hashicorp/raft under skiff: the thin FSM over
// the store, the durable log (raft-wal) and snapshot stores, the TCP
// transport (with a fault switch for tests), proposals, read barriers,
// membership and leadership. See DESIGN.md in this directory.
//
// It imports store and op; it must not import engine, command or any front
// door. Nothing outside this package imports hashicorp/raft, so the
// consensus engine can be swapped if measurements demand it.
package replication
