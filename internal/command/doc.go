// Package command is skiff's one command layer: the command table (name,
// arity, flags, key positions, handler; one file per family), argument
// parsing, Redis's exact error strings (errors.go maps every sentinel of the
// layers below), per-connection state, runtime parameters (CONFIG), routing
// (run here or forward to the leader), pipeline write batching (batch.go)
// and the cluster admin commands. RESP, REST and gRPC all execute commands
// through it.
//
// It imports engine (through the Engine and Cluster interfaces it
// declares), store, op, resp and glob; never respserver or a front door.
// Handlers write exactly one reply; reply functions passed to Propose must
// not read Ctx.Args (a pipeline's replies are written after later input).
package command
