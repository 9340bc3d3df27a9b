package grpcapi

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// metricsOption observes every unary RPC's latency in
// skiff_command_duration_seconds{front_door="grpc", family=<service>}
// (kv, queue, cluster, data, health; other for anything else). Streams
// (Watch, ReceiveStream, health Watch, reflection) are not observed: their
// duration is how long the client stays. The time is the whole RPC as the
// server sees it, from the request's arrival to the last byte of the reply,
// decoding and the interceptors (auth) included. A nil m adds nothing.
func metricsOption(m *telemetry.Metrics) grpc.ServerOption {
	if m == nil {
		return grpc.EmptyServerOption{}
	}
	h := &metricsHandler{byService: make(map[string]*telemetry.LatencyHistogram)}
	for svc, fam := range map[string]string{
		skiffv1.KV_ServiceDesc.ServiceName:            "kv",
		skiffv1.Queue_ServiceDesc.ServiceName:         "queue",
		skiffv1.Cluster_ServiceDesc.ServiceName:       "cluster",
		datapb.DataService_ServiceDesc.ServiceName:    "data",
		grpc_health_v1.Health_ServiceDesc.ServiceName: "health",
	} {
		h.byService[svc] = m.CommandDuration(telemetry.FrontDoorGRPC, fam)
	}
	h.other = m.CommandDuration(telemetry.FrontDoorGRPC, "other")
	return grpc.StatsHandler(h)
}

// metricsHandler is a grpc stats.Handler; the histograms are resolved
// once, so an RPC costs a map lookup by service name.
type metricsHandler struct {
	byService map[string]*telemetry.LatencyHistogram // never written after metricsOption
	other     *telemetry.LatencyHistogram
}

type rpcMetricsKey struct{}

// rpcMetrics is one RPC's observer; Begin clears it for a stream.
type rpcMetrics struct{ obs *telemetry.LatencyHistogram }

func (h *metricsHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	svc, _, _ := strings.Cut(strings.TrimPrefix(info.FullMethodName, "/"), "/")
	obs, ok := h.byService[svc]
	if !ok {
		obs = h.other
	}
	return context.WithValue(ctx, rpcMetricsKey{}, &rpcMetrics{obs: obs})
}

func (h *metricsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	rm, _ := ctx.Value(rpcMetricsKey{}).(*rpcMetrics)
	if rm == nil || s.IsClient() {
		return
	}
	switch s := s.(type) {
	case *stats.Begin:
		if s.IsClientStream || s.IsServerStream {
			rm.obs = nil
		}
	case *stats.End:
		if rm.obs != nil {
			rm.obs.ObserveDuration(s.EndTime.Sub(s.BeginTime))
		}
	}
}

func (h *metricsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (h *metricsHandler) HandleConn(context.Context, stats.ConnStats) {}
