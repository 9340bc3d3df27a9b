package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// TestErrorTable_EverySentinelMapped: each sentinel the keyspace API may
// return (its own, and the store and engine ones it wraps) has its status
// and code, also when wrapped.
func TestErrorTable_EverySentinelMapped(t *testing.T) {
	want := []struct {
		err    error
		status int
		code   string
	}{
		{command.ErrNotFound, 404, codeNotFound},
		{command.ErrInvalidArgument, 400, codeInvalidArgument},
		{command.ErrCompacted, 410, codeCompacted},
		{command.ErrUnimplemented, 501, codeUnimplemented},
		{command.ErrWatchOverflow, 503, codeUnavailable},
		{store.ErrWrongType, 409, codeWrongType},
		{store.ErrNoSuchKey, 404, codeNotFound},
		{store.ErrBadDB, 400, codeInvalidArgument},
		{store.ErrTooLong, 413, codeTooLarge},
		{engine.ErrNoLeader, 503, codeUnavailable},
		{engine.ErrNotLeader, 503, codeUnavailable},
		{engine.ErrOutcomeUnknown, 503, codeUnavailable},
		{engine.ErrTimeout, 503, codeUnavailable},
		{engine.ErrForward, 503, codeUnavailable},
		{engine.ErrDial, 503, codeUnavailable},
		{engine.ErrClosed, 503, codeUnavailable},
		{engine.ErrLogClosed, 503, codeUnavailable},
		{context.DeadlineExceeded, 503, codeUnavailable},
		{context.Canceled, 503, codeUnavailable},
	}
	if len(want) != len(errorTable) {
		t.Errorf("errorTable has %d entries, this test %d: keep them together", len(errorTable), len(want))
	}
	for _, w := range want {
		for _, err := range []error{w.err, fmt.Errorf("op: %w", w.err)} {
			e := toAPIError(err)
			if e.status != w.status || e.code != w.code || e.msg == "" {
				t.Errorf("%v -> %d %q %q, want %d %q", err, e.status, e.code, e.msg, w.status, w.code)
			}
			rec := httptest.NewRecorder()
			writeError(rec, err)
			if rec.Code != w.status || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("%v: answered %d %q", err, rec.Code, rec.Header().Get("Content-Type"))
			}
			if (w.status == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Errorf("%v: Retry-After %q with status %d", err, rec.Header().Get("Retry-After"), w.status)
			}
		}
	}
	// Wrapped details survive in the message.
	if e := toAPIError(fmt.Errorf("%w: limit must be positive", command.ErrInvalidArgument)); !strings.Contains(e.msg, "limit must be positive") {
		t.Errorf("message %q lost the detail", e.msg)
	}
}

func TestErrors_Shapes(t *testing.T) {
	ce := &command.CompactedError{Oldest: "tok-9", OldestRevision: 9}
	e := toAPIError(fmt.Errorf("watch: %w", ce))
	if e.status != 410 || e.code != codeCompacted || e.oldest != "tok-9" || e.oldestRevision != 9 {
		t.Errorf("compacted -> %+v", e)
	}
	if e := toAPIError(&http.MaxBytesError{Limit: 10}); e.status != 413 || e.code != codeTooLarge {
		t.Errorf("MaxBytesError -> %+v", e)
	}
	for msg, want := range map[string]int{
		"WRONGTYPE Operation against a key holding the wrong kind of value": 409,
		"CLUSTERDOWN no leader elected; retry later":                        503,
		"TRYAGAIN the leader could not be reached; retry":                   503,
		"something odd": 500,
	} {
		if e := toAPIError(errors.New(msg)); e.status != want || e.msg != msg {
			t.Errorf("%q -> %+v, want %d", msg, e, want)
		}
	}

	// The JSON body, exactly.
	rec := httptest.NewRecorder()
	writeError(rec, invalidf("bad <thing>"))
	if got := rec.Body.String(); got != `{"error":{"code":"invalid_argument","message":"bad <thing>"}}`+"\n" {
		t.Errorf("body %s", got)
	}
	rev := uint64(0)
	rec = httptest.NewRecorder()
	writeError(rec, &apiError{status: 412, code: codePreconditionFailed, msg: "m", revision: &rev})
	if got := rec.Body.String(); got != `{"error":{"code":"precondition_failed","message":"m","revision":0}}`+"\n" {
		t.Errorf("body %s", got)
	}
}

// TestRoutes_UnmatchedAreJSON: unknown paths and methods get JSON errors.
func TestRoutes_UnmatchedAreJSON(t *testing.T) {
	e := newEnv(t, newFakeAPI(), Options{})
	e.do("GET", "/nope", nil).errorCode(t, 404, codeNotFound)
	e.do("GET", "/v1/kvx", nil).errorCode(t, 404, codeNotFound)
	a := e.do("POST", kvPath("k"), []byte("v"))
	a.errorCode(t, 405, codeMethodNotAllowed)
	if allow := a.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
		t.Errorf("Allow %q", allow)
	}
	e.do("PATCH", "/v1/cluster", nil).errorCode(t, 405, codeMethodNotAllowed)
	e.do("PUT", "/v1/watch", nil).errorCode(t, 405, codeMethodNotAllowed)
	// ServeMux redirects /v1/kv to /v1/kv/ for methods only the {key...}
	// pattern has: the key is empty there.
	e.do("DELETE", "/v1/kv", nil).errorCode(t, 400, codeInvalidArgument)
	e.do("GET", "/v1/queues/q/messages", nil).errorCode(t, 405, codeMethodNotAllowed)

	// Routes added through Mux are served, and they keep the JSON 404s.
	e.h.Mux().HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("m 1\n")) })
	if a := e.do("GET", "/metrics", nil); a.status != 200 || string(a.body) != "m 1\n" {
		t.Errorf("/metrics: %d %q", a.status, a.body)
	}
	e.do("POST", "/metrics", nil).errorCode(t, 405, codeMethodNotAllowed)
}
