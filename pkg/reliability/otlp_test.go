package reliability_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/observe"
	"github.com/orchestrator-dev/orchestrator/pkg/instrument"
	"github.com/orchestrator-dev/orchestrator/pkg/telemetry"
)

// echoCollector is an OTLP backend that refuses every export with an error
// quoting the api-key header it received, as a vendor rejecting a key might.
type echoCollector struct {
	colmetricpb.UnimplementedMetricsServiceServer
}

func (echoCollector) Export(ctx context.Context, _ *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return nil, status.Errorf(codes.Unauthenticated, "invalid api-key %q", strings.Join(md.Get("api-key"), ","))
}

// TestSecretsOTLPErrors points the OTLP exporter, with the canary as its
// header, at a backend whose errors quote the header, and checks that the
// logged export failures and the final flush's error do not carry it.
func TestSecretsOTLPErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, echoCollector{})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	defer func() {
		srv.Stop()
		<-served
	}()

	logs := &syncBuffer{}
	vars := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + lis.Addr().String(),
		"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=" + canary,
		"OTEL_METRIC_EXPORT_INTERVAL": "50",
	}
	tel, err := telemetry.Setup(t.Context(), telemetry.Options{
		Getenv: func(k string) string { return vars[k] }, Logger: jsonLogger(logs), ErrorLogInterval: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := instrument.New(tel.MeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	rec.RunStarted(t.Context(), observe.RunStart{Workflow: "otlp"})
	rec.RunFinished(t.Context(), observe.RunEnd{Workflow: "otlp", Status: observe.StatusSuccess})

	for deadline := time.Now().Add(30 * time.Second); strings.Count(logs.String(), "\n") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no export failure logged:\n%s", logs.String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdownErr := tel.Shutdown(ctx)
	if shutdownErr == nil {
		t.Error("the final export to a refusing backend reported no error")
	}
	if !strings.Contains(logs.String(), "Unauthenticated") && !strings.Contains(logs.String(), "invalid api-key") {
		t.Errorf("the logged export failures do not say why:\n%s", logs.String())
	}
	outputs := map[string]string{"the export failure logs": logs.String(), "the shutdown error": errString(shutdownErr)}
	noCanary(t, outputs)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
