package grpcapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/grpcapi"
	"github.com/skiffdb/skiff/internal/store"
)

// reflect runs one request on the reflection service, as grpcurl does.
func reflect(t *testing.T, h *harness, req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	return resp
}

func TestReflection_ListAndDescribe(t *testing.T) {
	h := start(t, nil)
	resp := reflect(t, h, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"skiff.v1.KV", "skiff.v1.Queue", "skiff.v1.Cluster", "data.DataService",
		"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(names, want) {
			t.Errorf("list: %s missing from %v", want, names)
		}
	}

	// describe: the file holding a symbol, with its services and messages.
	describe := func(symbol string) *descriptorpb.FileDescriptorProto {
		resp := reflect(t, h, &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
		raw := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
		if len(raw) == 0 {
			t.Fatalf("describe %s: %v", symbol, resp)
		}
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(raw[0], fd); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	kv := describe("skiff.v1.KV")
	if kv.GetName() != "skiff/v1/kv.proto" || kv.GetPackage() != "skiff.v1" {
		t.Errorf("describe skiff.v1.KV: file %s package %s", kv.GetName(), kv.GetPackage())
	}
	var methods []string
	for _, m := range kv.GetService()[0].GetMethod() {
		methods = append(methods, m.GetName())
		if m.GetName() == "Watch" && !m.GetServerStreaming() {
			t.Error("Watch is not server-streaming")
		}
	}
	if want := []string{"Get", "Put", "Delete", "Range", "Txn", "Watch"}; !slices.Equal(methods, want) {
		t.Errorf("KV methods %v, want %v", methods, want)
	}

	// The original data.proto, exactly: string key = 1, string value = 1.
	data := describe("data.DataService")
	if data.GetName() != "data/data.proto" || data.GetPackage() != "data" || data.GetSyntax() != "proto3" {
		t.Errorf("describe data.DataService: %s %s %s", data.GetName(), data.GetPackage(), data.GetSyntax())
	}
	fields := map[string]*descriptorpb.FieldDescriptorProto{}
	for _, m := range data.GetMessageType() {
		if len(m.GetField()) != 1 {
			t.Errorf("%s has %d fields", m.GetName(), len(m.GetField()))
			continue
		}
		fields[m.GetName()] = m.GetField()[0]
	}
	for msg, name := range map[string]string{"DataRequest": "key", "DataResponse": "value"} {
		f := fields[msg]
		if f.GetName() != name || f.GetNumber() != 1 || f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_STRING {
			t.Errorf("%s field: %v", msg, f)
		}
	}
	svc := data.GetService()[0]
	if svc.GetName() != "DataService" || len(svc.GetMethod()) != 1 || svc.GetMethod()[0].GetName() != "Fetch" ||
		svc.GetMethod()[0].GetInputType() != ".data.DataRequest" || svc.GetMethod()[0].GetOutputType() != ".data.DataResponse" {
		t.Errorf("DataService: %v", svc)
	}
}

func check(t *testing.T, h *harness, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := h.health.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health check %q: %v", service, err)
	}
	return resp.GetStatus()
}

func TestHealth_FollowsReadiness(t *testing.T) {
	h := start(t, nil)
	const serving, notServing = healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING
	for _, svc := range []string{"", "skiff.v1.KV", "data.DataService", "skiff.v1.Cluster"} {
		if got := check(t, h, svc); got != serving {
			t.Errorf("%q: %v, want SERVING", svc, got)
		}
	}
	_, err := h.health.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: "skiff.v1.Queue"})
	wantCode(t, "Queue health (not implemented)", err, codes.NotFound)

	// No leader: not serving (Check answers from the current state).
	h.cluster.set(func(st *command.ClusterStatus) { st.LeaderID, st.LeaderRaftAddr = "", "" })
	for _, svc := range []string{"", "skiff.v1.KV", "data.DataService"} {
		if got := check(t, h, svc); got != notServing {
			t.Errorf("no leader: %q: %v, want NOT_SERVING", svc, got)
		}
	}
	if got := check(t, h, "skiff.v1.Cluster"); got != serving {
		t.Errorf("no leader: Cluster: %v, want SERVING (its Status explains the node)", got)
	}
	// A leader, but the log far from applied (a node replaying it): not
	// serving. (A few entries behind, as a follower under load, is ready.)
	h.cluster.set(func(st *command.ClusterStatus) {
		st.LeaderID, st.Applied, st.LogApplied, st.CommitIndex = "n1", 5, 5, 5000
	})
	if got := check(t, h, ""); got != notServing {
		t.Errorf("applying: %v, want NOT_SERVING", got)
	}
	h.cluster.set(func(st *command.ClusterStatus) { st.Applied, st.LogApplied = 4990, 4990 })
	if got := check(t, h, ""); got != serving {
		t.Errorf("applied: %v, want SERVING", got)
	}
}

func TestHealth_WatchFollowsTickerAndEndsOnStop(t *testing.T) {
	h := start(t, nil)
	stream, err := h.health.Watch(ctxT(t), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	recv := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		r, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return r.GetStatus()
	}
	if got := recv(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first status %v", got)
	}
	// Nobody calls Check: the ticker notices.
	h.cluster.set(func(st *command.ClusterStatus) { st.LeaderID = "" })
	if got := recv(); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("after losing the leader: %v", got)
	}
	h.cluster.set(func(st *command.ClusterStatus) { st.LeaderID = "n1" })
	if got := recv(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("after a leader is back: %v", got)
	}

	// Stop ends the watch promptly (it does not wait out the grace period).
	begin := time.Now()
	h.srv.Stop()
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Stop took %v with an open health watch", d)
	}
	for {
		r, err := stream.Recv()
		if err != nil {
			break
		}
		if r.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("status after Stop: %v", r.GetStatus())
		}
	}
}

func TestQueue_Unimplemented(t *testing.T) {
	h := start(t, nil)
	ctx := ctxT(t)
	_, err := h.queue.Enqueue(ctx, &skiffv1.EnqueueRequest{Queue: "q", Payload: []byte("x")})
	st := wantCode(t, "Enqueue", err, codes.Unimplemented)
	if !strings.Contains(st.Message(), "streams") {
		t.Errorf("message %q does not say why", st.Message())
	}
	_, err = h.queue.Receive(ctx, &skiffv1.ReceiveRequest{Queue: "q"})
	wantCode(t, "Receive", err, codes.Unimplemented)
	_, err = h.queue.Ack(ctx, &skiffv1.AckRequest{Queue: "q"})
	wantCode(t, "Ack", err, codes.Unimplemented)
	_, err = h.queue.Nack(ctx, &skiffv1.NackRequest{Queue: "q"})
	wantCode(t, "Nack", err, codes.Unimplemented)
	rs, err := h.queue.ReceiveStream(ctx, &skiffv1.ReceiveRequest{Queue: "q"})
	if err == nil {
		_, err = rs.Recv()
	}
	wantCode(t, "ReceiveStream", err, codes.Unimplemented)
}

func TestCluster_Status(t *testing.T) {
	h := start(t, nil)
	h.cluster.set(func(st *command.ClusterStatus) {
		st.Members = append(st.Members, command.ClusterMember{ID: "n2", RaftAddr: "127.0.0.1:16380", Voter: false})
	})
	got, err := h.cl.Status(ctxT(t), &skiffv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := &skiffv1.StatusResponse{
		NodeId: "n1", RaftAddress: "127.0.0.1:16379", State: skiffv1.RaftState_RAFT_STATE_LEADER,
		LeaderId: "n1", LeaderRaftAddress: "127.0.0.1:16379", Term: 3, CommitIndex: 10, AppliedIndex: 10,
		LastLogIndex: 10, LastSnapshotIndex: 4,
		Members: []*skiffv1.Member{
			{Id: "n1", RaftAddress: "127.0.0.1:16379", Voter: true, Leader: true, Self: true},
			{Id: "n2", RaftAddress: "127.0.0.1:16380"},
		},
	}
	if !proto.Equal(got, want) {
		t.Errorf("Status:\n got %v\nwant %v", got, want)
	}
}

func TestCluster_Changes(t *testing.T) {
	h := start(t, nil)
	ctx := ctxT(t)
	add, err := h.cl.AddMember(ctx, &skiffv1.AddMemberRequest{Id: "n2", RaftAddress: "127.0.0.1:16380"})
	if err != nil {
		t.Fatal(err)
	}
	if len(add.GetMembers()) != 2 || add.GetMembers()[1].GetId() != "n2" || !add.GetMembers()[1].GetVoter() {
		t.Errorf("AddMember members: %v", add.GetMembers())
	}
	rm, err := h.cl.RemoveMember(ctx, &skiffv1.RemoveMemberRequest{Id: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.GetMembers()) != 1 {
		t.Errorf("RemoveMember members: %v", rm.GetMembers())
	}
	if _, err := h.cl.TransferLeader(ctx, &skiffv1.TransferLeaderRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.cl.TransferLeader(ctx, &skiffv1.TransferLeaderRequest{Id: "n3"}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.cluster.callLog(), []string{"add n2 127.0.0.1:16380", "remove n2", "transfer ", "transfer n3"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}

	// Bad arguments never reach the cluster.
	_, err = h.cl.AddMember(ctx, &skiffv1.AddMemberRequest{Id: "n2"})
	wantCode(t, "AddMember without address", err, codes.InvalidArgument)
	_, err = h.cl.AddMember(ctx, &skiffv1.AddMemberRequest{RaftAddress: "127.0.0.1:1"})
	wantCode(t, "AddMember without id", err, codes.InvalidArgument)
	_, err = h.cl.RemoveMember(ctx, &skiffv1.RemoveMemberRequest{})
	wantCode(t, "RemoveMember without id", err, codes.InvalidArgument)
	if n := len(h.cluster.callLog()); n != 4 {
		t.Errorf("%d calls reached the cluster", n)
	}

	// On a follower: UNAVAILABLE naming the leader.
	h.cluster.set(func(st *command.ClusterStatus) {
		st.State, st.LeaderID, st.LeaderRaftAddr = "Follower", "n7", "10.0.0.7:16379"
	})
	h.cluster.fail(fmt.Errorf("add voter: %w", engine.ErrNotLeader))
	_, err = h.cl.AddMember(ctx, &skiffv1.AddMemberRequest{Id: "n2", RaftAddress: "127.0.0.1:16380"})
	st := wantCode(t, "AddMember on a follower", err, codes.Unavailable)
	if !strings.Contains(st.Message(), "n7") || !strings.Contains(st.Message(), "10.0.0.7:16379") {
		t.Errorf("message %q does not name the leader", st.Message())
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil || info.GetReason() != grpcapi.ReasonNotLeader || info.GetMetadata()["leader_id"] != "n7" || info.GetMetadata()["leader_raft_address"] != "10.0.0.7:16379" {
		t.Errorf("ErrorInfo %v", info)
	}
	// No leader at all: UNAVAILABLE, retriable.
	h.cluster.set(func(st *command.ClusterStatus) { st.LeaderID, st.LeaderRaftAddr = "", "" })
	h.cluster.fail(engine.ErrNoLeader)
	_, err = h.cl.RemoveMember(ctx, &skiffv1.RemoveMemberRequest{Id: "n2"})
	wantCode(t, "RemoveMember without a leader", err, codes.Unavailable)
	h.cluster.fail(engine.ErrNotLeader)
	_, err = h.cl.TransferLeader(ctx, &skiffv1.TransferLeaderRequest{})
	wantCode(t, "TransferLeader on a follower without a known leader", err, codes.Unavailable)
}

// TestValidation: malformed requests are INVALID_ARGUMENT before anything
// reaches the API.
func TestValidation(t *testing.T) {
	h := start(t, nil)
	ctx := ctxT(t)
	cases := map[string]func() error{
		"Get empty key": func() error { _, err := h.kv.Get(ctx, &skiffv1.GetRequest{}); return err },
		"Get unknown consistency": func() error {
			_, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("k"), Consistency: 42})
			return err
		},
		"Put empty key": func() error { _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Value: []byte("v")}); return err },
		"Put negative ttl": func() error {
			_, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("k"), Ttl: durationpb.New(-time.Second)})
			return err
		},
		"Delete empty key": func() error { _, err := h.kv.Delete(ctx, &skiffv1.DeleteRequest{}); return err },
		"Range bad page token": func() error {
			_, err := h.kv.Range(ctx, &skiffv1.RangeRequest{PageToken: "not a token"})
			return err
		},
		"Txn op without put or delete": func() error {
			_, err := h.kv.Txn(ctx, &skiffv1.TxnRequest{ThenOps: []*skiffv1.TxnOp{{}}})
			return err
		},
		"Txn compare without target": func() error {
			_, err := h.kv.Txn(ctx, &skiffv1.TxnRequest{Compares: []*skiffv1.Compare{{Key: []byte("k"), Result: skiffv1.Compare_RESULT_EQUAL}}})
			return err
		},
		"Watch empty key": func() error {
			s, err := h.kv.Watch(ctx, &skiffv1.WatchRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
		"Watch progress interval too short": func() error {
			s, err := h.kv.Watch(ctx, &skiffv1.WatchRequest{Key: []byte("k"), ProgressInterval: durationpb.New(time.Microsecond)})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
		"Fetch empty key": func() error { _, err := h.data.Fetch(ctx, &datapb.DataRequest{}); return err },
	}
	for name, call := range cases {
		wantCode(t, name, call(), codes.InvalidArgument)
	}
}

// failService is a test service whose handlers return a chosen sentinel or
// panic, to check the interceptors on the wire.
func registerFailService(failures map[string]error) func(*grpc.Server) {
	unary := func(name string, h func(context.Context, *wrapperspb.StringValue) (any, error)) grpc.MethodDesc {
		return grpc.MethodDesc{MethodName: name, Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := &wrapperspb.StringValue{}
			if err := dec(in); err != nil {
				return nil, err
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/test.Fail/" + name}
			return icpt(ctx, in, info, func(ctx context.Context, req any) (any, error) { return h(ctx, req.(*wrapperspb.StringValue)) })
		}}
	}
	desc := &grpc.ServiceDesc{
		ServiceName: "test.Fail",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Fail", func(_ context.Context, in *wrapperspb.StringValue) (any, error) {
				return nil, fmt.Errorf("handler: %w", failures[in.GetValue()])
			}),
			unary("Panic", func(context.Context, *wrapperspb.StringValue) (any, error) { panic("boom") }),
		},
		Streams: []grpc.StreamDesc{{StreamName: "PanicStream", ServerStreams: true, Handler: func(any, grpc.ServerStream) error { panic("boom") }}},
	}
	return func(gs *grpc.Server) { gs.RegisterService(desc, struct{}{}) }
}

func TestInterceptors_MapErrorsAndRecoverPanics(t *testing.T) {
	failures := map[string]error{
		"not found":       command.ErrNotFound,
		"wrong type":      store.ErrWrongType,
		"no leader":       engine.ErrNoLeader,
		"not leader":      engine.ErrNotLeader,
		"outcome unknown": engine.ErrOutcomeUnknown,
		"bad argument":    command.ErrInvalidArgument,
		"compacted":       &command.CompactedError{Oldest: "tok", OldestRevision: 1},
		"deadline":        context.DeadlineExceeded,
	}
	want := map[string]codes.Code{
		"not found": codes.NotFound, "wrong type": codes.FailedPrecondition, "no leader": codes.Unavailable,
		"not leader": codes.Unavailable, "outcome unknown": codes.Unavailable, "bad argument": codes.InvalidArgument,
		"compacted": codes.OutOfRange, "deadline": codes.DeadlineExceeded,
	}
	h := start(t, registerFailService(failures))
	ctx := ctxT(t)
	for name, code := range want {
		err := h.conn.Invoke(ctx, "/test.Fail/Fail", wrapperspb.String(name), &emptypb.Empty{})
		st := wantCode(t, name, err, code)
		if !strings.Contains(st.Message(), failures[name].Error()) {
			t.Errorf("%s: message %q lost the error's text", name, st.Message())
		}
	}
	err := h.conn.Invoke(ctx, "/test.Fail/Panic", wrapperspb.String(""), &emptypb.Empty{})
	wantCode(t, "unary panic", err, codes.Internal)
	s, err := h.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/test.Fail/PanicStream")
	if err == nil {
		if err = s.SendMsg(wrapperspb.String("")); err == nil {
			_ = s.CloseSend()
			err = s.RecvMsg(&emptypb.Empty{})
		}
	}
	wantCode(t, "stream panic", err, codes.Internal)
	// The server survived.
	if got := check(t, h, ""); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("after panics: %v", got)
	}
}

func TestServer_StopIsIdempotentAndServeAfterStop(t *testing.T) {
	h := start(t, nil)
	h.srv.Stop()
	h.srv.Stop()
	_, err := h.health.Check(ctxT(t), &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Check after Stop: %v", err)
	}
}

// TestLimits_RequestSize: a request over 4 MiB is refused before it reaches
// a handler.
func TestLimits_RequestSize(t *testing.T) {
	h := start(t, nil)
	_, err := h.kv.Put(ctxT(t), &skiffv1.PutRequest{Key: []byte("big"), Value: make([]byte, 4<<20)})
	wantCode(t, "Put of a 4 MiB value", err, codes.ResourceExhausted)
}
