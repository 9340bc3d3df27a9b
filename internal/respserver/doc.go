// Package respserver owns RESP connections: the accept loop, one goroutine
// per connection, pipelining (every request already buffered is executed and
// all replies leave in one write), protocol-error handling (reply, then close
// that connection only) and graceful shutdown (stop accepting, finish the
// commands already read, close).
//
// It imports command (to execute) and resp (to read and write); command
// semantics and per-connection command state live in package command.
package respserver
