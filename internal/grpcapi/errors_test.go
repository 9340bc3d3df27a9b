package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// sentinels names every sentinel error of the layers the gRPC edge maps.
// TestErrorTable_EverySentinelMapped parses those packages' sources, so a
// new Err* variable fails the test until it is added here and to errorTable.
var sentinels = map[string]error{
	"command.ErrNotFound":        command.ErrNotFound,
	"command.ErrInvalidArgument": command.ErrInvalidArgument,
	"command.ErrCompacted":       command.ErrCompacted,
	"command.ErrUnimplemented":   command.ErrUnimplemented,
	"command.ErrWatchOverflow":   command.ErrWatchOverflow,

	"store.ErrWrongType":        store.ErrWrongType,
	"store.ErrNotInteger":       store.ErrNotInteger,
	"store.ErrNotFloat":         store.ErrNotFloat,
	"store.ErrOverflow":         store.ErrOverflow,
	"store.ErrNaN":              store.ErrNaN,
	"store.ErrNoSuchKey":        store.ErrNoSuchKey,
	"store.ErrTooLong":          store.ErrTooLong,
	"store.ErrBadDB":            store.ErrBadDB,
	"store.ErrMalformedOp":      store.ErrMalformedOp,
	"store.ErrApplyPanic":       store.ErrApplyPanic,
	"store.ErrHashNotInteger":   store.ErrHashNotInteger,
	"store.ErrHashNotFloat":     store.ErrHashNotFloat,
	"store.ErrIndexOutOfRange":  store.ErrIndexOutOfRange,
	"store.ErrScoreNaN":         store.ErrScoreNaN,
	"store.ErrSnapshotActive":   store.ErrSnapshotActive,
	"store.ErrSnapshotDone":     store.ErrSnapshotDone,
	"store.ErrSnapshotVersion":  store.ErrSnapshotVersion,
	"store.ErrSnapshotCorrupt":  store.ErrSnapshotCorrupt,
	"store.ErrSnapshotMismatch": store.ErrSnapshotMismatch,

	"engine.ErrClosed":         engine.ErrClosed,
	"engine.ErrNotLeader":      engine.ErrNotLeader,
	"engine.ErrNoLeader":       engine.ErrNoLeader,
	"engine.ErrOutcomeUnknown": engine.ErrOutcomeUnknown,
	"engine.ErrTimeout":        engine.ErrTimeout,
	"engine.ErrLogClosed":      engine.ErrLogClosed,
	"engine.ErrForward":        engine.ErrForward,
	"engine.ErrDial":           engine.ErrDial,
}

// declaredSentinels returns "pkg.ErrX" for every exported package-level
// variable named Err* in the given files.
func declaredSentinels(t *testing.T, pkg string, files []string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						out = append(out, pkg+"."+n.Name)
					}
				}
			}
		}
	}
	return out
}

func TestErrorTable_EverySentinelMapped(t *testing.T) {
	glob := func(p string) []string {
		m, err := filepath.Glob(p)
		if err != nil || len(m) == 0 {
			t.Fatalf("no sources at %s", p)
		}
		return m
	}
	var declared []string
	declared = append(declared, declaredSentinels(t, "command", []string{filepath.Join("..", "command", "api.go")})...)
	declared = append(declared, declaredSentinels(t, "store", glob(filepath.Join("..", "store", "*.go")))...)
	declared = append(declared, declaredSentinels(t, "engine", glob(filepath.Join("..", "engine", "*.go")))...)
	sort.Strings(declared)
	for _, name := range declared {
		if _, ok := sentinels[name]; !ok {
			t.Errorf("%s is declared but not in this test's sentinels: add it here and map it in errorTable", name)
		}
	}
	for name, s := range sentinels {
		mapped := false
		for _, m := range errorTable {
			if m.err == s {
				mapped = true
			}
		}
		if !mapped {
			t.Errorf("%s is not in errorTable", name)
		}
		if c := codeOf(fmt.Errorf("wrapped: %w", s)); c == codes.Unknown || c == codes.OK {
			t.Errorf("wrapped %s maps to %v", name, c)
		}
	}
}

func TestErrorTable_Codes(t *testing.T) {
	cases := []struct {
		err  error
		want codes.Code
	}{
		// The table.
		{command.ErrNotFound, codes.NotFound},
		{fmt.Errorf("get %q: %w", "k", command.ErrNotFound), codes.NotFound},
		{store.ErrWrongType, codes.FailedPrecondition},
		{fmt.Errorf("x: %w", store.ErrWrongType), codes.FailedPrecondition},
		{engine.ErrNoLeader, codes.Unavailable},
		{fmt.Errorf("%w: empty key", command.ErrInvalidArgument), codes.InvalidArgument},
		// TRYAGAIN-type engine errors: retriable.
		{engine.ErrNotLeader, codes.Unavailable},
		{engine.ErrOutcomeUnknown, codes.Unavailable},
		{engine.ErrTimeout, codes.Unavailable},
		{engine.ErrForward, codes.Unavailable},
		{engine.ErrDial, codes.Unavailable},
		{engine.ErrClosed, codes.Unavailable},
		{engine.ErrLogClosed, codes.Unavailable},
		{&command.CompactedError{Oldest: "t1", OldestRevision: 7}, codes.OutOfRange},
		{command.ErrUnimplemented, codes.Unimplemented},
		{fmt.Errorf("%w: resume from the last token received", command.ErrWatchOverflow), codes.Unavailable},
		{store.ErrBadDB, codes.InvalidArgument},
		{store.ErrTooLong, codes.InvalidArgument},
		{store.ErrMalformedOp, codes.Internal},
		{store.ErrApplyPanic, codes.Internal},
		// Context errors.
		{context.Canceled, codes.Canceled},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		// Reply text relayed from the leader.
		{errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), codes.FailedPrecondition},
		{errors.New("TRYAGAIN the write could not be proposed in time; retry"), codes.Unavailable},
		{errors.New("CLUSTERDOWN no leader elected; retry later"), codes.Unavailable},
		{errors.New("NOAUTH Authentication required."), codes.Unauthenticated},
		// Anything else.
		{errors.New("something broke"), codes.Unknown},
		{errors.New("ERR something broke"), codes.Unknown},
		// A status passes through.
		{status.Error(codes.Aborted, "x"), codes.Aborted},
	}
	for _, c := range cases {
		err := toStatus(c.err)
		st, ok := status.FromError(err)
		if !ok {
			t.Errorf("toStatus(%v) = %v: not a status", c.err, err)
			continue
		}
		if st.Code() != c.want {
			t.Errorf("toStatus(%v) code = %v, want %v", c.err, st.Code(), c.want)
		}
		if st.Message() != c.err.Error() && !strings.Contains(c.err.Error(), st.Message()) {
			t.Errorf("toStatus(%v) message = %q, want the error's text", c.err, st.Message())
		}
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}

func TestErrorTable_CompactedDetails(t *testing.T) {
	err := toStatus(fmt.Errorf("watch: %w", &command.CompactedError{Oldest: "tok-42", OldestRevision: 42}))
	st := status.Convert(err)
	if st.Code() != codes.OutOfRange {
		t.Fatalf("code %v", st.Code())
	}
	if !strings.Contains(st.Message(), "tok-42") || !strings.Contains(st.Message(), "42") {
		t.Errorf("message %q does not name the oldest token", st.Message())
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil {
		t.Fatalf("no ErrorInfo in %v", st.Details())
	}
	if info.Reason != ReasonCompacted || info.Domain != errorDomain ||
		info.Metadata["oldest_token"] != "tok-42" || info.Metadata["oldest_revision"] != "42" {
		t.Errorf("ErrorInfo = %v", info)
	}
}
