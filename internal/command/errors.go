package command

import (
	"context"
	"errors"
	"strings"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// replyError is an error whose text is the exact Redis error reply (without
// the leading '-'): a handler returns it as is.
type replyError string

func (e replyError) Error() string { return string(e) }

// Redis's exact error strings used across families.
const (
	ErrSyntax          replyError = "ERR syntax error"
	ErrNotInteger      replyError = "ERR value is not an integer or out of range"
	ErrNotFloat        replyError = "ERR value is not a valid float"
	ErrWrongType       replyError = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrOverflow        replyError = "ERR increment or decrement would overflow"
	ErrNaN             replyError = "ERR increment would produce NaN or Infinity"
	ErrNoSuchKey       replyError = "ERR no such key"
	ErrDBIndex         replyError = "ERR DB index is out of range"
	ErrInvalidExpire   replyError = "ERR invalid expire time in '%s' command"
	ErrStringTooLong   replyError = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrNoAuth          replyError = "NOAUTH Authentication required."
	ErrOffsetRange     replyError = "ERR offset is out of range"
	ErrSelectNotNumber replyError = "ERR value is not an integer or out of range"
)

// errorTable maps every sentinel error of the layers below to Redis's reply.
// TestErrorTable_EverySentinelMapped keeps it complete.
var errorTable = []struct {
	err   error
	reply string
}{
	{store.ErrWrongType, string(ErrWrongType)},
	{store.ErrNotInteger, string(ErrNotInteger)},
	{store.ErrNotFloat, string(ErrNotFloat)},
	{store.ErrOverflow, string(ErrOverflow)},
	{store.ErrNaN, string(ErrNaN)},
	{store.ErrNoSuchKey, string(ErrNoSuchKey)},
	{store.ErrTooLong, string(ErrStringTooLong)},
	{store.ErrBadDB, string(ErrDBIndex)},
	{store.ErrHashNotInteger, "ERR hash value is not an integer"},
	{store.ErrHashNotFloat, "ERR hash value is not a float"},
	{store.ErrIndexOutOfRange, "ERR index out of range"},
	{store.ErrMalformedOp, "ERR internal error: malformed operation"},
	{store.ErrApplyPanic, "ERR internal error: the operation failed on every replica (a bug: the server log has its stack)"},
	{op.ErrVersion, "ERR internal error: unknown operation version"},
	{op.ErrTruncated, "ERR internal error: truncated operation"},
	{op.ErrCode, "ERR internal error: unknown operation"},
	{engine.ErrClosed, "TRYAGAIN this node is shutting down; retry on another"},
	{engine.ErrLogClosed, "TRYAGAIN this node is shutting down; retry on another"},
	{engine.ErrNotLeader, "TRYAGAIN this node is not the leader; retry (it will be forwarded when a leader is known)"},
	{engine.ErrNoLeader, "CLUSTERDOWN no leader elected; retry later"},
	{engine.ErrOutcomeUnknown, "TRYAGAIN leadership changed while the write was in flight: its outcome is unknown"},
	{engine.ErrTimeout, "TRYAGAIN the write could not be proposed in time; retry"},
	{engine.ErrForward, "TRYAGAIN the leader could not be reached; retry"},
	{engine.ErrDial, "TRYAGAIN the leader could not be reached; retry"},
	{context.Canceled, "TRYAGAIN this node is shutting down; retry on another"},
	{context.DeadlineExceeded, "ERR request timed out"},
}

// ReplyText returns the Redis error reply text for err (without '-').
func ReplyText(err error) string {
	var re replyError
	if errors.As(err, &re) {
		return string(re)
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return m.reply
		}
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, ' '); i > 0 && strings.ToUpper(msg[:i]) == msg[:i] {
		return msg // already starts with an error code
	}
	return "ERR " + msg
}
