package main

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// datasourceUID is the uid of the Prometheus datasource provisioned in
// grafana/provisioning/datasources/prometheus.yaml.
const datasourceUID = "prometheus"

// Units used on the panels (Grafana unit ids; "suffix:" is a custom unit).
const (
	unitRuns   = units.OpsPerSecond
	unitReqs   = units.RequestsPerSecond
	unitTokens = "suffix: tokens/s"
	unitRatio  = units.PercentUnit
	unitSecs   = units.Seconds
	unitCount  = units.Short
	unitUSD    = units.Dollars
)

// Alert thresholds drawn on the panels; they match prometheus/rules/alerts.yml.
const (
	costPerHourLimit = 10.0 // OrchestratorLLMCostBurnRateHigh, USD/h
	ttftLimit        = 2.0  // OrchestratorLLMTimeToFirstTokenHigh, seconds (p95)
)

// Label selectors shared by the queries; $job, $workflow_name, $provider and
// $model are the dashboard variables.
const (
	selJob      = `job=~"$job"`
	selWorkflow = `job=~"$job",workflow_name=~"$workflow_name"`
	selLLM      = `job=~"$job",provider=~"$provider",model=~"$model"`
)

func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(datasourceUID)}
}

// query is one PromQL target; refID is set by the panel helpers.
type query struct {
	expr, legend string
	instant      bool
	format       prometheus.PromQueryFormat
}

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

func (x query) build(refID string) *prometheus.DataqueryBuilder {
	b := prometheus.NewDataqueryBuilder().
		Datasource(ds()).
		RefId(refID).
		Expr(x.expr).
		LegendFormat(x.legend)
	if x.instant {
		b.Instant()
	} else {
		b.Range()
	}
	if x.format != "" {
		b.Format(x.format)
	}
	return b
}

func refID(i int) string { return string(rune('A' + i)) }

// thresholds builds absolute thresholds: base color, then (value, color) steps.
func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(steps[i].(float64)), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// quantiles returns the p50/p95/p99 queries of a histogram by the given
// labels ("" for one series).
func quantiles(metric, sel, by, legend string) []query {
	if by != "" {
		by += ", "
	}
	var qs []query
	for _, p := range []struct{ q, name string }{{"0.50", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		qs = append(qs, q(
			"histogram_quantile("+p.q+", sum by ("+by+"le) (rate("+metric+"_bucket{"+sel+"}[$__rate_interval])))",
			strings.TrimSpace(legend+" "+p.name)))
	}
	return qs
}

// statPanel is a single-number panel with a sparkline.
func statPanel(title, desc, unit string, th *dashboard.ThresholdsConfigBuilder, x query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Unit(unit).
		Height(4).Span(4).
		Thresholds(th).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeArea).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(x.build("A"))
}

// graph is a time series panel with a table legend.
func graph(title, desc, unit string, span uint32, qs ...query) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Unit(unit).
		Height(8).Span(span).
		Min(0).
		FillOpacity(10).
		LineWidth(1).
		ShowPoints(common.VisibilityModeNever).
		Thresholds(thresholds("green")).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"mean", "lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	for i, x := range qs {
		b.WithTarget(x.build(refID(i)))
	}
	return b
}

// withLimit draws a dashed red line at an SLO or alert threshold.
func withLimit(b *timeseries.PanelBuilder, limit float64) *timeseries.PanelBuilder {
	return b.Thresholds(thresholds("green", limit, "red")).
		ThresholdsStyle(dashedThresholds())
}

// latencyHeatmap shows a histogram's buckets over time.
func latencyHeatmap(title, desc, metric, sel string, span uint32) *heatmap.PanelBuilder {
	x := q("sum by (le) (rate("+metric+"_bucket{"+sel+"}[$__rate_interval]))", "{{le}}")
	x.format = prometheus.PromQueryFormatHeatmap
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Unit(unitSecs).
		Height(8).Span(span).
		Calculate(false).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Fill("dark-orange").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(unitSecs)).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true).ShowColorScale(true)).
		CellGap(1).
		WithTarget(x.build("A"))
}

// instantTable is a table of instant queries, one column per query.
func instantTable(title, desc, unit string, span uint32, qs ...query) *table.PanelBuilder {
	b := table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(ds()).
		Unit(unit).
		Height(8).Span(span).
		Thresholds(thresholds("green")).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
		}})
	for i, x := range qs {
		x.instant = true
		x.format = prometheus.PromQueryFormatTable
		b.WithTarget(x.build(refID(i)))
	}
	return b
}

// queryVar is a variable whose values come from label_values(); multi-valued
// variables default to All (matching ".*").
func queryVar(name, label, definition string, multi bool) *dashboard.QueryVariableBuilder {
	b := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds()).
		Query(dashboard.StringOrMap{Map: map[string]any{
			"query": definition,
			"refId": "PrometheusVariableQueryEditor-VariableQuery",
		}}).
		Definition(definition).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		b.Multi(true).IncludeAll(true).AllValue(".*").Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
	}
	return b
}

// jobVar selects which scrape job the dashboard reads: "otel-collector" (the
// OTLP path, default) or "orchestrator" (the direct /metrics). Both carry the
// same series, so it is single-valued: summing both would count twice.
func jobVar() *dashboard.QueryVariableBuilder {
	return queryVar("job", "Source (scrape job)", "label_values(orchestrator_workflow_executions_total, job)", false).
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr("otel-collector")},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr("otel-collector")},
		}).
		Description(`"otel-collector": the OTLP path through the collector; "orchestrator": the orchestrator's own /metrics`)
}

func dashedThresholds() *common.GraphThresholdsStyleConfigBuilder {
	return common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)
}

// alertsTable lists the orchestrator alerts that are pending or firing.
func alertsTable() *table.PanelBuilder {
	return instantTable("Orchestrator alerts", "Pending and firing alerts from prometheus/rules/alerts.yml (Prometheus ALERTS series). Runbooks: docs/runbooks.md.", unitCount, 12,
		q(`sum by (alertname, severity, alertstate) (ALERTS{alertname=~"Orchestrator.*"})`, ""))
}
