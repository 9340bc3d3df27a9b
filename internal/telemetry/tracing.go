package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing (OpenTelemetry). A node asks Setup for its own TracerProvider and
// passes it down through its components' Options; nothing here installs a
// global provider or propagator, so two nodes in one process trace apart.
//
// Tracing is on only when the environment asks for an exporter:
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// or OTEL_TRACES_EXPORTER is "otlp" or "console". Otherwise (and with
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none) Setup returns a no-op
// provider, which every component treats as "off": no spans are started and
// the request paths pay one nil check.
//
// The rest is the SDK's standard environment: the OTLP exporters read
// OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout, TLS, compression), the
// batch span processor OTEL_BSP_*, the resource OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL chooses
// "http/protobuf" (the default, as the specification says), "http/json" or
// "grpc". OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG choose the sampler
// (default parentbased_always_on); Setup rejects values it does not know
// instead of silently sampling everything.

// Propagator is the propagation format skiff reads from and writes to
// requests: W3C trace context (traceparent, tracestate) and W3C baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// TracingEnabled reports whether tp records spans: false for nil and for the
// no-op provider Setup returns when tracing is off.
func TracingEnabled(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// Setup returns the tracer provider the OTEL_* environment describes, and
// a shutdown function that flushes spans not yet exported and stops the
// exporter (bounded by its ctx). attrs are added to the resource (for
// example service.instance.id); service.name defaults to "skiff". Export
// failures are logged to log (nil: discarded), at most once a minute.
//
// With tracing off it returns a no-op provider and a shutdown that does
// nothing; no exporter, goroutine or connection is created. Errors are
// configuration errors (an unknown exporter, protocol or sampler).
func Setup(ctx context.Context, log *slog.Logger, attrs ...attribute.KeyValue) (trace.TracerProvider, func(context.Context) error, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return setup(ctx, os.Getenv, log, attrs)
}

func noShutdown(context.Context) error { return nil }

func setup(ctx context.Context, env func(string) string, log *slog.Logger, attrs []attribute.KeyValue) (trace.TracerProvider, func(context.Context) error, error) {
	off := noop.NewTracerProvider()
	if b, _ := strconv.ParseBool(strings.TrimSpace(env("OTEL_SDK_DISABLED"))); b {
		return off, noShutdown, nil
	}
	kind, err := exporterKind(env)
	if err != nil || kind == "" {
		return off, noShutdown, err
	}
	sampler, err := samplerFromEnv(env)
	if err != nil {
		return off, noShutdown, err
	}
	var exp sdktrace.SpanExporter
	switch kind {
	case "console":
		// Spans as JSON lines on stderr: stdout belongs to the binary.
		exp, err = stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
	case "otlp":
		exp, err = otlpExporter(ctx, env)
	}
	if err != nil {
		return off, noShutdown, fmt.Errorf("telemetry: tracing exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(append([]attribute.KeyValue{attribute.String("service.name", "skiff")}, attrs...)...),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults
	)
	if err != nil && res == nil {
		_ = exp.Shutdown(ctx)
		return off, noShutdown, fmt.Errorf("telemetry: tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&loggedExporter{SpanExporter: exp, log: log}), // OTEL_BSP_* tune it
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	)
	return tp, tp.Shutdown, nil
}

// exporterKind returns "otlp", "console" or "" (tracing off).
func exporterKind(env func(string) string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(env("OTEL_TRACES_EXPORTER"))); v {
	case "none":
		return "", nil
	case "otlp", "console":
		return v, nil
	case "":
		if env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
			return "otlp", nil
		}
		return "", nil
	default:
		return "", fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER %q: want otlp, console or none", v)
	}
}

// otlpExporter builds the OTLP exporter for the configured protocol; the
// exporter itself reads the endpoint, headers, TLS and timeout variables.
func otlpExporter(ctx context.Context, env func(string) string) (sdktrace.SpanExporter, error) {
	proto := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if proto == "" {
		proto = strings.TrimSpace(env("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	switch proto {
	case "", "http/protobuf", "http/json":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want http/protobuf, http/json or grpc", proto)
}

// samplerFromEnv parses OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as
// the specification defines them (the SDK would log an unknown value and
// fall back to sampling everything; a typo here should stop the node).
func samplerFromEnv(env func(string) string) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(env("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(env("OTEL_TRACES_SAMPLER_ARG"))
	ratio := func() (sdktrace.Sampler, error) {
		if arg == "" {
			return sdktrace.TraceIDRatioBased(1), nil
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || v < 0 || v > 1 {
			return nil, fmt.Errorf("telemetry: OTEL_TRACES_SAMPLER_ARG %q: want a ratio in [0, 1]", arg)
		}
		return sdktrace.TraceIDRatioBased(v), nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return ratio()
	case "parentbased_traceidratio":
		s, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(s), nil
	}
	return nil, errors.New("telemetry: OTEL_TRACES_SAMPLER " + strconv.Quote(name) +
		": want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")
}

// loggedExporter reports export failures to the node's logger, at most once
// a minute with the number of spans dropped meanwhile, instead of returning
// them to the SDK, which would print every one through the process-global
// otel error handler (the standard library's logger).
type loggedExporter struct {
	sdktrace.SpanExporter
	log *slog.Logger
	mu  struct {
		sync.Mutex
		last    time.Time
		dropped int
	}
}

func (e *loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.dropped += len(spans)
	if now := time.Now(); now.Sub(e.mu.last) >= time.Minute {
		e.log.Warn("trace export failed: spans dropped", "err", err, "spans_dropped", e.mu.dropped)
		e.mu.last, e.mu.dropped = now, 0
	}
	return nil
}
