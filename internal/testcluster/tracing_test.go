package testcluster_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/testcluster"
)

// tracedCluster starts n nodes, each with its own tracer provider (sampling
// everything a caller does not decide otherwise) exporting synchronously
// into one in-memory exporter, and returns the exporter with a caller's
// provider on the same exporter.
func tracedCluster(t *testing.T, n int) (*testcluster.Cluster, *tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	provider := func(instance string) *sdktrace.TracerProvider {
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSyncer(exp),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.instance.id", instance))),
		)
		t.Cleanup(func() { _ = tp.Shutdown(ctx) }) // runs after the cluster stopped
		return tp
	}
	tps := make([]*sdktrace.TracerProvider, n)
	for i := range tps {
		tps[i] = provider(fmt.Sprintf("n%d", i+1))
	}
	c := testcluster.Start(t, n, func(i int, cfg *config.Config) { cfg.TracerProvider = tps[i] })
	return c, exp, provider("caller")
}

// spanTree indexes one trace's spans.
type spanTree struct {
	byID  map[trace.SpanID]tracetest.SpanStub
	spans []tracetest.SpanStub
}

func traceOf(exp *tracetest.InMemoryExporter, id trace.TraceID) spanTree {
	st := spanTree{byID: map[trace.SpanID]tracetest.SpanStub{}}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == id {
			st.byID[s.SpanContext.SpanID()] = s
			st.spans = append(st.spans, s)
		}
	}
	return st
}

// child returns the one span named name whose parent is parent.
func (st spanTree) child(parent tracetest.SpanStub, name string) (tracetest.SpanStub, error) {
	var found []tracetest.SpanStub
	for _, s := range st.spans {
		if s.Name == name && s.Parent.SpanID() == parent.SpanContext.SpanID() {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		return tracetest.SpanStub{}, fmt.Errorf("%d spans %q under %q, want 1; trace:\n%s", len(found), name, parent.Name, st)
	}
	return found[0], nil
}

// path follows names down from root, each a child of the previous.
func (st spanTree) path(root tracetest.SpanStub, names ...string) ([]tracetest.SpanStub, error) {
	out := []tracetest.SpanStub{root}
	for _, name := range names {
		s, err := st.child(out[len(out)-1], name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (st spanTree) String() string {
	var b strings.Builder
	for _, s := range st.spans {
		parent := "-"
		if p, ok := st.byID[s.Parent.SpanID()]; ok {
			parent = p.Name
		}
		fmt.Fprintf(&b, "  %s on %s (parent %s)\n", s.Name, instance(s), parent)
	}
	return b.String()
}

func instance(s tracetest.SpanStub) string {
	if s.Resource == nil {
		return "?"
	}
	v, _ := s.Resource.Set().Value("service.instance.id")
	return v.AsString()
}

// raftStages checks the raft spans of a write under parent, on the leader:
// raft.propose and raft.commit are its children, raft.apply is raft.commit's
// and lies within it.
func (st spanTree) raftStages(parent tracetest.SpanStub, leader string) error {
	prop, err := st.child(parent, "raft.propose")
	if err != nil {
		return err
	}
	commit, err := st.child(parent, "raft.commit")
	if err != nil {
		return err
	}
	apply, err := st.child(commit, "raft.apply")
	if err != nil {
		return err
	}
	for _, s := range []tracetest.SpanStub{prop, commit, apply} {
		if instance(s) != leader {
			return fmt.Errorf("%s recorded on %s, want the leader %s", s.Name, instance(s), leader)
		}
	}
	if prop.EndTime.After(commit.StartTime.Add(time.Millisecond)) {
		return fmt.Errorf("raft.propose ends at %v, after raft.commit starts at %v", prop.EndTime, commit.StartTime)
	}
	if apply.StartTime.Before(commit.StartTime) || apply.EndTime.After(commit.EndTime) || apply.EndTime.Before(apply.StartTime) {
		return fmt.Errorf("raft.apply [%v, %v] not within raft.commit [%v, %v]", apply.StartTime, apply.EndTime, commit.StartTime, commit.EndTime)
	}
	if idx := intAttr(apply, "raft.index"); idx <= 0 {
		return fmt.Errorf("raft.apply has no raft.index: %v", apply.Attributes)
	}
	return nil
}

// waitTree polls until check accepts the trace's spans (server spans may
// end just after the client has its reply).
func waitTree(t *testing.T, exp *tracetest.InMemoryExporter, id trace.TraceID, check func(spanTree) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check(traceOf(exp, id))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A gRPC Put sent to a follower inside a caller's span is one trace: the
// caller's span, the gRPC client and server spans, the follower's forward,
// the leader's forwarded request and the raft stages of the write on the
// leader. REST and RESP writes are traced the same way.
func TestTracing_ForwardedWriteSpanTree(t *testing.T) {
	c, exp, caller := tracedCluster(t, 3)
	leader := c.WaitLeader()
	f := c.Followers()[0]
	tr := caller.Tracer("test")

	t.Run("gRPC", func(t *testing.T) {
		conn, err := grpc.NewClient(f.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(caller), otelgrpc.WithPropagators(propagation.TraceContext{}))))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rctx, root := tr.Start(ctx, "caller")
		put, err := skiffv1.NewKVClient(conn).Put(rctx, &skiffv1.PutRequest{Key: []byte("traced"), Value: []byte("v")})
		root.End()
		if err != nil || !put.GetWritten() {
			t.Fatalf("Put on follower %s: %v %v", f.ID, put, err)
		}
		waitTree(t, exp, root.SpanContext().TraceID(), func(st spanTree) error {
			rs, ok := st.byID[root.SpanContext().SpanID()]
			if !ok {
				return fmt.Errorf("caller span not exported")
			}
			p, err := st.path(rs, "skiff.v1.KV/Put", "skiff.v1.KV/Put", "skiff.forward", "skiff.forwarded")
			if err != nil {
				return err
			}
			client, server, fwd, fwded := p[1], p[2], p[3], p[4]
			switch {
			case client.SpanKind != trace.SpanKindClient || instance(client) != "caller":
				return fmt.Errorf("gRPC client span: kind %v on %s", client.SpanKind, instance(client))
			case server.SpanKind != trace.SpanKindServer || instance(server) != f.ID:
				return fmt.Errorf("gRPC server span: kind %v on %s, want server on %s", server.SpanKind, instance(server), f.ID)
			case instance(fwd) != f.ID || fwd.SpanKind != trace.SpanKindClient:
				return fmt.Errorf("skiff.forward on %s (kind %v), want a client span on the follower %s", instance(fwd), fwd.SpanKind, f.ID)
			case instance(fwded) != leader.ID:
				return fmt.Errorf("skiff.forwarded on %s, want the leader %s", instance(fwded), leader.ID)
			}
			return st.raftStages(fwded, leader.ID)
		})
	})

	t.Run("REST", func(t *testing.T) {
		_, root := tr.Start(ctx, "caller")
		sc := root.SpanContext()
		tp := fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())
		code, _, body := httpDo(t, "PUT", "http://"+f.HTTPAddr+"/v1/kv/traced-rest", []byte("v"), "traceparent", tp)
		root.End()
		if code != 200 {
			t.Fatalf("PUT on follower: %d %s", code, body)
		}
		waitTree(t, exp, sc.TraceID(), func(st spanTree) error {
			p, err := st.path(st.byID[sc.SpanID()], "PUT /v1/kv/{key...}", "skiff.forward", "skiff.forwarded")
			if err != nil {
				return err
			}
			if instance(p[1]) != f.ID || instance(p[3]) != leader.ID {
				return fmt.Errorf("HTTP span on %s, forwarded on %s", instance(p[1]), instance(p[3]))
			}
			return st.raftStages(p[3], leader.ID)
		})
	})

	t.Run("RESP", func(t *testing.T) {
		// On the leader: one resp.batch root per pipeline, the raft stages
		// under it.
		pipe := c.Client(leader.Index).Pipeline()
		for i := 0; i < 8; i++ {
			pipe.Set(ctx, fmt.Sprintf("traced-pipe-%d", i), "v", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// On a follower: a skiff.forward root, continued on the leader.
		if err := c.Client(f.Index).Set(ctx, "traced-resp", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := func() error {
				// The pipeline's 8 writes arrive in one read in practice, so
				// one batch; a split read would make two.
				var batches []tracetest.SpanStub
				var ops int64
				var fwd *tracetest.SpanStub
				for _, s := range exp.GetSpans() {
					switch {
					case s.Name == "resp.batch" && !s.Parent.IsValid():
						batches = append(batches, s)
						ops += intAttr(s, "skiff.batch.ops")
					case s.Name == "skiff.forward" && !s.Parent.IsValid() && instance(s) == f.ID && strAttr(s, "db.operation.name") == "set":
						fwd = &s
					}
				}
				if ops != 8 || fwd == nil {
					return fmt.Errorf("resp.batch spans hold %d operations, want 8; RESP skiff.forward root on %s: %v", ops, f.ID, fwd != nil)
				}
				if len(batches) != 1 {
					t.Logf("the pipeline was proposed in %d batches", len(batches))
				}
				for _, b := range batches {
					if err := traceOf(exp, b.SpanContext.TraceID()).raftStages(b, leader.ID); err != nil {
						return err
					}
				}
				st := traceOf(exp, fwd.SpanContext.TraceID())
				fwded, err := st.child(*fwd, "skiff.forwarded")
				if err != nil {
					return err
				}
				return st.raftStages(fwded, leader.ID)
			}()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func intAttr(s tracetest.SpanStub, key string) int64 {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.AsInt64()
		}
	}
	return 0
}

func strAttr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.AsString()
		}
	}
	return ""
}

// A caller that did not sample its request gets no spans from skiff either
// (parent-based sampling), and nothing is propagated to the leader.
func TestTracing_UnsampledCallerRecordsNothing(t *testing.T) {
	c, exp, _ := tracedCluster(t, 3)
	f := c.Followers()[0]
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
	})
	tp := fmt.Sprintf("00-%s-%s-00", unsampled.TraceID(), unsampled.SpanID())
	if code, _, body := httpDo(t, "PUT", "http://"+f.HTTPAddr+"/v1/kv/untraced", []byte("v"), "traceparent", tp); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	time.Sleep(200 * time.Millisecond) // an absence: give late spans (server spans end after the reply) time to appear
	if st := traceOf(exp, unsampled.TraceID()); len(st.spans) != 0 {
		t.Fatalf("spans recorded for an unsampled request:\n%s", st)
	}
	for _, s := range exp.GetSpans() {
		if s.Name == "skiff.forwarded" || strings.HasPrefix(s.Name, "raft.") {
			t.Fatalf("leader recorded %s for an unsampled forward:\n%s", s.Name, traceOf(exp, s.SpanContext.TraceID()))
		}
	}
}
