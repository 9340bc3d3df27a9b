package grpcapi_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// TestNode_ServesGRPC checks a real node (internal/node) once it serves
// gRPC: health is SERVING after it elected itself, and reflection lists the
// services. It skips while node does not expose its gRPC address
// (GRPCAddr() string), which the node wiring adds.
func TestNode_ServesGRPC(t *testing.T) {
	n := nodetest.Start(t, nil)
	g, ok := any(n.Node).(interface{ GRPCAddr() string })
	if !ok || g.GRPCAddr() == "" {
		t.Skip("the node does not serve gRPC yet (no GRPCAddr)")
	}
	conn, err := grpc.NewClient(g.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	eventually(t, "health SERVING", func() bool {
		r, err := healthpb.NewHealthClient(conn).Check(ctxT(t), &healthpb.HealthCheckRequest{})
		return err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"skiff.v1.KV", "skiff.v1.Cluster", "data.DataService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s missing from %v", want, names)
		}
	}
}
