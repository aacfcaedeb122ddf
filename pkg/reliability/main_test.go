package reliability_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/app/apptest"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// canary is this test binary's API key: random, so that no fixture, golden
// file or default message can contain it by accident.
var canary = "sk-reliability-canary-" + rand.Text()

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer = apptest.Buffer

// jsonLogger logs everything, debug included, as JSON into buf.
func jsonLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newClient returns an HTTP client with its own transport, so that a test
// can close its idle connections and count what is left on a fake.
func newClient(t testing.TB) *http.Client {
	c := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// noOpenConns closes the client's idle connections and waits (bounded) until
// the fake has no connection open: one left is a response body nobody closed.
func noOpenConns(t testing.TB, c *http.Client, srv *providertest.Server) {
	t.Helper()
	c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitNoOpenConns(ctx); err != nil {
		t.Errorf("%d connections still open on the fake: %v", srv.OpenConns(), err)
	}
}

// newReader returns a ManualReader on a fresh MeterProvider.
func newReader(t testing.TB) (*sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return reader, mp
}

// counts collects the int64 sums of the named instruments, one entry per
// series, keyed `name{k=v,...}` with the attributes sorted. Zero-valued
// series are kept (an up-down counter back at 0 reads `...} = 0`).
func counts(t testing.TB, r sdkmetric.Reader, names ...string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !slices.Contains(names, m.Name) {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is %T, want an int64 sum", m.Name, m.Data)
			}
			for _, dp := range sum.DataPoints {
				out[series(m.Name, dp.Attributes)] += dp.Value
			}
		}
	}
	return out
}

func series(name string, set attribute.Set) string {
	var kv []string
	for _, a := range set.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return name + "{" + strings.Join(kv, ",") + "}"
}

// diffCounts reports every series whose value differs from want, and every
// series present on one side only.
func diffCounts(t testing.TB, got, want map[string]int64) {
	t.Helper()
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !wok:
			t.Errorf("unexpected series %s = %d", k, g)
		case !gok:
			t.Errorf("missing series %s (want %d)", k, w)
		case g != w:
			t.Errorf("%s = %d, want %d", k, g, w)
		}
	}
}

// noCanary fails when any of the named outputs contains the canary key.
func noCanary(t testing.TB, outputs map[string]string) {
	t.Helper()
	for name, s := range outputs {
		if i := strings.Index(s, canary); i >= 0 {
			lo, hi := max(i-120, 0), min(i+len(canary)+40, len(s))
			t.Errorf("the API key appears in %s: ...%s...", name, s[lo:hi])
		}
	}
}

// readFile reads a testdata file.
func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
