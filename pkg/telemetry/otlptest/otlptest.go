// Package otlptest is an in-process OTLP/gRPC metrics receiver for tests:
// it implements the OTLP MetricsService on 127.0.0.1, keeps every export
// request with its headers, can be stopped and restarted on the same
// address (a collector outage), and offers lookups of metric values in the
// received data. StartBlackhole gives an address that accepts connections
// but never answers.
//
// Every server goroutine is owned by the Receiver and stopped by the test's
// cleanup. A Receiver is safe for concurrent use.
package otlptest

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Request is one received export.
type Request struct {
	Headers metadata.MD
	Body    *colmetricpb.ExportMetricsServiceRequest
}

// Receiver is a fake OTLP metrics collector.
type Receiver struct {
	addr string

	mu     sync.Mutex
	reqs   []Request
	notify chan struct{} // closed and replaced on every request
	srv    *grpc.Server
	served chan struct{} // closed when the current Serve returns
}

type service struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s service) Export(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.r.mu.Lock()
	s.r.reqs = append(s.r.reqs, Request{Headers: md.Copy(), Body: req})
	close(s.r.notify)
	s.r.notify = make(chan struct{})
	s.r.mu.Unlock()
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// Start listens on 127.0.0.1 on a free port. The receiver stops when the
// test ends.
func Start(tb testing.TB) *Receiver {
	tb.Helper()
	r := &Receiver{addr: "127.0.0.1:0", notify: make(chan struct{})}
	r.listen(tb)
	tb.Cleanup(r.Stop)
	return r
}

func (r *Receiver) listen(tb testing.TB) {
	tb.Helper()
	lis, err := net.Listen("tcp", r.addr)
	if err != nil {
		tb.Fatalf("otlptest: listen: %v", err)
	}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, service{r: r})
	served := make(chan struct{})
	r.mu.Lock()
	r.addr, r.srv, r.served = lis.Addr().String(), srv, served
	r.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
}

// Addr is the receiver's host:port.
func (r *Receiver) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Endpoint is the receiver's URL for OTEL_EXPORTER_OTLP_ENDPOINT (plain
// text, so http).
func (r *Receiver) Endpoint() string { return "http://" + r.Addr() }

// Stop closes the listener and every connection; a stopped receiver refuses
// connections. Stopping twice is harmless.
func (r *Receiver) Stop() {
	r.mu.Lock()
	srv, served := r.srv, r.served
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Stop()
	<-served
}

// Restart listens again on the same address after Stop.
func (r *Receiver) Restart(tb testing.TB) {
	tb.Helper()
	r.listen(tb)
}

// Requests returns the requests received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// Wait blocks until cond holds for the received requests or ctx is done.
func (r *Receiver) Wait(ctx context.Context, cond func([]Request) bool) error {
	for {
		r.mu.Lock()
		reqs, ch := slices.Clone(r.reqs), r.notify
		r.mu.Unlock()
		if cond(reqs) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Metric returns the metric named name in the request, or nil.
func (q Request) Metric(name string) *metricpb.Metric {
	for _, rm := range q.Body.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					return m
				}
			}
		}
	}
	return nil
}

// Resource returns the string attributes of the request's first resource.
func (q Request) Resource() map[string]string {
	out := map[string]string{}
	if rms := q.Body.GetResourceMetrics(); len(rms) > 0 {
		for _, kv := range rms[0].GetResource().GetAttributes() {
			out[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
	}
	return out
}

// Last returns the last request holding the metric named name, if any.
func Last(reqs []Request, name string) (Request, bool) {
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Metric(name) != nil {
			return reqs[i], true
		}
	}
	return Request{}, false
}

// IntValue returns the value of the int sum point of m whose attributes are
// exactly attrs (key, value pairs).
func IntValue(m *metricpb.Metric, attrs ...string) (int64, bool) {
	for _, p := range m.GetSum().GetDataPoints() {
		if match(p.GetAttributes(), attrs) {
			return p.GetAsInt(), true
		}
	}
	return 0, false
}

// FloatValue is IntValue for float sums.
func FloatValue(m *metricpb.Metric, attrs ...string) (float64, bool) {
	for _, p := range m.GetSum().GetDataPoints() {
		if match(p.GetAttributes(), attrs) {
			return p.GetAsDouble(), true
		}
	}
	return 0, false
}

// Histogram returns the histogram point of m whose attributes are exactly
// attrs (key, value pairs), or nil.
func Histogram(m *metricpb.Metric, attrs ...string) *metricpb.HistogramDataPoint {
	for _, p := range m.GetHistogram().GetDataPoints() {
		if match(p.GetAttributes(), attrs) {
			return p
		}
	}
	return nil
}

func match(kvs []*commonpb.KeyValue, attrs []string) bool {
	if len(kvs)*2 != len(attrs) {
		return false
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		found := false
		for _, kv := range kvs {
			if kv.GetKey() == attrs[i] && kv.GetValue().GetStringValue() == attrs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// StartBlackhole listens on 127.0.0.1 on a free port, accepts connections
// and never answers: an OTLP backend that hangs. It returns the address and
// closes everything when the test ends.
func StartBlackhole(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("otlptest: listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		_ = lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return lis.Addr().String()
}
