package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.38.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
)

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "orchestrator"

// Options configures Setup. The zero value is usable.
type Options struct {
	// Version is service.version. Default: none.
	Version string
	// Getenv reads the OTEL_* environment. Default: os.Getenv.
	Getenv func(string) string
	// Logger receives OTLP export failures (rate limited) and recoveries.
	// Default: slog.Default().
	Logger *slog.Logger
	// ErrorLogInterval is the minimum time between two logged export
	// failures; the failures in between are counted and reported with the
	// next line. Default: 30 s.
	ErrorLogInterval time.Duration
	// CardinalityLimit is the SDK's limit of series per instrument; past it
	// the SDK folds new series into one otel_metric_overflow="true" series.
	// Default: 10000. A negative value means no limit.
	CardinalityLimit int
	// ReconnectMaxDelay caps the gRPC reconnection backoff to the OTLP
	// endpoint, so export resumes soon after a collector comes back.
	// Default: 5 s.
	ReconnectMaxDelay time.Duration
	// Now is the clock of the rate-limited error log. Default: time.Now.
	Now func() time.Time
}

// Telemetry owns the process's MeterProvider, its Prometheus registry and,
// when configured, the OTLP push pipeline.
type Telemetry struct {
	mp       metric.MeterProvider
	sdk      *sdkmetric.MeterProvider // nil when OTEL_SDK_DISABLED
	handler  http.Handler
	endpoint string
	exporter *loggingExporter // nil without OTLP

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the MeterProvider from opts and the OTEL_* environment:
//
//   - a Prometheus exporter on its own registry (never the default one),
//     without scope labels, names translated with suffixes (the names of
//     docs/metrics.md), served by MetricsHandler;
//   - when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
//     is set or OTEL_METRICS_EXPORTER lists otlp: an OTLP/gRPC exporter on a
//     periodic reader (OTEL_METRIC_EXPORT_INTERVAL, default 60 s;
//     OTEL_METRIC_EXPORT_TIMEOUT, default 30 s), cumulative temporality;
//   - the Views of package instrument, and a resource with service.name
//     (OTEL_SERVICE_NAME, default "orchestrator"), service.version
//     (opts.Version), a random service.instance.id and
//     OTEL_RESOURCE_ATTRIBUTES.
//
// With OTEL_SDK_DISABLED=true the MeterProvider is a no-op and /metrics
// serves an empty registry. Setup does not touch any global. It fails on
// malformed OTEL_* values; it does not connect to the OTLP endpoint.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ErrorLogInterval <= 0 {
		opts.ErrorLogInterval = 30 * time.Second
	}
	if opts.CardinalityLimit == 0 {
		opts.CardinalityLimit = 10000
	}
	if opts.ReconnectMaxDelay <= 0 {
		opts.ReconnectMaxDelay = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := env(opts.Getenv)
	reg := prometheus.NewRegistry()
	t := &Telemetry{handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{opts.Logger},
		ErrorHandling: promhttp.ContinueOnError,
	})}

	disabled, err := e.bool("OTEL_SDK_DISABLED")
	if err != nil {
		return nil, err
	}
	if disabled {
		t.mp = noop.NewMeterProvider()
		return t, nil
	}

	res, err := newResource(e, opts.Version)
	if err != nil {
		return nil, err
	}
	filter, err := e.exemplarFilter()
	if err != nil {
		return nil, err
	}
	promExp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutScopeInfo(),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mpOpts := []sdkmetric.Option{
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(promExp),
		sdkmetric.WithView(instrument.Views()...),
		sdkmetric.WithExemplarFilter(filter),
		sdkmetric.WithCardinalityLimit(max(opts.CardinalityLimit, 0)),
	}

	oc, err := e.otlp()
	if err != nil {
		return nil, err
	}
	if oc != nil {
		interval, err := e.millis("OTEL_METRIC_EXPORT_INTERVAL", 60*time.Second)
		if err != nil {
			return nil, err
		}
		timeout, err := e.millis("OTEL_METRIC_EXPORT_TIMEOUT", 30*time.Second)
		if err != nil {
			return nil, err
		}
		bo := backoff.DefaultConfig
		bo.MaxDelay = opts.ReconnectMaxDelay
		bo.BaseDelay = min(bo.BaseDelay, bo.MaxDelay)
		exp, err := otlpmetricgrpc.New(ctx, append(oc.opts,
			otlpmetricgrpc.WithDialOption(grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo})))...)
		if err != nil {
			return nil, fmt.Errorf("otlp exporter: %w", err)
		}
		t.endpoint = oc.endpoint
		t.exporter = &loggingExporter{Exporter: exp, secrets: oc.secrets, log: &errorLog{
			log: opts.Logger.With("endpoint", oc.endpoint), every: opts.ErrorLogInterval, now: opts.Now}}
		mpOpts = append(mpOpts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(t.exporter,
			sdkmetric.WithInterval(interval), sdkmetric.WithTimeout(timeout))))
	}
	t.sdk = sdkmetric.NewMeterProvider(mpOpts...)
	t.mp = t.sdk
	return t, nil
}

// newResource builds the resource from OTEL_RESOURCE_ATTRIBUTES,
// OTEL_SERVICE_NAME and version, with a new service.instance.id unless the
// environment sets one.
func newResource(e env, version string) (*resource.Resource, error) {
	kv, err := e.pairs("OTEL_RESOURCE_ATTRIBUTES")
	if err != nil {
		return nil, err
	}
	if name := strings.TrimSpace(e("OTEL_SERVICE_NAME")); name != "" {
		kv[string(semconv.ServiceNameKey)] = name
	} else if kv[string(semconv.ServiceNameKey)] == "" {
		kv[string(semconv.ServiceNameKey)] = DefaultServiceName
	}
	if version != "" {
		kv[string(semconv.ServiceVersionKey)] = version
	}
	if kv[string(semconv.ServiceInstanceIDKey)] == "" {
		kv[string(semconv.ServiceInstanceIDKey)] = uuid.NewString()
	}
	attrs := make([]attribute.KeyValue, 0, len(kv))
	for k, v := range kv {
		attrs = append(attrs, attribute.String(k, v))
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return res, nil
}

// MeterProvider is the provider to record on (pass it to instrument.New or
// engine.WithMeterProvider).
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.mp }

// MetricsHandler serves the Prometheus exposition of the provider's
// metrics, from the Telemetry's own registry.
func (t *Telemetry) MetricsHandler() http.Handler { return t.handler }

// OTLPEndpoint is the OTLP host:port, or "" when OTLP is not configured.
func (t *Telemetry) OTLPEndpoint() string { return t.endpoint }

// Shutdown exports the final values to the OTLP endpoint (the periodic
// reader collects and exports once more when it shuts down) and releases
// the exporters. It is bounded by ctx, safe to call twice, and returns the
// final export's error, if any.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		if t.sdk == nil {
			return
		}
		if t.exporter != nil {
			t.exporter.final.Store(true)
		}
		if err := t.sdk.Shutdown(ctx); err != nil {
			if t.exporter != nil {
				err = redact(err, t.exporter.secrets)
			}
			t.shutdownErr = fmt.Errorf("telemetry shutdown: %w", err)
		}
	})
	return t.shutdownErr
}

// promLogger adapts slog to promhttp's error log.
type promLogger struct{ l *slog.Logger }

func (p promLogger) Println(v ...any) {
	p.l.Error("metrics scrape", "error", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
