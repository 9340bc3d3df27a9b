package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/replication"
	"github.com/skiffdb/skiff/internal/store"
)

// Errors returned by the engine. The replication sentinels are re-exported
// so front doors map them without importing replication.
var (
	ErrClosed         = errors.New("engine: closed")
	ErrNotLeader      = replication.ErrNotLeader
	ErrNoLeader       = replication.ErrNoLeader
	ErrOutcomeUnknown = replication.ErrOutcomeUnknown
	ErrTimeout        = replication.ErrTimeout
	ErrLogClosed      = replication.ErrClosed
)

// Log is the replicated log the engine proposes to (*replication.Raft).
type Log interface {
	// Apply replicates an encoded entry and returns the FSM's response
	// ([]store.Result) once it is applied on this node.
	Apply(ctx context.Context, entry []byte) (any, error)
	// ReadBarrier returns when a read of the local store is linearizable.
	ReadBarrier(ctx context.Context) error
	// IsLeader reports whether this node leads.
	IsLeader() bool
	// Leader returns the known leader's id and Raft address ("" when none).
	Leader() (id, addr string)
	// DialLeader connects to the leader's Raft port, which serves forwarded
	// requests.
	DialLeader(ctx context.Context) (net.Conn, string, error)
}

// Options configures an Engine.
type Options struct {
	Logger *slog.Logger
	// Now returns the current unix time in milliseconds; default time.Now.
	// Tests inject a clock here.
	Now func() int64
	// ExpiryInterval is the period of the active expiry cycle; default 100ms.
	ExpiryInterval time.Duration
	// Log replicates proposals. Nil applies them directly to the store, which
	// only unit tests of the command layer do: a node always has a log.
	Log Log
	// TracerProvider records spans for traced proposals and forwarded
	// requests (trace.go); nil or a no-op provider turns tracing off.
	TracerProvider trace.TracerProvider
}

// Engine is the one facade every front door (RESP, REST, gRPC) calls: reads
// on the local store, writes prepared by the caller into deterministic
// operations and proposed here.
//
// A proposal is encoded and replicated through the Raft log; every node's
// FSM decodes and applies it (op.Encode -> log -> op.Decode -> store.Apply).
type Engine struct {
	st     *store.Store
	rlog   Log
	log    *slog.Logger
	now    func() int64
	expiry time.Duration

	fwd     forwarder
	mu      sync.Mutex // serializes proposals: the store has one writer
	closed  bool
	applyOp op.Op        // reused by applyEntry under mu
	tr      trace.Tracer // nil when tracing is off (trace.go)
}

// New returns an engine over st.
func New(st *store.Store, opts Options) *Engine {
	e := &Engine{st: st, rlog: opts.Log, log: opts.Logger, now: opts.Now, expiry: opts.ExpiryInterval}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = func() int64 { return time.Now().UnixMilli() }
	}
	if e.expiry <= 0 {
		e.expiry = 100 * time.Millisecond
	}
	e.initTracing(opts.TracerProvider)
	return e
}

// Store returns the local store for reads. Callers must not apply to it.
func (e *Engine) Store() *store.Store { return e.st }

// Now returns the engine clock in unix milliseconds. A command reads it once
// and carries the value in its operation.
func (e *Engine) Now() int64 { return e.now() }

// Propose replicates o and applies it, returning the store's reply value and
// reply error (see package op for each code's reply). It may be called from
// any goroutine. ctx bounds the wait; an operation whose context ends after it
// was proposed may still be applied.
func (e *Engine) Propose(ctx context.Context, o *op.Op) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := e.spanStart(ctx)
	if o.Time == 0 {
		o.Time = e.now()
	}
	entry := op.Encode(o)
	if e.rlog == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return nil, ErrClosed
		}
		return e.applyEntry(entry)
	}
	var resp any
	var err error
	if e.tr == nil {
		resp, err = e.rlog.Apply(ctx, entry)
	} else {
		resp, err = e.replicateTraced(ctx, entry, 1, start) // trace.go
	}
	if err != nil {
		return nil, err
	}
	rs, ok := resp.([]store.Result)
	if !ok || len(rs) != 1 {
		return nil, fmt.Errorf("engine: unexpected apply response %T", resp)
	}
	return rs[0].Value, rs[0].Err
}

// ProposeBatch replicates one entry holding n encoded operations (a
// pipeline's writes) and returns their results in order. It takes ownership
// of entry: the log and the store keep slices of it, so the caller must not
// reuse it.
func (e *Engine) ProposeBatch(ctx context.Context, entry []byte, n int) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := e.spanStart(ctx)
	if e.rlog == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return nil, ErrClosed
		}
		out := make([]store.Result, 0, n)
		for len(entry) > 0 {
			var o op.Op
			rest, err := op.DecodeInto(&o, entry)
			if err != nil {
				return nil, err
			}
			v, aerr := e.st.Apply(&o)
			out = append(out, store.Result{Value: v, Err: aerr})
			entry = rest
		}
		return out, nil
	}
	var resp any
	var err error
	if e.tr == nil {
		resp, err = e.rlog.Apply(ctx, entry)
	} else {
		resp, err = e.replicateTraced(ctx, entry, n, start) // trace.go
	}
	if err != nil {
		return nil, err
	}
	rs, ok := resp.([]store.Result)
	if !ok || len(rs) != n {
		return nil, fmt.Errorf("engine: apply returned %T for %d operations", resp, n)
	}
	return rs, nil
}

// ReadBarrier returns when reads of the local store are linearizable: on
// the leader after confirming leadership (shared among concurrent callers);
// elsewhere ErrNotLeader (the read must be served by the leader).
func (e *Engine) ReadBarrier(ctx context.Context) error {
	if e.rlog == nil {
		return nil
	}
	return e.rlog.ReadBarrier(ctx)
}

// IsLeader reports whether this node accepts proposals.
func (e *Engine) IsLeader() bool { return e.rlog == nil || e.rlog.IsLeader() }

// applyEntry applies an entry directly (no log): decode the operation and
// apply it, as the FSM does with a committed entry.
func (e *Engine) applyEntry(entry []byte) (any, error) {
	rest, err := op.DecodeInto(&e.applyOp, entry)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, op.ErrTruncated
	}
	return e.st.Apply(&e.applyOp)
}

// Run runs the engine's background work (the active expiry cycle) until ctx
// ends, then refuses further proposals.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.expiry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			e.closed = true
			e.mu.Unlock()
			e.fwd.closeAll()
			return nil
		case <-t.C:
			e.expireCycle(ctx)
		}
	}
}

// expireBatch bounds one Expired operation; expireBudget bounds one cycle.
const (
	expireBatch  = 256
	expireBudget = 25 * time.Millisecond
)

// expireCycle removes expired keys through the log: it finds keys past their
// deadline (a read) and proposes their deletion; apply re-checks each deadline
// against the operation's time, so the result is the same on every replica.
func (e *Engine) expireCycle(ctx context.Context) {
	if !e.IsLeader() {
		return // followers never delete on their own: the leader's deletions arrive through the log
	}
	start := time.Now()
	for dbi := 0; dbi < e.st.Databases(); dbi++ {
		for time.Since(start) < expireBudget {
			now := e.now()
			keys := e.st.ExpiredKeys(dbi, now, expireBatch)
			if len(keys) == 0 {
				break
			}
			if _, err := e.Propose(ctx, &op.Op{Code: op.Expired, DB: dbi, Time: now, Args: keys}); err != nil {
				e.log.Debug("expiry proposal failed", "err", err)
				return
			}
			if len(keys) < expireBatch {
				break
			}
		}
	}
}
