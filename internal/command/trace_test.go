package command

import (
	"bytes"
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

func tracedServer(t *testing.T) (*Server, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	eng := engine.New(store.New(store.Options{}), engine.Options{TracerProvider: tp})
	s, err := NewServer(context.Background(), Options{Engine: eng, Version: "9.9.9-test"})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func spanNames(rec *tracetest.SpanRecorder) []string {
	var out []string
	for _, s := range rec.Ended() {
		out = append(out, s.Name())
	}
	return out
}

// A RESP client's pipeline of writes is one resp.batch span, not one per
// command; reads start none.
func TestTracing_OneSpanPerPipelineBatch(t *testing.T) {
	s, rec := tracedServer(t)
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Batching = true
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	for _, k := range []string{"a", "b", "c"} {
		s.Exec(c, [][]byte{[]byte("SET"), []byte(k), []byte("v")}, w)
	}
	s.FlushBatch(c, w)
	s.Exec(c, [][]byte{[]byte("GET"), []byte("a")}, w)
	s.FlushBatch(c, w)
	_ = w.Flush()
	if got := out.String(); got != "+OK\r\n+OK\r\n+OK\r\n$1\r\nv\r\n" {
		t.Fatalf("replies %q", got)
	}
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Name() != "resp.batch" || spans[0].Parent().IsValid() {
		t.Fatalf("spans %v, want one root resp.batch", spanNames(rec))
	}
	for _, kv := range spans[0].Attributes() {
		if kv.Key == "skiff.batch.ops" && kv.Value.AsInt64() != 3 {
			t.Fatalf("skiff.batch.ops %d, want 3", kv.Value.AsInt64())
		}
	}
}

// On the leader, SKIFF.FWD with a traceparent runs in a skiff.forwarded span
// continuing the follower's trace, and its write is proposed inside it;
// without one (the follower did not sample) nothing is recorded.
func TestTracing_ForwardedRequestContinuesTrace(t *testing.T) {
	s, rec := tracedServer(t)
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Internal, c.Authed, c.Batching = true, true, true
	var out bytes.Buffer
	w := resp.NewWriter(&out)

	s.Exec(c, [][]byte{[]byte("SKIFF.FWD"), []byte("0"), []byte("2"), []byte("SET"), []byte("k"), []byte("v")}, w)
	s.FlushBatch(c, w)
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("untraced forward recorded %v", spanNames(rec))
	}

	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, SpanID: trace.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		TraceFlags: trace.FlagsSampled,
	})
	tp := engine.AppendTraceparent(nil, parent)
	s.Exec(c, [][]byte{[]byte("SKIFF.FWD"), tp, []byte("1"), []byte("3"), []byte("SET"), []byte("k"), []byte("w")}, w)
	spans := rec.Ended() // ended before the reply is even flushed: the batch was proposed inside
	if len(spans) != 1 || spans[0].Name() != "skiff.forwarded" {
		t.Fatalf("spans %v, want skiff.forwarded", spanNames(rec))
	}
	if sc := spans[0].SpanContext(); sc.TraceID() != parent.TraceID() || spans[0].Parent().SpanID() != parent.SpanID() {
		t.Fatalf("skiff.forwarded in trace %v under %v, want under %v", sc.TraceID(), spans[0].Parent().SpanID(), parent.SpanID())
	}
	s.FlushBatch(c, w)
	_ = w.Flush()
	if got := out.String(); got != "+OK\r\n+OK\r\n" {
		t.Fatalf("replies %q", got)
	}
	if c.DB != 1 || c.Proto != 3 {
		t.Fatalf("db %d proto %d after the traced forward, want 1 and 3", c.DB, c.Proto)
	}
	if v, _, _ := s.eng.Store().Get(1, []byte("k"), s.eng.Now()); string(v) != "w" {
		t.Fatalf("db 1 k = %q", v)
	}

	// A traceparent with nothing after db and proto is a wrong arity, as
	// without one.
	out.Reset()
	s.Exec(c, [][]byte{[]byte("SKIFF.FWD"), tp, []byte("0"), []byte("2")}, w)
	_ = w.Flush()
	if got := out.String(); got != "-ERR wrong number of arguments for 'skiff.fwd' command\r\n" {
		t.Fatalf("short traced forward: %q", got)
	}
}

// The pipeline write path with tracing on: every batch unsampled (the
// cost of one sampling decision per batch) and every batch sampled. Compare
// with BenchmarkExec_SETBatch16 (tracing off).
func BenchmarkExec_SETBatch16TracedUnsampled(b *testing.B) {
	benchExecTraced(b, sdktrace.NeverSample())
}

func BenchmarkExec_SETBatch16TracedSampled(b *testing.B) {
	benchExecTraced(b, sdktrace.AlwaysSample())
}

func benchExecTraced(b *testing.B, sampler sdktrace.Sampler) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler)) // spans recorded, exported nowhere
	defer func() { _ = tp.Shutdown(context.Background()) }()
	eng := engine.New(store.New(store.Options{}), engine.Options{TracerProvider: tp})
	s, err := NewServer(context.Background(), Options{Engine: eng})
	if err != nil {
		b.Fatal(err)
	}
	c := s.NewClient("127.0.0.1:1", "127.0.0.1:2")
	defer s.RemoveClient(c)
	c.Batching = true
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	argv := [][]byte{[]byte("SET"), []byte("key:000000000001"), []byte("xxx")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Exec(c, argv, w)
		if (i+1)%16 == 0 {
			s.FlushBatch(c, w)
			_ = w.Flush()
			out.Reset()
		}
	}
}
