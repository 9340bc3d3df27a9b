package engine

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/replication"
	"github.com/skiffdb/skiff/internal/store"
)

// timedLog is a Log that answers every entry as the FSM does with apply
// timing on (an *replication.Applied) once SetApplyTiming(true) was called.
type timedLog struct {
	timing bool
	index  uint64
}

func (l *timedLog) SetApplyTiming(on bool) { l.timing = on }

func (l *timedLog) Apply(_ context.Context, entry []byte) (any, error) {
	var rs []store.Result
	for len(entry) > 0 {
		var o op.Op
		rest, err := op.DecodeInto(&o, entry)
		if err != nil {
			return nil, err
		}
		rs = append(rs, store.Result{Value: int64(len(rs))})
		entry = rest
	}
	if !l.timing {
		return rs, nil
	}
	l.index++
	start := time.Now()
	time.Sleep(time.Millisecond)
	return &replication.Applied{Results: rs, Index: l.index, Start: start, End: time.Now(), Entries: 1}, nil
}

func (l *timedLog) ReadBarrier(context.Context) error { return nil }
func (l *timedLog) IsLeader() bool                    { return true }
func (l *timedLog) Leader() (string, string)          { return "n1", "127.0.0.1:1" }
func (l *timedLog) DialLeader(context.Context) (net.Conn, string, error) {
	return nil, "", ErrNotLeader
}

func TestTraceparent_RoundTrip(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 0xff},
		TraceFlags: trace.FlagsSampled,
	})
	tp := AppendTraceparent(nil, sc)
	if want := "00-deadbeef0102030405060708090a0b0c-01020304050607ff-01"; string(tp) != want {
		t.Fatalf("traceparent %s, want %s", tp, want)
	}
	got, ok := ParseTraceparent(tp)
	if !ok || got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsSampled() || !got.IsRemote() {
		t.Fatalf("parsed %v %v", got, ok)
	}
	for _, bad := range []string{
		"", "0", "15", "-1", strconv.Itoa(1 << 30),
		"01-deadbeef0102030405060708090a0b0c-01020304050607ff-01", // unknown version
		"00-00000000000000000000000000000000-01020304050607ff-01", // zero trace id
		"00-deadbeef0102030405060708090a0b0c-0000000000000000-01", // zero span id
		"00-deadbeef0102030405060708090a0b0c-01020304050607fg-01", // not hex
	} {
		if _, ok := ParseTraceparent([]byte(bad)); ok {
			t.Errorf("ParseTraceparent(%q) accepted it", bad)
		}
	}
	for db := 0; db < 1000; db++ { // a database number is never taken for a traceparent
		if IsTraceparent(strconv.AppendInt(nil, int64(db), 10)) {
			t.Fatalf("db %d looks like a traceparent", db)
		}
	}
	sent := appendFwd(nil, tp, 3, 2, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})
	want := "*7\r\n$9\r\nSKIFF.FWD\r\n$55\r\n" + string(tp) + "\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	if string(sent) != want {
		t.Fatalf("SKIFF.FWD with trace context:\n%q\nwant\n%q", sent, want)
	}
}

// A proposal inside a sampled span records raft.propose and raft.commit as
// its children and raft.apply (with the FSM's timestamps) under raft.commit;
// one outside any sampled span records nothing. Results are unwrapped
// either way.
func TestEngineTracing_RaftSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	l := &timedLog{}
	e := New(store.New(store.Options{}), Options{Log: l, TracerProvider: tp})
	if !l.timing || e.Tracer() == nil {
		t.Fatal("tracing on, but apply timing or the tracer is off")
	}

	if v, err := e.Propose(context.Background(), &op.Op{Code: op.Set, Args: [][]byte{[]byte("k"), []byte("v")}}); err != nil || v != int64(0) {
		t.Fatalf("untraced Propose: %v %v", v, err)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans recorded without a sampled parent", n)
	}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	entry := op.AppendEncode(nil, &op.Op{Code: op.Set, Time: 1, Args: [][]byte{[]byte("a"), []byte("1")}})
	entry = op.AppendEncode(entry, &op.Op{Code: op.Set, Time: 1, Args: [][]byte{[]byte("b"), []byte("2")}})
	rs, err := e.ProposeBatch(ctx, entry, 2)
	parent.End()
	if err != nil || len(rs) != 2 {
		t.Fatalf("ProposeBatch: %v %v", rs, err)
	}
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	if len(spans) != 4 {
		t.Fatalf("spans %v, want parent and the three raft stages", spans)
	}
	psc := parent.SpanContext()
	prop, commit, apply := spans["raft.propose"], spans["raft.commit"], spans["raft.apply"]
	switch {
	case prop == nil || commit == nil || apply == nil:
		t.Fatalf("missing a raft span: %v", spans)
	case prop.Parent().SpanID() != psc.SpanID() || commit.Parent().SpanID() != psc.SpanID():
		t.Fatal("raft.propose and raft.commit are not children of the caller's span")
	case apply.Parent().SpanID() != commit.SpanContext().SpanID():
		t.Fatal("raft.apply is not a child of raft.commit")
	case apply.StartTime().Before(commit.StartTime()) || apply.EndTime().After(commit.EndTime()):
		t.Fatal("raft.apply lies outside raft.commit")
	case apply.EndTime().Sub(apply.StartTime()) < time.Millisecond:
		t.Fatalf("raft.apply lasted %v: not the FSM's timestamps", apply.EndTime().Sub(apply.StartTime()))
	}
}

// With no provider or the no-op one, the engine has no tracer and leaves the
// log's apply timing off.
func TestEngineTracing_OffIsOff(t *testing.T) {
	for _, tp := range []trace.TracerProvider{nil, noop.NewTracerProvider()} {
		l := &timedLog{}
		e := New(store.New(store.Options{}), Options{Log: l, TracerProvider: tp})
		if l.timing || e.Tracer() != nil {
			t.Fatalf("%T: apply timing %v, tracer %v", tp, l.timing, e.Tracer())
		}
		rs, err := e.ProposeBatch(context.Background(), op.AppendEncode(nil, &op.Op{Code: op.Set, Time: 1, Args: [][]byte{[]byte("a"), []byte("1")}}), 1)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%v %v", rs, err)
		}
	}
}

// fastLog answers at once, as the FSM would (with apply timing when on).
type fastLog struct {
	timedLog
	rs []store.Result
}

func (l *fastLog) Apply(context.Context, []byte) (any, error) {
	if !l.timing {
		return l.rs, nil
	}
	now := time.Now()
	return &replication.Applied{Results: l.rs, Index: 1, Start: now, End: now, Entries: 1}, nil
}

// The engine's share of a proposal: tracing off (nil provider), on with an
// unsampled caller, on with a sampled caller (three raft spans).
func BenchmarkProposeBatch_TracingOff(b *testing.B) { benchPropose(b, nil, false) }
func BenchmarkProposeBatch_TracingUnsampled(b *testing.B) {
	benchPropose(b, sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())), false)
}
func BenchmarkProposeBatch_TracingSampled(b *testing.B) {
	benchPropose(b, sdktrace.NewTracerProvider(), true)
}

func benchPropose(b *testing.B, tp *sdktrace.TracerProvider, sampled bool) {
	l := &fastLog{rs: make([]store.Result, 16)}
	opts := Options{Log: l}
	ctx := context.Background()
	if tp != nil {
		opts.TracerProvider = tp
		var span trace.Span
		ctx, span = tp.Tracer("bench").Start(ctx, "parent")
		defer span.End()
		if span.SpanContext().IsSampled() != sampled {
			b.Fatal("sampling not as asked")
		}
	}
	e := New(store.New(store.Options{}), opts)
	entry := op.AppendEncode(nil, &op.Op{Code: op.Set, Time: 1, Args: [][]byte{[]byte("a"), []byte("1")}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.ProposeBatch(ctx, entry, 16); err != nil {
			b.Fatal(err)
		}
	}
}
