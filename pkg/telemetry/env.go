package telemetry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"google.golang.org/grpc/credentials"
)

// env reads OTEL_* variables through an injected lookup.
type env func(string) string

// signal returns OTEL_EXPORTER_OTLP_METRICS_<name>, falling back to
// OTEL_EXPORTER_OTLP_<name>.
func (e env) signal(name string) (string, string) {
	if v := strings.TrimSpace(e("OTEL_EXPORTER_OTLP_METRICS_" + name)); v != "" {
		return "OTEL_EXPORTER_OTLP_METRICS_" + name, v
	}
	return "OTEL_EXPORTER_OTLP_" + name, strings.TrimSpace(e("OTEL_EXPORTER_OTLP_" + name))
}

func (e env) bool(name string) (bool, error) {
	v := strings.TrimSpace(e(name))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: want true or false, got %q", name, v)
	}
	return b, nil
}

// millis reads a duration in milliseconds (the OTEL_* convention).
func (e env) millis(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(e(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: want a positive number of milliseconds, got %q", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// list splits a comma-separated list, lowercased.
func (e env) list(name string) []string {
	var out []string
	for _, v := range strings.Split(e(name), ",") {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// pairs parses a W3C-baggage-like list "k1=v1,k2=v2" with percent-encoded
// values (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS). Errors name
// the variable and the entry's position, never its value: headers carry
// API keys.
func (e env) pairs(name string) (map[string]string, error) {
	out := map[string]string{}
	v := strings.TrimSpace(e(name))
	if v == "" {
		return out, nil
	}
	for i, p := range strings.Split(v, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, val, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: entry %d is not key=value", name, i+1)
		}
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d (%s): bad percent-encoding", name, i+1, k)
		}
		out[k] = dec
	}
	return out, nil
}

// exemplarFilter honours OTEL_METRICS_EXEMPLAR_FILTER. The default is
// always_off (not the SDK's trace_based): the service bundles no trace SDK,
// /metrics serves no exemplars, and the filter costs time on every
// measurement.
func (e env) exemplarFilter() (exemplar.Filter, error) {
	switch v := strings.ToLower(strings.TrimSpace(e("OTEL_METRICS_EXEMPLAR_FILTER"))); v {
	case "", "always_off":
		return exemplar.AlwaysOffFilter, nil
	case "always_on":
		return exemplar.AlwaysOnFilter, nil
	case "trace_based":
		return exemplar.TraceBasedFilter, nil
	default:
		return nil, fmt.Errorf("OTEL_METRICS_EXEMPLAR_FILTER: unknown filter %q", v)
	}
}

// otlpConfig is the OTLP exporter configuration read from the environment.
type otlpConfig struct {
	endpoint string // host:port
	opts     []otlpmetricgrpc.Option
	secrets  []string // header values: redacted from every error we log or return
}

const defaultOTLPEndpoint = "localhost:4317"

// otlp returns the OTLP configuration, or nil when OTLP is not enabled:
// it is enabled when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set or OTEL_METRICS_EXPORTER lists
// otlp, unless OTEL_METRICS_EXPORTER is "none".
func (e env) otlp() (*otlpConfig, error) {
	exporters := e.list("OTEL_METRICS_EXPORTER")
	epVar, ep := e.signal("ENDPOINT")
	if slices.Equal(exporters, []string{"none"}) || (ep == "" && !slices.Contains(exporters, "otlp")) {
		return nil, nil
	}
	if pv, p := e.signal("PROTOCOL"); p != "" && p != "grpc" {
		return nil, fmt.Errorf("%s=%q: only grpc is supported", pv, p)
	}

	c := &otlpConfig{endpoint: defaultOTLPEndpoint}
	insecure := false
	if ep != "" {
		host, scheme, err := parseEndpoint(ep)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", epVar, err)
		}
		c.endpoint = host
		insecure = scheme == "http"
		if scheme == "" {
			insecureVar, _ := e.signal("INSECURE")
			if insecure, err = e.bool(insecureVar); err != nil {
				return nil, err
			}
		}
	}
	c.opts = append(c.opts, otlpmetricgrpc.WithEndpoint(c.endpoint))

	if insecure {
		c.opts = append(c.opts, otlpmetricgrpc.WithInsecure())
	} else {
		tc, err := e.tls()
		if err != nil {
			return nil, err
		}
		c.opts = append(c.opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(tc)))
	}

	headers, err := e.pairs("OTEL_EXPORTER_OTLP_HEADERS")
	if err != nil {
		return nil, err
	}
	mh, err := e.pairs("OTEL_EXPORTER_OTLP_METRICS_HEADERS")
	if err != nil {
		return nil, err
	}
	for k, v := range mh {
		headers[k] = v
	}
	if len(headers) > 0 {
		c.opts = append(c.opts, otlpmetricgrpc.WithHeaders(headers))
		for _, v := range headers {
			if v != "" {
				c.secrets = append(c.secrets, v)
			}
		}
	}

	switch cv, comp := e.signal("COMPRESSION"); comp {
	case "", "none":
	case "gzip":
		c.opts = append(c.opts, otlpmetricgrpc.WithCompressor("gzip"))
	default:
		return nil, fmt.Errorf("%s=%q: want gzip or none", cv, comp)
	}

	if tv, _ := e.signal("TIMEOUT"); e(tv) != "" {
		d, err := e.millis(tv, 0)
		if err != nil {
			return nil, err
		}
		c.opts = append(c.opts, otlpmetricgrpc.WithTimeout(d))
	}

	switch t := strings.ToLower(strings.TrimSpace(e("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"))); t {
	case "", "cumulative":
		c.opts = append(c.opts, otlpmetricgrpc.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector))
	case "delta":
		c.opts = append(c.opts, otlpmetricgrpc.WithTemporalitySelector(sdkmetric.DeltaTemporalitySelector))
	case "lowmemory":
		c.opts = append(c.opts, otlpmetricgrpc.WithTemporalitySelector(sdkmetric.LowMemoryTemporalitySelector))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: unknown value %q", t)
	}
	return c, nil
}

// parseEndpoint accepts "http://host:port", "https://host:port" or
// "host:port", and returns host:port (port 4317 when missing) and the
// scheme.
func parseEndpoint(ep string) (hostport, scheme string, err error) {
	host := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return "", "", errors.New("not a URL")
		}
		scheme = strings.ToLower(u.Scheme)
		if scheme != "http" && scheme != "https" {
			return "", "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		host = u.Host
	}
	if host == "" {
		return "", "", errors.New("no host")
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(strings.Trim(host, "[]"), "4317")
	}
	return host, scheme, nil
}

// tls builds the client TLS configuration from the CERTIFICATE,
// CLIENT_CERTIFICATE and CLIENT_KEY variables (PEM files).
func (e env) tls() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if name, file := e.signal("CERTIFICATE"); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", name, file)
		}
		c.RootCAs = pool
	}
	certVar, cert := e.signal("CLIENT_CERTIFICATE")
	_, key := e.signal("CLIENT_KEY")
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s/CLIENT_KEY: %w", certVar, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
