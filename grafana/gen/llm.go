package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// llm focuses on LLM providers and models: traffic, errors, latency, tokens.
func llm() *dashboard.DashboardBuilder {
	const (
		req    = "orchestrator_llm_requests_total"
		dur    = "orchestrator_llm_request_duration_seconds"
		tokens = "orchestrator_llm_tokens_total"
		rate   = "[$__rate_interval]"
	)
	errRatio := func(by string) string {
		return "(sum by (" + by + ") (rate(" + req + "{" + selLLM + `,status="failure"}` + rate + ")) or 0 * sum by (" + by + ") (rate(" + req + "{" + selLLM + "}" + rate + "))) / sum by (" + by + ") (rate(" + req + "{" + selLLM + "}" + rate + "))"
	}
	return base("orchestrator-llm", "Orchestrator / LLM providers",
		"LLM providers and models as orchestrator sees them: request attempts, errors, rate limits, latency and tokens.").
		WithVariable(jobVar()).
		WithVariable(queryVar("provider", "Provider", `label_values(orchestrator_llm_requests_total{job=~"$job"}, provider)`, true)).
		WithVariable(queryVar("model", "Model", `label_values(orchestrator_llm_requests_total{job=~"$job",provider=~"$provider"}, model)`, true)).
		WithRow(dashboard.NewRowBuilder("At a glance")).
		WithPanel(statPanel("Requests", "LLM request attempts per second.", unitReqs, thresholds("green"),
			q("sum(rate("+req+"{"+selLLM+"}"+rate+"))", "req/s"))).
		WithPanel(statPanel("Error ratio", "Share of failed attempts; the provider alert fires above 10%.", unitRatio,
			thresholds("green", 0.05, "orange", 0.1, "red"),
			q("(sum(rate("+req+"{"+selLLM+`,status="failure"}`+rate+")) or 0 * sum(rate("+req+"{"+selLLM+"}"+rate+"))) / sum(rate("+req+"{"+selLLM+"}"+rate+"))", "errors"))).
		WithPanel(statPanel("Rate limited", "Share of all attempts answered with 429 (orchestrator_errors_total has no provider label); the alert fires above 5%.", unitRatio,
			thresholds("green", 0.01, "orange", 0.05, "red"),
			q(`(sum(rate(orchestrator_errors_total{`+selJob+`,component="provider",error_type="rate_limit"}`+rate+")) or vector(0)) / sum(rate("+req+"{"+selJob+"}"+rate+"))", "429s"))).
		WithPanel(statPanel("p95 latency", "95th percentile of attempt latency; the SLO is 5s.", unitSecs, thresholds("green", 2.0, "orange", 5.0, "red"),
			q("histogram_quantile(0.95, sum by (le) (rate("+dur+"_bucket{"+selLLM+"}"+rate+")))", "p95"))).
		WithPanel(statPanel("Input tokens", "Input (prompt) tokens per second.", unitTokens, thresholds("green"),
			q("sum(rate("+tokens+"{"+selLLM+`,type="input"}`+rate+"))", "input"))).
		WithPanel(statPanel("Output tokens", "Output (completion) tokens per second.", unitTokens, thresholds("green"),
			q("sum(rate("+tokens+"{"+selLLM+`,type="output"}`+rate+"))", "output"))).
		WithRow(dashboard.NewRowBuilder("Requests and errors")).
		WithPanel(graph("Requests by provider and status", "orchestrator_llm_requests_total by provider and status.", unitReqs, 12,
			q("sum by (provider, status) (rate("+req+"{"+selLLM+"}"+rate+"))", "{{provider}} {{status}}"))).
		WithPanel(withLimit(graph("Error ratio by provider", "Failed attempts / all attempts; the dashed line is the 10% alert threshold.", unitRatio, 12,
			q(errRatio("provider"), "{{provider}}")), 0.1).Max(1)).
		WithPanel(graph("Requests by model", "Attempts per second by provider and model.", unitReqs, 12,
			q("sum by (provider, model) (rate("+req+"{"+selLLM+"}"+rate+"))", "{{provider}}/{{model}}"))).
		WithPanel(graph("Provider errors by type", "orchestrator_errors_total{component=\"provider\"}: timeout, rate_limit, auth, invalid_request, provider_error, network.", unitRuns, 12,
			q(`sum by (error_type) (rate(orchestrator_errors_total{`+selJob+`,component="provider"}`+rate+"))", "{{error_type}}"))).
		WithRow(dashboard.NewRowBuilder("Latency")).
		WithPanel(withLimit(graph("Latency p50 / p95 / p99 by model", "orchestrator_llm_request_duration_seconds quantiles; the dashed line is the 5s SLO.", unitSecs, 12,
			quantiles(dur, selLLM, "provider, model", "{{provider}}/{{model}}")...), 5)).
		WithPanel(graph("Mean latency by model", "Sum of attempt durations / attempts.", unitSecs, 12,
			q("sum by (provider, model) (rate("+dur+"_sum{"+selLLM+"}"+rate+")) / sum by (provider, model) (rate("+dur+"_count{"+selLLM+"}"+rate+"))", "{{provider}}/{{model}}"))).
		WithPanel(latencyHeatmap("Latency distribution", "Request attempts per latency bucket.", dur, selLLM, 24)).
		WithRow(dashboard.NewRowBuilder("Streaming, retries and rate limits")).
		WithPanel(withLimit(graph("Time to first token p50 / p95 / p99", "orchestrator_llm_time_to_first_token_seconds of streamed calls; the dashed line marks 1s.", unitSecs, 12,
			quantiles("orchestrator_llm_time_to_first_token_seconds", selLLM, "provider, model", "{{provider}}/{{model}}")...), 1)).
		WithPanel(graph("Rate-limit backoff p95 by provider", "orchestrator_llm_rate_limit_wait_seconds: backoff waits caused by 429s (Retry-After honoured up to the retry cap).", unitSecs, 12,
			q(`histogram_quantile(0.95, sum by (provider, le) (rate(orchestrator_llm_rate_limit_wait_seconds_bucket{job=~"$job",provider=~"$provider"}`+rate+")))", "{{provider}} p95"))).
		WithPanel(graph("Time spent in rate-limit backoff", "Seconds of rate-limit backoff per second, by provider: how much of the run time 429s cost.", unitSecs, 12,
			q(`sum by (provider) (rate(orchestrator_llm_rate_limit_wait_seconds_sum{job=~"$job",provider=~"$provider"}`+rate+"))", "{{provider}}"))).
		WithPanel(graph("Step retries by error type", "orchestrator_step_retries_total by the error type of the failed attempt.", unitRuns, 12,
			q(`sum by (error_type) (rate(orchestrator_step_retries_total{job=~"$job",step_type=~"llm|embed"}`+rate+"))", "{{error_type}}"))).
		WithRow(dashboard.NewRowBuilder("Tokens")).
		WithPanel(graph("Input tokens per second by model", "Prompt tokens the providers reported (embeddings count here).", unitTokens, 12,
			q("sum by (provider, model) (rate("+tokens+"{"+selLLM+`,type="input"}`+rate+"))", "{{provider}}/{{model}}"))).
		WithPanel(graph("Output tokens per second by model", "Completion tokens the providers reported, streamed calls included.", unitTokens, 12,
			q("sum by (provider, model) (rate("+tokens+"{"+selLLM+`,type="output"}`+rate+"))", "{{provider}}/{{model}}"))).
		WithPanel(graph("Tokens per successful request", "Tokens / successful attempts, by model and token type.", "suffix: tokens", 12,
			q("sum by (provider, model, type) (rate("+tokens+"{"+selLLM+"}"+rate+")) / ignoring (type) group_left sum by (provider, model) (rate("+req+"{"+selLLM+`,status="success"}`+rate+"))", "{{provider}}/{{model}} {{type}}"))).
		WithPanel(totalsTable(req, tokens))
}

// totalsTable sums requests and tokens over the dashboard's time range.
func totalsTable(req, tokens string) *table.PanelBuilder {
	return instantTable("Totals over the time range", "Request attempts and tokens per provider and model over the selected time range.", unitCount, 12,
		q("sum by (provider, model) (increase("+req+"{"+selLLM+"}[$__range]))", ""),
		q("sum by (provider, model) (increase("+tokens+"{"+selLLM+`,type="input"}[$__range]))`, ""),
		q("sum by (provider, model) (increase("+tokens+"{"+selLLM+`,type="output"}[$__range]))`, ""),
	).WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"renameByName": map[string]any{"Value #A": "Requests", "Value #B": "Input tokens", "Value #C": "Output tokens"},
	}}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Requests").Desc(true)})
}
