package grpcapi

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
)

// readyServices are the health service names that follow readiness (the
// whole server, "", and the services that serve data). Cluster is SERVING
// whenever the process serves: its Status is what explains a node that is
// not ready. Queue is not listed (NOT_FOUND) until it is implemented.
var readyServices = []string{"", skiffv1.KV_ServiceDesc.ServiceName, datapb.DataService_ServiceDesc.ServiceName}

// healthServer is grpc-go's standard health service, kept in step with
// command.Server.Ready: on a ticker (Server.runHealth) and before each
// Check, so a Check never answers from a stale state. Its Watch streams end
// when the server stops.
type healthServer struct {
	*health.Server
	s     *Server
	ready atomic.Int32 // -1 unknown, 0 not ready, 1 ready (for logging changes)
}

func newHealthServer(s *Server) *healthServer {
	h := &healthServer{Server: health.NewServer(), s: s}
	h.ready.Store(-1)
	h.SetServingStatus(skiffv1.Cluster_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	return h
}

func (h *healthServer) register(gs *grpc.Server) { healthpb.RegisterHealthServer(gs, h) }

// refresh sets the readiness services to SERVING or NOT_SERVING from
// command.Server.Ready. After Shutdown it changes nothing.
func (h *healthServer) refresh() {
	ok, reason := h.s.api.Ready()
	st, n := healthpb.HealthCheckResponse_NOT_SERVING, int32(0)
	if ok {
		st, n = healthpb.HealthCheckResponse_SERVING, 1
	}
	for _, name := range readyServices {
		h.SetServingStatus(name, st)
	}
	if old := h.ready.Swap(n); old != n && old != -1 {
		if ok {
			h.s.log.Info("grpc health: serving")
		} else {
			h.s.log.Info("grpc health: not serving", "reason", reason)
		}
	}
}

// Check refreshes the status first.
func (h *healthServer) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.refresh()
	return h.Server.Check(ctx, in)
}

// Watch refreshes the status first and ends when the server stops.
func (h *healthServer) Watch(in *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	h.refresh()
	ctx, cancel := h.s.streamContext(stream)
	defer cancel()
	return h.Server.Watch(in, &ctxStream[healthpb.HealthCheckResponse]{ServerStreamingServer: stream, ctx: ctx})
}

// ctxStream is a server stream with another context.
type ctxStream[T any] struct {
	grpc.ServerStreamingServer[T]
	ctx context.Context
}

func (c *ctxStream[T]) Context() context.Context { return c.ctx }
