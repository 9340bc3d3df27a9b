package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// stopGrace bounds how long Stop waits for in-flight unary calls before it
// closes every connection.
const stopGrace = 3 * time.Second

// maxRecvMsgSize bounds a request (gRPC's default, stated here so it is a
// decision): it bounds the keys and values written through gRPC.
const maxRecvMsgSize = 4 << 20

// healthInterval is how often health follows command.Server.Ready.
const healthInterval = 250 * time.Millisecond

// Options configures a Server.
type Options struct {
	// API is the keyspace and cluster API every service translates onto.
	// Required.
	API *command.Server
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Metrics receives each unary RPC's latency (metrics.go); nil = off.
	Metrics *telemetry.Metrics
	// TracerProvider records a server span per RPC (W3C trace context
	// from the caller's metadata); nil or a no-op provider: none.
	TracerProvider trace.TracerProvider
}

// Server is the gRPC front door. New builds it with every service
// registered; Serve serves a listener; Stop shuts it down. Safe for
// concurrent use.
type Server struct {
	api    *command.Server
	log    *slog.Logger
	gs     *grpc.Server
	health *healthServer

	// ctx is cancelled by Stop: long-lived streams (Watch, health Watch)
	// end with it, so a graceful stop does not wait for them.
	ctx    context.Context
	cancel context.CancelFunc

	mu struct {
		sync.Mutex
		started, stopped bool // the health updater started; Stop called
	}
	stopOnce sync.Once
	wg       sync.WaitGroup // the health updater
}

// New returns a server with the KV, Queue, Cluster, data.DataService,
// health and reflection services registered. It starts nothing: call Serve.
func New(opts Options) *Server {
	if opts.API == nil {
		panic("grpcapi: Options.API is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{api: opts.API, log: log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.gs = grpc.NewServer(
		grpc.MaxRecvMsgSize(maxRecvMsgSize),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		metricsOption(opts.Metrics),
		tracing(opts.TracerProvider),
		// Let clients keep idle Watch connections alive with pings (grpc-go's
		// default policy answers pings more often than every 5 min with
		// GOAWAY); etcd uses the same 5 s floor.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	skiffv1.RegisterKVServer(s.gs, &kvService{s: s})
	skiffv1.RegisterQueueServer(s.gs, queueService{})
	skiffv1.RegisterClusterServer(s.gs, &clusterService{s: s})
	datapb.RegisterDataServiceServer(s.gs, &dataService{s: s})
	s.health = newHealthServer(s)
	s.health.register(s.gs)
	reflection.Register(s.gs)
	s.health.refresh()
	return s
}

// GRPC returns the underlying grpc.Server (to register more services before
// Serve, or for tests).
func (s *Server) GRPC() *grpc.Server { return s.gs }

// Serve accepts connections on ln until Stop; it returns nil after Stop and
// the listener's error otherwise. It may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if !s.mu.started && !s.mu.stopped {
		s.mu.started = true
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runHealth()
		}()
	}
	s.mu.Unlock()
	err := s.gs.Serve(ln)
	if s.ctx.Err() != nil || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop reports NOT_SERVING, ends the streams, lets in-flight unary calls
// finish for up to stopGrace and then closes every connection. It returns
// when the server is stopped; calling it again does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.mu.stopped = true
		s.mu.Unlock()
		s.health.Shutdown()
		s.cancel()
		done := make(chan struct{})
		go func() {
			s.gs.GracefulStop()
			close(done)
		}()
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.log.Warn("grpc graceful stop timed out: closing connections", "grace", stopGrace)
			s.gs.Stop()
			<-done
		}
		s.wg.Wait()
	})
}

// runHealth follows the API's readiness until Stop.
func (s *Server) runHealth() {
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.health.refresh()
		}
	}
}

// unaryInterceptor maps every error a handler returns through the error
// table (handlers return the API's errors as they are) and turns a panic
// into INTERNAL.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("grpc handler panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
	}()
	if err := s.authorize(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	resp, err = handler(ctx, req)
	return resp, s.mapError(info.FullMethod, err)
}

// authorize checks the password when requirepass is set: clients send
// metadata "authorization: Bearer <password>". Health and reflection stay
// open (probes and grpcurl list need no secret).
func (s *Server) authorize(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.") {
		return nil
	}
	pass := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			pass, _ = strings.CutPrefix(v[0], "Bearer ")
		}
	}
	if !s.api.CheckPassword(pass) {
		return status.Error(codes.Unauthenticated, "NOAUTH: send metadata 'authorization: Bearer <requirepass>'")
	}
	return nil
}

// streamInterceptor is unaryInterceptor for streams.
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("grpc handler panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	if err := s.authorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return s.mapError(info.FullMethod, handler(srv, ss))
}

func (s *Server) mapError(method string, err error) error {
	if err == nil {
		return nil
	}
	err = toStatus(err)
	if c := status.Code(err); c == codes.Unknown || c == codes.Internal {
		s.log.Warn("grpc request failed", "method", method, "code", c.String(), "err", err)
	}
	return err
}

// errShuttingDown ends streams when the server stops.
var errShuttingDown = status.Error(codes.Unavailable, "the server is shutting down: resume on another node")

// streamContext returns a context that ends with the stream or with the
// server (Stop), and its cancel function.
func (s *Server) streamContext(stream grpc.ServerStream) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(stream.Context())
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// tracing returns the server option that records an OpenTelemetry span per
// RPC (otelgrpc's stats handler; health and reflection calls excluded), or
// no option when tp is nil or the no-op provider.
func tracing(tp trace.TracerProvider) grpc.ServerOption {
	if _, off := tp.(noop.TracerProvider); tp == nil || off {
		return grpc.EmptyServerOption{}
	}
	return grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()), // metrics are Prometheus's (per node, not global)
		otelgrpc.WithFilter(filters.Not(filters.Any(filters.HealthCheck(), filters.ServicePrefix("grpc.reflection.")))),
	))
}
