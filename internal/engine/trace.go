package engine

import (
	"context"
	"encoding/hex"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/skiffdb/skiff/internal/replication"
)

// Tracing. With Options.TracerProvider nil (or the no-op provider) e.tr is
// nil and every hook below is one nil check. Otherwise:
//
//   - a proposal whose ctx carries a sampled span records, as its children,
//     "raft.propose" (the engine's part: encoding, handing the entry to raft),
//     "raft.commit" (from the hand-off until the entry is committed and
//     applied on this node, the leader) and, as a child of raft.commit,
//     "raft.apply" (the FSM applying the batch of entries that held it, with
//     the FSM's own timestamps). A proposal without a sampled span records
//     nothing: the engine never starts a trace of its own.
//   - Forward records "skiff.forward" (a child of ctx's span, or a new root
//     subject to the sampler for a RESP client) and, when sampled, sends its
//     trace context to the leader (SKIFF.FWD's optional traceparent), whose
//     spans continue the trace.

// TracerName is the instrumentation scope of skiff's own spans.
const TracerName = "github.com/skiffdb/skiff"

// applyTimer is implemented by a Log that can report when the FSM applied
// an entry (*replication.Raft).
type applyTimer interface{ SetApplyTiming(on bool) }

// initTracing sets e.tr from the provider and turns on the log's apply
// timestamps when tracing is on.
func (e *Engine) initTracing(tp trace.TracerProvider) {
	if tp == nil {
		return
	}
	if _, off := tp.(noop.TracerProvider); off {
		return
	}
	e.tr = tp.Tracer(TracerName)
	if at, ok := e.rlog.(applyTimer); ok {
		at.SetApplyTiming(true)
	}
}

// Tracer returns the tracer skiff's components start their spans with, nil
// when tracing is off (the command layer checks this on its hot path).
func (e *Engine) Tracer() trace.Tracer { return e.tr }

// spanStart returns the time a proposal began when it is traced (the start
// of its raft.propose span), the zero time otherwise. Inlined: a nil check
// when tracing is off.
func (e *Engine) spanStart(ctx context.Context) time.Time {
	if e.tr == nil {
		return time.Time{}
	}
	return sampledNow(ctx)
}

func sampledNow(ctx context.Context) time.Time {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return time.Time{}
	}
	return time.Now()
}

// replicateTraced hands entry (n operations) to the log and waits for its
// response ([]store.Result) when tracing is on (e.tr != nil), recording the
// raft spans when ctx's span is sampled.
func (e *Engine) replicateTraced(ctx context.Context, entry []byte, n int, start time.Time) (any, error) {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		resp, err := e.rlog.Apply(ctx, entry)
		return unwrapApplied(resp), err
	}
	_, ps := e.tr.Start(ctx, "raft.propose", trace.WithTimestamp(start),
		trace.WithAttributes(attribute.Int("skiff.ops", n), attribute.Int("skiff.entry_bytes", len(entry))))
	ps.End()
	cctx, cs := e.tr.Start(ctx, "raft.commit")
	defer cs.End()
	resp, err := e.rlog.Apply(ctx, entry)
	if err != nil {
		cs.RecordError(err)
		cs.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	if a, ok := resp.(*replication.Applied); ok {
		cs.SetAttributes(attribute.Int64("raft.index", int64(a.Index)))
		_, as := e.tr.Start(cctx, "raft.apply", trace.WithTimestamp(a.Start),
			trace.WithAttributes(attribute.Int64("raft.index", int64(a.Index)), attribute.Int("raft.apply.batch_entries", a.Entries)))
		as.End(trace.WithTimestamp(a.End))
		return a.Results, nil
	}
	return resp, nil
}

// unwrapApplied returns the FSM's results from a timed response.
func unwrapApplied(resp any) any {
	if a, ok := resp.(*replication.Applied); ok {
		return a.Results
	}
	return resp
}

// traceparentLen is the length of a version-00 W3C traceparent:
// 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>.
const traceparentLen = 55

// AppendTraceparent appends sc as a W3C traceparent header value.
func AppendTraceparent(dst []byte, sc trace.SpanContext) []byte {
	tid, sid := sc.TraceID(), sc.SpanID()
	dst = append(dst, "00-"...)
	dst = hex.AppendEncode(dst, tid[:])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, sid[:])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, []byte{byte(sc.TraceFlags())})
}

// IsTraceparent reports whether b has the shape of a traceparent, which no
// database number has (SKIFF.FWD's optional first argument).
func IsTraceparent(b []byte) bool {
	return len(b) == traceparentLen && b[2] == '-' && b[35] == '-' && b[52] == '-'
}

// ParseTraceparent parses a version-00 W3C traceparent into a remote span
// context; ok is false when b is not a valid one.
func ParseTraceparent(b []byte) (sc trace.SpanContext, ok bool) {
	if !IsTraceparent(b) || b[0] != '0' || b[1] != '0' {
		return trace.SpanContext{}, false
	}
	var cfg trace.SpanContextConfig
	var flags [1]byte
	if _, err := hex.Decode(cfg.TraceID[:], b[3:35]); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(cfg.SpanID[:], b[36:52]); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(flags[:], b[53:55]); err != nil {
		return trace.SpanContext{}, false
	}
	cfg.TraceFlags = trace.TraceFlags(flags[0]) & trace.FlagsSampled
	cfg.Remote = true
	sc = trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// forwardTraced is Forward with a "skiff.forward" span; the trace context
// travels to the leader when the span is sampled.
func (e *Engine) forwardTraced(ctx context.Context, db, proto int, args [][]byte) ([]byte, error) {
	ctx, span := e.tr.Start(ctx, "skiff.forward", trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	var tp []byte
	if sc := span.SpanContext(); sc.IsSampled() {
		tp = AppendTraceparent(make([]byte, 0, traceparentLen), sc)
	}
	reply, err := e.forward(ctx, tp, db, proto, args)
	if span.IsRecording() {
		if len(args) > 0 {
			span.SetAttributes(attribute.String("db.operation.name", commandName(args[0])))
		}
		_, leader := e.rlog.Leader()
		span.SetAttributes(attribute.String("skiff.leader", leader))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else if len(reply) > 0 && reply[0] == '-' {
			span.SetStatus(codes.Error, "error reply")
		}
	}
	return reply, err
}

// commandName returns a command name lowercased and cut to 64 bytes, for
// attributes.
func commandName(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}
