// Package op defines the replicated operation: the deterministic form of a
// write, as it is stored in the log and applied by every replica. An encoded
// entry starts with a version byte; codes are never renumbered. Golden bytes
// in testdata/ pin the format.
//
// It imports nothing internal, no networking and never reads the clock.
package op
