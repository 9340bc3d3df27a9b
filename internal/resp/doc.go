// Package resp is skiff's RESP2/RESP3 codec and nothing else.
//
// It owns three things:
//
//   - Reader: a pipelined request reader (ReadCommand) that accepts the
//     multibulk form (*N then $len bulks) and the inline form, exactly as
//     redis-server 7 does, with every per-connection limit enforced before
//     memory is spent (Limits). It also reads replies (ReadReply, ReadValue)
//     for clients, tests and forwarding.
//   - Writer: a buffered reply writer that emits the RESP2 or RESP3 form of
//     each reply type, chosen by the connection's protocol version.
//   - AppendCommand / AppendCommandString: request encoding for clients,
//     benchmarks and forwarding.
//
// What it does not own: connections, deadlines, authentication state,
// command semantics and the mapping of internal errors to error replies.
// Those live in respserver (the connection loop) and the command packages;
// this package is the part that gets fuzzed (FuzzReader).
//
// Compatibility with redis-server 7 (networking.c, sdssplitargs), kept on
// purpose and pinned by tests, including a differential test against a real
// server (TestReader_MatchesRedis):
//
//   - *N and $N header lines end at '\r'; the byte after it is skipped
//     unchecked, and so are the two bytes after each bulk's data.
//   - A NUL byte before a line's terminator hides the terminator (Redis
//     searches with strchr): the request waits until the line is too long.
//   - Error messages are Redis's, e.g. "expected '$', got ':'".
//
// Where Redis's outcome depends on how its reads happen to split the input,
// the Reader decides from the bytes alone, so the same stream gives the same
// commands and the same error however it is delivered (FuzzReader checks
// this):
//
//   - a line is too long exactly when its terminator is not within the first
//     MaxInline+1 bytes (Redis may still accept a somewhat longer line that
//     arrives in one read);
//   - ErrQueryBufferLimit is returned when the bytes needed to complete a
//     request, or to detect its error, exceed MaxQueryBuffer.
//
// Doubles are written as Redis 7.2 writes them (layout of fpconv_dtoa), with
// the shortest round-trip digits; Redis's Grisu2 picks different but
// equivalent digits for about 0.2% of arbitrary doubles.
//
// Imports: the standard library only. resp must not import any skiff
// package, so that every other layer can depend on it.
//
// Concurrency: a Reader or a Writer belongs to one goroutine (the
// connection's). Neither is safe for concurrent use.
package resp
