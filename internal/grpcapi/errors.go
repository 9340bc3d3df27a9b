package grpcapi

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// errorDomain is the google.rpc.ErrorInfo domain of skiff's error details.
const errorDomain = "skiff.v1"

// ReasonCompacted is the google.rpc.ErrorInfo reason of a Watch whose start
// token is older than the retained history; its metadata carries
// "oldest_token" and "oldest_revision".
const ReasonCompacted = "COMPACTED"

// errorTable maps every sentinel error of the layers below to a gRPC code
// (etcd's v3rpc/util.go is the model). The first entry errors.Is matches
// wins. TestErrorTable_EverySentinelMapped keeps it complete: a new exported
// Err* variable in command/api.go, store or engine fails that test until it
// is listed here.
var errorTable = []struct {
	err  error
	code codes.Code
}{
	// The keyspace API.
	{command.ErrNotFound, codes.NotFound},
	{command.ErrInvalidArgument, codes.InvalidArgument},
	{command.ErrCompacted, codes.OutOfRange},
	{command.ErrUnimplemented, codes.Unimplemented},
	// A watcher that fell behind resumes from its last token, as after a
	// server shutdown (also UNAVAILABLE).
	{command.ErrWatchOverflow, codes.Unavailable},

	// The data: the key's state does not allow the operation.
	{store.ErrWrongType, codes.FailedPrecondition},
	{store.ErrNotInteger, codes.FailedPrecondition},
	{store.ErrNotFloat, codes.FailedPrecondition},
	{store.ErrHashNotInteger, codes.FailedPrecondition},
	{store.ErrHashNotFloat, codes.FailedPrecondition},
	{store.ErrScoreNaN, codes.FailedPrecondition},
	{store.ErrOverflow, codes.OutOfRange},
	{store.ErrNaN, codes.OutOfRange},
	{store.ErrIndexOutOfRange, codes.OutOfRange},
	{store.ErrNoSuchKey, codes.NotFound},
	// The request.
	{store.ErrTooLong, codes.InvalidArgument},
	{store.ErrBadDB, codes.InvalidArgument},
	// Broken invariants: never the caller's fault.
	{store.ErrMalformedOp, codes.Internal},
	{store.ErrApplyPanic, codes.Internal},
	{store.ErrSnapshotActive, codes.Internal},
	{store.ErrSnapshotDone, codes.Internal},
	{store.ErrSnapshotVersion, codes.Internal},
	{store.ErrSnapshotCorrupt, codes.Internal},
	{store.ErrSnapshotMismatch, codes.Internal},

	// Replication: transient, retriable (RESP's TRYAGAIN / CLUSTERDOWN).
	// ErrOutcomeUnknown and ErrForward mean a write may or may not have been
	// applied; UNAVAILABLE is still the code (gRPC's own definition warns that
	// retrying a non-idempotent call after it is not always safe) and the
	// message says so.
	{engine.ErrNoLeader, codes.Unavailable},
	{engine.ErrNotLeader, codes.Unavailable},
	{engine.ErrOutcomeUnknown, codes.Unavailable},
	{engine.ErrTimeout, codes.Unavailable},
	{engine.ErrForward, codes.Unavailable},
	{engine.ErrDial, codes.Unavailable},
	{engine.ErrClosed, codes.Unavailable},
	{engine.ErrLogClosed, codes.Unavailable},

	// The caller's context.
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// redisCodes maps the code word of a Redis error reply ("WRONGTYPE ...",
// "TRYAGAIN ...") to a gRPC code, for errors that reach this edge only as
// reply text (a reply relayed from the leader that the API did not turn back
// into a sentinel). Errors without a known word are UNKNOWN.
var redisCodes = map[string]codes.Code{
	"WRONGTYPE":   codes.FailedPrecondition,
	"TRYAGAIN":    codes.Unavailable,
	"CLUSTERDOWN": codes.Unavailable,
	"LOADING":     codes.Unavailable,
	"MASTERDOWN":  codes.Unavailable,
	"READONLY":    codes.Unavailable,
	"BUSY":        codes.Unavailable,
	"NOAUTH":      codes.Unauthenticated,
	"NOPERM":      codes.PermissionDenied,
	"OOM":         codes.ResourceExhausted,
	"EXECABORT":   codes.Aborted,
}

// codeOf returns the gRPC code for err (see errorTable).
func codeOf(err error) codes.Code {
	if st, ok := status.FromError(err); ok {
		return st.Code() // already a status (nil is OK, but toStatus handles it)
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, ' '); i > 0 {
		if c, ok := redisCodes[msg[:i]]; ok {
			return c
		}
	}
	return codes.Unknown
}

// toStatus turns an error from the API into the status error a handler
// returns: the mapped code, the error's own text as the message (it says
// what went wrong), and for ErrCompacted a google.rpc.ErrorInfo naming the
// oldest token still available. nil stays nil; a status error passes
// through unchanged.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	st := status.New(codeOf(err), err.Error())
	var ce *command.CompactedError
	if errors.As(err, &ce) {
		info := &errdetails.ErrorInfo{
			Reason: ReasonCompacted,
			Domain: errorDomain,
			Metadata: map[string]string{
				"oldest_token":    ce.Oldest,
				"oldest_revision": strconv.FormatUint(ce.OldestRevision, 10),
			},
		}
		if d, derr := st.WithDetails(info); derr == nil {
			st = d
		}
	}
	return st.Err()
}

// invalidArg returns an INVALID_ARGUMENT status with msg.
func invalidArg(msg string) error { return status.Error(codes.InvalidArgument, msg) }
