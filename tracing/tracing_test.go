package tracing_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"messenger/tracing"
	"messenger/tracing/tracingtest"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(k, "")
	}
}

// emit makes one span through the global provider, as instrumented code
// does, then flushes with shutdown.
func emit(t *testing.T, shutdown func(context.Context) error, name string) {
	t.Helper()
	_, span := otel.Tracer("test").Start(context.Background(), name)
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWithoutAnEndpointNothingIsTraced(t *testing.T) {
	clearEnv(t)
	tracingtest.RestoreGlobals(t)
	shutdown, err := tracing.Start(context.Background(), tracing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(context.Background(), "unseen")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("with no endpoint configured, spans are recorded")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSpansReachTheConfiguredCollectorOnShutdown(t *testing.T) {
	clearEnv(t)
	tracingtest.RestoreGlobals(t)
	rcv := tracingtest.NewReceiver(t)
	shutdown, err := tracing.Start(context.Background(), tracing.Config{Endpoint: rcv.URL(), ServiceName: "api-under-test"})
	if err != nil {
		t.Fatal(err)
	}
	emit(t, shutdown, "configured")
	got := rcv.Named(t, "configured")
	if len(got) != 1 || got[0].Service != "api-under-test" {
		t.Fatalf("collector got %+v, want one span of service api-under-test", rcv.Spans(t))
	}
}

func TestStandardEnvironmentVariableNamesTheCollector(t *testing.T) {
	clearEnv(t)
	tracingtest.RestoreGlobals(t)
	rcv := tracingtest.NewReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
	t.Setenv("OTEL_SERVICE_NAME", "from-env")
	shutdown, err := tracing.Start(context.Background(), tracing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	emit(t, shutdown, "from the environment")
	if got := rcv.Named(t, "from the environment"); len(got) != 1 || got[0].Service != "from-env" {
		t.Fatalf("collector got %+v, want one span of service from-env", rcv.Spans(t))
	}
}

func TestTracesEndpointVariableIsUsedAsIs(t *testing.T) {
	clearEnv(t)
	tracingtest.RestoreGlobals(t)
	rcv := tracingtest.NewReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rcv.URL()+"/v1/traces")
	shutdown, err := tracing.Start(context.Background(), tracing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	emit(t, shutdown, "traces endpoint")
	if got := rcv.Named(t, "traces endpoint"); len(got) != 1 {
		t.Fatalf("collector got %+v", rcv.Spans(t))
	}
}

func TestSDKDisabledVariableTurnsTracingOff(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if (tracing.Config{Endpoint: "http://127.0.0.1:1"}).Enabled() {
		t.Fatal("OTEL_SDK_DISABLED=true left tracing on")
	}
}

func TestEndpointThatIsNotAURLIsRefused(t *testing.T) {
	clearEnv(t)
	tracingtest.RestoreGlobals(t)
	for _, bad := range []string{"localhost:4318", "ftp://collector", "http://"} {
		if _, err := tracing.Start(context.Background(), tracing.Config{Endpoint: bad}); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
}
