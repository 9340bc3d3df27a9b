// Package engine is the facade every front door calls: RESP (through the
// command table), REST and gRPC. Reads run against the local store (a
// consistency gate arrives with replication); writes arrive as deterministic
// operations (package op) and are proposed, then applied by the state machine.
//
// It imports store, op and replication; it must not import any front door
// (command, respserver, grpcapi, httpapi).
package engine
