package resp

import (
	"errors"
	"math"
)

// Limits bounds what one connection may make the Reader buffer. Each limit is
// enforced before the memory is spent: a claimed length is checked when its
// header arrives and is never preallocated.
//
// The zero value of a numeric field means "use the default" (see
// DefaultLimits), so Limits{Unauthenticated: true} is a valid argument to
// Reader.SetLimits.
type Limits struct {
	// MaxBulkLen is the largest accepted $N (Redis proto-max-bulk-len,
	// default 512 MiB). A larger N is a ProtocolError "invalid bulk length".
	MaxBulkLen int64
	// MaxMultibulk is the largest accepted *N (default math.MaxInt32). A
	// larger N is a ProtocolError "invalid multibulk length".
	MaxMultibulk int64
	// MaxInline is the longest inline request line and the longest *N / $N
	// header line, in bytes before the line terminator (default 64 KiB,
	// Redis PROTO_INLINE_MAX_SIZE). A longer line is a ProtocolError "too big
	// inline request", "too big mbulk count string" or "too big bulk count
	// string".
	MaxInline int
	// MaxQueryBuffer bounds the bytes one not-yet-complete request may occupy
	// (Redis client-query-buffer-limit, default 1 GiB). Past it the Reader
	// returns ErrQueryBufferLimit: Redis sends no reply and closes.
	MaxQueryBuffer int64
	// Unauthenticated applies Redis's limits for connections that have not
	// passed AUTH yet: *N with N > 10 is "unauthenticated multibulk length",
	// $N with N > 16384 is "unauthenticated bulk length".
	Unauthenticated bool
}

// Defaults, equal to redis-server 7's defaults.
const (
	defaultMaxBulkLen     = 512 << 20
	defaultMaxMultibulk   = math.MaxInt32
	defaultMaxInline      = 64 << 10
	defaultMaxQueryBuffer = 1 << 30

	unauthMaxMultibulk = 10
	unauthMaxBulkLen   = 16384
)

// DefaultLimits returns redis-server 7's defaults for an authenticated
// connection (or one on a server without a password).
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:     defaultMaxBulkLen,
		MaxMultibulk:   defaultMaxMultibulk,
		MaxInline:      defaultMaxInline,
		MaxQueryBuffer: defaultMaxQueryBuffer,
	}
}

// withDefaults replaces zero or negative numeric fields with their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = d.MaxBulkLen
	}
	if l.MaxMultibulk <= 0 {
		l.MaxMultibulk = d.MaxMultibulk
	}
	if l.MaxInline <= 0 {
		l.MaxInline = d.MaxInline
	}
	if l.MaxQueryBuffer <= 0 {
		l.MaxQueryBuffer = d.MaxQueryBuffer
	}
	return l
}

// ProtocolError is a malformed request (or, from ReadReply/ReadValue, a
// malformed reply). The Reader returns it as *ProtocolError and stays failed:
// every later call returns the same error.
//
// Error() is the full error reply text without the leading '-', e.g.
// "ERR Protocol error: invalid multibulk length". respserver writes it with
// Writer.WriteError, flushes and closes the connection, as Redis does.
type ProtocolError struct {
	// Msg is the part after "Protocol error: ", e.g. "invalid multibulk
	// length". It never contains '\r' or '\n'.
	Msg string
}

// Error returns the reply text, "ERR Protocol error: " + Msg.
func (e *ProtocolError) Error() string { return "ERR Protocol error: " + e.Msg }

// ErrQueryBufferLimit is returned by the Reader when one request needs more
// than Limits.MaxQueryBuffer bytes. Redis logs this and closes the connection
// without a reply; respserver does the same. The Reader stays failed.
var ErrQueryBufferLimit = errors.New("resp: query buffer limit exceeded")

// Protocol error messages, as redis-server 7 words them.
const (
	msgInvalidMultibulk   = "invalid multibulk length"
	msgInvalidBulk        = "invalid bulk length"
	msgUnauthMultibulk    = "unauthenticated multibulk length"
	msgUnauthBulk         = "unauthenticated bulk length"
	msgTooBigMbulkCount   = "too big mbulk count string"
	msgTooBigBulkCount    = "too big bulk count string"
	msgTooBigInline       = "too big inline request"
	msgUnbalancedQuotes   = "unbalanced quotes in request"
	msgExpectedDollarFrom = "expected '$', got '"
)

// expectedDollar builds Redis's "expected '$', got 'c'" message. Redis
// formats the byte with %c and then replaces '\r' and '\n' in error replies
// with spaces; the message keeps that rule.
func expectedDollar(c byte) *ProtocolError {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return &ProtocolError{Msg: msgExpectedDollarFrom + string([]byte{c}) + "'"}
}
