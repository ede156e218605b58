// Package tracing sends the API's OpenTelemetry traces to an OTLP/HTTP
// collector when one is configured, and does nothing otherwise.
//
// Start installs the process-wide (global) tracer provider and the W3C
// trace-context propagator; instrumented code asks otel.Tracer for its
// tracer and otel.GetTextMapPropagator for the propagator, as OpenTelemetry
// instrumentation does. Without an endpoint nothing is installed: the
// global provider stays OpenTelemetry's no-op, whose spans record nothing
// and are never exported.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// The standard OpenTelemetry variables Start reads (the exporter itself
// also reads the other OTEL_EXPORTER_OTLP_* variables: headers, timeout,
// compression, certificates).
const (
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envDisabled       = "OTEL_SDK_DISABLED"
)

// Config configures tracing. The zero value traces only when the standard
// OTEL_EXPORTER_OTLP_* variables name a collector.
type Config struct {
	// Endpoint is the base URL of an OTLP/HTTP collector, e.g.
	// http://localhost:4318; spans are posted to <Endpoint>/v1/traces
	// (https: TLS). It wins over the standard variables. Empty: the
	// endpoint comes from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is)
	// or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, like Endpoint); when
	// neither is set, tracing is off.
	Endpoint string
	// ServiceName is the service.name resource attribute (default
	// "messenger-api"; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override it).
	ServiceName string
	// Logger receives export failures (default slog.Default()).
	Logger *slog.Logger
}

// Enabled reports whether cfg, with the environment, names a collector
// (and OTEL_SDK_DISABLED is not true).
func (c Config) Enabled() bool {
	if off, _ := strconv.ParseBool(os.Getenv(envDisabled)); off {
		return false
	}
	return c.Endpoint != "" || os.Getenv(envTracesEndpoint) != "" || os.Getenv(envEndpoint) != ""
}

// Start begins tracing as cfg says. It returns a shutdown function that
// flushes the spans not yet exported and stops the exporter: call it once
// the server has stopped serving, with a deadline. When tracing is off,
// Start installs nothing and shutdown does nothing.
func Start(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	if !cfg.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = "messenger-api"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, err := tracesURL(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
		resource.WithFromEnv(), // after ServiceName, so the variables win
		resource.WithTelemetrySDK(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	// The sampler is the SDK's default, parent-based always-on, unless
	// OTEL_TRACES_SAMPLER says otherwise: an incoming traceparent's
	// sampled flag decides for the requests that carry one.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	log := cfg.Logger
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "err", err)
	}))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return func(ctx context.Context) error {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracing: flush spans: %w", err)
		}
		return nil
	}, nil
}

// tracesURL turns a collector's base URL into its traces URL, as the
// OTLP exporter does with OTEL_EXPORTER_OTLP_ENDPOINT.
func tracesURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing: endpoint %q: want an http:// or https:// URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	return u.String(), nil
}
