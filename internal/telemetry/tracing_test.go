package telemetry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"
)

// otelVars are the variables that could turn tracing on; tests clear them.
var otelVars = []string{
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
}

func clearOTEL(t *testing.T) {
	for _, k := range otelVars {
		t.Setenv(k, "")
	}
}

// Without OTEL_* variables tracing is off: a no-op provider, no exporter,
// no goroutine, nothing recorded.
func TestTracingSetup_OffWithoutEnv(t *testing.T) {
	defer goleak.VerifyNone(t)
	clearOTEL(t)
	tp, shutdown, err := Setup(context.Background(), nil, attribute.String("service.instance.id", "n1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tp.(noop.TracerProvider); !ok || TracingEnabled(tp) {
		t.Fatalf("provider %T (enabled %v), want the no-op provider", tp, TracingEnabled(tp))
	}
	_, span := tp.Tracer("test").Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("the no-op provider recorded a span")
	}
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if TracingEnabled(nil) {
		t.Fatal("nil provider reported enabled")
	}
}

func TestTracingSetup_Env(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		on   bool
		err  string
	}{
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, true, ""},
		{"traces endpoint grpc", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, ""},
		{"console", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true, ""},
		{"none wins", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, false, ""},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, false, ""},
		{"sampler only", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, false, ""},
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, "OTEL_TRACES_EXPORTER"},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}, false, "PROTOCOL"},
		{"bad sampler", map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_TRACES_SAMPLER": "sometimes"}, false, "OTEL_TRACES_SAMPLER"},
		{"bad ratio", map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, false, "OTEL_TRACES_SAMPLER_ARG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTEL(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tp, shutdown, err := Setup(context.Background(), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if TracingEnabled(tp) != tc.on {
				t.Fatalf("enabled %v, want %v (%T)", TracingEnabled(tp), tc.on, tp)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTracingSampler_FromEnv(t *testing.T) {
	for _, tc := range []struct{ name, arg, want string }{
		{"", "", "ParentBased{root:AlwaysOnSampler"},
		{"always_off", "", "AlwaysOffSampler"},
		{"traceidratio", "0.25", "TraceIDRatioBased{0.25}"},
		{"parentbased_traceidratio", "0.5", "ParentBased{root:TraceIDRatioBased{0.5}"},
		{"parentbased_always_off", "", "ParentBased{root:AlwaysOffSampler"},
	} {
		env := map[string]string{"OTEL_TRACES_SAMPLER": tc.name, "OTEL_TRACES_SAMPLER_ARG": tc.arg}
		s, err := samplerFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.HasPrefix(s.Description(), tc.want) {
			t.Errorf("%s %s: sampler %s, want %s...", tc.name, tc.arg, s.Description(), tc.want)
		}
	}
}

type failingExporter struct{ calls int }

func (e *failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	e.calls++
	return errors.New("collector unreachable")
}
func (e *failingExporter) Shutdown(context.Context) error { return nil }

// Export failures reach the node's logger, once a minute, not the SDK's
// global error handler.
func TestTracingExport_FailuresLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	inner := &failingExporter{}
	e := &loggedExporter{SpanExporter: inner, log: slog.New(slog.NewTextHandler(&buf, nil))}
	spans := make([]sdktrace.ReadOnlySpan, 3)
	for i := 0; i < 5; i++ {
		if err := e.ExportSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
	}
	if inner.calls != 5 || strings.Count(buf.String(), "trace export failed") != 1 || !strings.Contains(buf.String(), "spans_dropped=3") {
		t.Fatalf("%d exports, log:\n%s", inner.calls, buf.String())
	}
}
