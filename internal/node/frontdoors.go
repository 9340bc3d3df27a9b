package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/grpcapi"
	"github.com/skiffdb/skiff/internal/httpapi"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// frontDoors are the gRPC and REST servers: thin translators onto the
// command layer, each on its own listener (either may be off).
type frontDoors struct {
	grpcLn, httpLn net.Listener
	grpc           *grpcapi.Server
	http           *http.Server
	log            *slog.Logger
}

// listenFrontDoors binds the gRPC and HTTP listeners, so a port in use is
// reported by New, before Run.
func listenFrontDoors(cfg config.Config, api *command.Server, log *slog.Logger, tp trace.TracerProvider, metrics *telemetry.Metrics) (*frontDoors, error) {
	fd := &frontDoors{log: log}
	if cfg.GRPCAddr != "" {
		ln, err := net.Listen("tcp", cfg.GRPCAddr)
		if err != nil {
			return nil, fmt.Errorf("node: gRPC listen on %s: %w", cfg.GRPCAddr, err)
		}
		fd.grpcLn = ln
		fd.grpc = grpcapi.New(grpcapi.Options{API: api, Logger: log.With("component", "grpc"), TracerProvider: tp, Metrics: metrics})
	}
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			fd.close()
			return nil, fmt.Errorf("node: HTTP listen on %s: %w", cfg.HTTPAddr, err)
		}
		fd.httpLn = ln
		h := httpapi.New(httpapi.Options{API: api, Logger: log.With("component", "http"), Version: config.BuildVersion(), Metrics: metrics})
		h.Mux().Handle("GET /metrics", metrics.Handler()) // Prometheus; behind requirepass like the API
		if cfg.EnablePprof {
			mountPprof(h.Mux())
		}
		fd.http = &http.Server{
			Handler:           traceHTTP(h, h.Mux(), tp),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelDebug),
		}
		fd.http.RegisterOnShutdown(h.Close) // ends watch streams, which Shutdown would wait for
	}
	return fd, nil
}

// serve runs both servers until stop; errors other than a clean stop are
// logged.
func (fd *frontDoors) serve() {
	if fd.grpc != nil {
		go func() {
			if err := fd.grpc.Serve(fd.grpcLn); err != nil {
				fd.log.Error("gRPC server stopped", "err", err)
			}
		}()
	}
	if fd.http != nil {
		go func() {
			if err := fd.http.Serve(fd.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fd.log.Error("HTTP server stopped", "err", err)
			}
		}()
	}
}

// stop stops accepting and lets requests in flight finish for a short while
// (watch streams are cut: their clients resume from their last token).
func (fd *frontDoors) stop() {
	if fd.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := fd.http.Shutdown(ctx); err != nil {
			fd.http.Close()
		}
		cancel()
	}
	if fd.grpc != nil {
		fd.grpc.Stop()
	}
}

// close releases listeners of servers that never served.
func (fd *frontDoors) close() {
	if fd.grpcLn != nil {
		fd.grpcLn.Close()
	}
	if fd.httpLn != nil {
		fd.httpLn.Close()
	}
}

// abort closes everything at once (Kill).
func (fd *frontDoors) abort() {
	if fd.http != nil {
		fd.http.Close()
	}
	if fd.grpc != nil {
		fd.grpc.GRPC().Stop()
		fd.grpc.Stop()
	}
}

// traceHTTP wraps h in an OpenTelemetry server span per request (W3C trace
// context from the request headers) when tracing is on; probes and /metrics
// are not traced. A span is named after the route mux would choose
// ("PUT /v1/kv/{key...}"), or the method alone for an unknown path.
func traceHTTP(h http.Handler, mux *http.ServeMux, tp trace.TracerProvider) http.Handler {
	if !telemetry.TracingEnabled(tp) {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(telemetry.Propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // metrics are Prometheus's, per node
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			_, pattern := mux.Handler(r)
			switch {
			case pattern == "":
				return r.Method
			case !strings.Contains(pattern, " "):
				return r.Method + " " + pattern
			}
			return pattern
		}),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}),
	)
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// mountPprof serves net/http/pprof's handlers (CPU, heap, goroutine, mutex,
// block profiles and execution traces) at /debug/pprof/, as etcd's
// --enable-pprof does: `go tool pprof http://HOST:8080/debug/pprof/profile`.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// BackupInfo is the JSON header of a backup file (GET /v1/backup), for the
// `skiff backup` and `skiff restore` commands, which import only node.
type BackupInfo = command.BackupInfo
