package command

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// Tracing in the command layer. The tracer is the engine's (nil when
// tracing is off: every hook here is then a type check and a nil check).
// Spans started here:
//
//   - "resp.batch": one per pipeline batch a RESP client's writes are
//     proposed in (FlushBatch), a new root subject to the sampler; not per
//     command, so an unsampled pipeline costs one sampling decision.
//   - "skiff.forwarded": on the leader, a request a follower forwarded with
//     its trace context (SKIFF.FWD <traceparent> ...), a child of the
//     follower's "skiff.forward" span; the request's proposal (its raft
//     spans) happens inside it.
//
// API calls (gRPC, REST) arrive with the front door's span in their context
// (apiclient.go sets it on the internal client's Ctx): Ctx.Propose passes it
// to the engine, and route forwards with it (routeCtx).

// tracer returns the tracer of the engine, nil when tracing is off or the
// engine is not skiff's (a test double).
func (s *Server) tracer() trace.Tracer {
	if e, ok := s.eng.(*engine.Engine); ok {
		return e.Tracer()
	}
	return nil
}

// routeCtx is the context route forwards with: the server's (whose
// cancellation and the forwarding deadline bound a forward, whatever the
// caller's context), carrying the span of c's request context when an API
// call is traced.
func (s *Server) routeCtx(c *Ctx) context.Context {
	if s.tracer() == nil || c.ctx == s.ctx {
		return s.ctx
	}
	return withSpanOf(s.ctx, c.ctx)
}

// withSpanOf returns ctx carrying from's span when from has a valid one.
func withSpanOf(ctx, from context.Context) context.Context {
	if sp := trace.SpanFromContext(from); sp.SpanContext().IsValid() {
		return trace.ContextWithSpan(ctx, sp)
	}
	return ctx
}

// proposeBatchTraced proposes c's pipeline batch b with tracing on: in the
// span of a traced forwarded request (execForwarded), or in a new
// "resp.batch" span for a RESP client (none for a forwarded request without
// trace context: the follower chose not to sample it).
func (s *Server) proposeBatchTraced(tr trace.Tracer, c *Client, b *batch) ([]store.Result, error) {
	switch {
	case c.ctx.ctx != s.ctx:
		return s.eng.ProposeBatch(withSpanOf(s.ctx, c.ctx.ctx), b.entry, b.ops)
	case c.Internal:
		return s.eng.ProposeBatch(s.ctx, b.entry, b.ops)
	}
	ctx, span := tr.Start(s.ctx, "resp.batch", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("skiff.batch.ops", b.ops), attribute.Int64("skiff.client_id", c.ID))
	}
	rs, err := s.eng.ProposeBatch(ctx, b.entry, b.ops)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return rs, err
}

// execForwarded runs args, a request forwarded with the traceparent tp, in
// a "skiff.forwarded" span continuing the follower's trace. A write queued in
// cl's pipeline batch is proposed before the span ends, so the raft spans
// are its children (a forwarding connection carries one request at a time,
// so this proposes what the connection would propose next anyway).
func (s *Server) execForwarded(cl *Client, tp []byte, args [][]byte, w *resp.Writer) {
	tr := s.tracer()
	sc, ok := engine.ParseTraceparent(tp)
	if tr == nil || !ok {
		s.Exec(cl, args, w)
		return
	}
	ctx, span := tr.Start(trace.ContextWithRemoteSpanContext(s.ctx, sc), "skiff.forwarded", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	saved := cl.ctx.ctx
	cl.ctx.ctx = ctx
	s.Exec(cl, args, w)
	if !cl.batch.empty() {
		s.FlushBatch(cl, w)
	}
	cl.ctx.ctx = saved
	if span.IsRecording() {
		name := "unknown"
		if cmd := s.table.Lookup(args[0]); cmd != nil {
			name = cmd.Name
		}
		span.SetAttributes(attribute.String("db.operation.name", name), attribute.String("db.namespace", strconv.Itoa(cl.DB)))
		if cl.ctx.failed {
			span.SetStatus(codes.Error, "error reply")
		}
	}
}
