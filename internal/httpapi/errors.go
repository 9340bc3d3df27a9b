package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// Every error answer has the body {"error": {"code": "...", "message":
// "..."}} (plus a few code-specific fields) and Content-Type
// application/json. The codes are stable; messages are for people.
const (
	codeInvalidArgument    = "invalid_argument"    // 400
	codeNotFound           = "not_found"           // 404
	codeMethodNotAllowed   = "method_not_allowed"  // 405
	codeWrongType          = "wrong_type"          // 409
	codeCompacted          = "compacted"           // 410
	codePreconditionFailed = "precondition_failed" // 412
	codeTooLarge           = "too_large"           // 413
	codeInternal           = "internal"            // 500
	codeUnimplemented      = "unimplemented"       // 501
	codeUnavailable        = "unavailable"         // 503, with Retry-After
)

// errorTable maps every sentinel the keyspace API may return (its own, and
// the store and engine ones it wraps) to an HTTP status and code.
// TestErrorTable_EverySentinelMapped keeps it complete. msg, when set,
// replaces the error's own text (the engine's are terse).
var errorTable = []struct {
	err    error
	status int
	code   string
	msg    string
}{
	{command.ErrNotFound, http.StatusNotFound, codeNotFound, ""},
	{store.ErrNoSuchKey, http.StatusNotFound, codeNotFound, ""},
	{command.ErrInvalidArgument, http.StatusBadRequest, codeInvalidArgument, ""},
	{store.ErrBadDB, http.StatusBadRequest, codeInvalidArgument, "DB index is out of range"},
	{store.ErrWrongType, http.StatusConflict, codeWrongType, "the key holds a value of another type (not a string)"},
	{store.ErrTooLong, http.StatusRequestEntityTooLarge, codeTooLarge, "the value exceeds the maximum string size (proto-max-bulk-len)"},
	{command.ErrCompacted, http.StatusGone, codeCompacted, ""},
	{command.ErrUnimplemented, http.StatusNotImplemented, codeUnimplemented, ""},
	// A watch that fell behind: its client resumes from the last token
	// (an EventSource does so by itself with Last-Event-ID).
	{command.ErrWatchOverflow, http.StatusServiceUnavailable, codeUnavailable, ""},
	{engine.ErrNoLeader, http.StatusServiceUnavailable, codeUnavailable, "no leader elected; retry later"},
	{engine.ErrNotLeader, http.StatusServiceUnavailable, codeUnavailable, "this node is not the leader; retry (or send the request to the leader)"},
	{engine.ErrOutcomeUnknown, http.StatusServiceUnavailable, codeUnavailable, "leadership changed while the write was in flight: its outcome is unknown"},
	{engine.ErrTimeout, http.StatusServiceUnavailable, codeUnavailable, "the write could not be proposed in time; retry"},
	{engine.ErrForward, http.StatusServiceUnavailable, codeUnavailable, "the leader could not be reached; retry"},
	{engine.ErrDial, http.StatusServiceUnavailable, codeUnavailable, "the leader could not be reached; retry"},
	{engine.ErrClosed, http.StatusServiceUnavailable, codeUnavailable, "this node is shutting down; retry on another"},
	{engine.ErrLogClosed, http.StatusServiceUnavailable, codeUnavailable, "this node is shutting down; retry on another"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, codeUnavailable, "the request timed out; retry"},
	{context.Canceled, http.StatusServiceUnavailable, codeUnavailable, "the request was canceled (client gone or node shutting down)"},
}

// apiError is an error answer decided here (bad query parameters, a failed
// precondition) rather than by the API.
type apiError struct {
	status int
	code   string
	msg    string
	// Optional fields of the error object.
	revision       *uint64 // precondition_failed: the key's current revision (0 = absent)
	oldest         string  // compacted: the oldest token a watch can resume from
	oldestRevision uint64
}

func (e *apiError) Error() string { return e.msg }

func invalidf(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

// errorJSON is the body of every error answer.
type errorJSON struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code           string  `json:"code"`
	Message        string  `json:"message"`
	Revision       *uint64 `json:"revision,omitempty"`
	OldestToken    string  `json:"oldest_token,omitempty"`
	OldestRevision uint64  `json:"oldest_revision,omitempty"`
}

// toAPIError maps any error to its answer: an *apiError as it is, a sentinel
// through errorTable, a request body over the limit to 413, anything else to
// 500 internal.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
			msg: fmt.Sprintf("the request body exceeds the limit of %d bytes", mbe.Limit)}
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			e := &apiError{status: m.status, code: m.code, msg: m.msg}
			if e.msg == "" {
				e.msg = err.Error()
			}
			var ce *command.CompactedError
			if errors.As(err, &ce) {
				e.oldest, e.oldestRevision = ce.Oldest, ce.OldestRevision
			}
			return e
		}
	}
	// An error relayed as Redis reply text (a forwarded request) still
	// says what it is.
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "WRONGTYPE"):
		return &apiError{status: http.StatusConflict, code: codeWrongType, msg: msg}
	case strings.HasPrefix(msg, "CLUSTERDOWN"), strings.HasPrefix(msg, "TRYAGAIN"):
		return &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: msg}
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: msg}
}

// writeError answers err (see toAPIError). A 503 carries Retry-After: 1.
func writeError(w http.ResponseWriter, err error) {
	e := toAPIError(err)
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, errorBody(e))
}

func errorBody(e *apiError) errorJSON {
	return errorJSON{Error: errorDetail{Code: e.code, Message: e.msg, Revision: e.revision,
		OldestToken: e.oldest, OldestRevision: e.oldestRevision}}
}

// fail answers err and logs it when it is an internal error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	if e.status == http.StatusInternalServerError {
		h.log.Error("http request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, e)
}
