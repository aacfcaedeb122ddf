package app_test

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families parses a Prometheus text exposition.
func families(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// key renders a series' labels as "a=x,b=y" (sorted), leaving out le.
func key(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		if l.GetName() != "le" {
			parts = append(parts, l.GetName()+"="+l.GetValue())
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// values returns every series of a counter or gauge family by key, and for
// a histogram family its sample counts.
func values(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	f, ok := fams[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		switch {
		case m.Counter != nil:
			out[key(m)] = m.GetCounter().GetValue()
		case m.Gauge != nil:
			out[key(m)] = m.GetGauge().GetValue()
		case m.Histogram != nil:
			out[key(m)] = float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}

func assertSeries(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]float64) {
	t.Helper()
	got := values(fams, name)
	if !maps.Equal(got, want) {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(got)) {
			b.WriteString("\n  " + k + " = " + strconvF(got[k]))
		}
		t.Errorf("%s: got%s\nwant %v", name, b.String(), want)
	}
}

func strconvF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// assertBuckets checks every series of a histogram family has exactly the
// bucket boundaries want (plus +Inf), cumulative counts that end at the
// sample count.
func assertBuckets(t *testing.T, fams map[string]*dto.MetricFamily, name string, want []float64) {
	t.Helper()
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("%s: no histogram", name)
		return
	}
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		var les []float64
		prev := uint64(0)
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				les = append(les, b.GetUpperBound())
			}
			if b.GetCumulativeCount() < prev {
				t.Errorf("%s{%s}: buckets not cumulative", name, key(m))
			}
			prev = b.GetCumulativeCount()
		}
		if !slices.Equal(les, want) {
			t.Errorf("%s{%s}: le %v, want %v", name, key(m), les, want)
		}
		if prev > h.GetSampleCount() {
			t.Errorf("%s{%s}: last bucket %d > count %d", name, key(m), prev, h.GetSampleCount())
		}
	}
}
