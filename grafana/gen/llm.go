package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// llm focuses on LLM providers and models: traffic, errors, latency, tokens,
// cost, and the GenAI semantic-convention metrics.
func llm() *dashboard.DashboardBuilder {
	const (
		req    = "orchestrator_llm_requests_total"
		dur    = "orchestrator_llm_request_duration_seconds"
		tokens = "orchestrator_llm_tokens_total"
		cost   = "orchestrator_llm_cost_usd_total"
		rate   = "[$__rate_interval]"
		// The GenAI metrics carry the provider kind, not our provider name.
		selGenAI = `job=~"$job",gen_ai_request_model=~"$model"`
	)
	errRatio := func(by string) string {
		return "(sum by (" + by + ") (rate(" + req + "{" + selLLM + `,status="failure"}` + rate + ")) or 0 * sum by (" + by + ") (rate(" + req + "{" + selLLM + "}" + rate + "))) / sum by (" + by + ") (rate(" + req + "{" + selLLM + "}" + rate + "))"
	}
	return base("orchestrator-llm", "Orchestrator / LLM providers",
		"LLM providers and models as orchestrator sees them: request attempts, errors, rate limits, latency, tokens, cost and the GenAI semantic-convention metrics.").
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
		WithPanel(withLimit(graph("Time to first token p50 / p95 / p99", "orchestrator_llm_time_to_first_token_seconds of streamed calls; the dashed line is the 2s p95 SLO of the alert.", unitSecs, 12,
			quantiles("orchestrator_llm_time_to_first_token_seconds", selLLM, "provider, model", "{{provider}}/{{model}}")...), ttftLimit)).
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
		WithPanel(totalsTable(req, tokens)).
		WithRow(dashboard.NewRowBuilder("Cost")).
		WithPanel(withLimit(graph("Cost per hour by model", "orchestrator_llm_cost_usd_total as USD per hour (price table: --prices; unpriced models count 0). The dashed line is the burn-rate alert threshold for all models together.", unitUSD, 12,
			q("sum by (provider, model) (rate("+cost+"{"+selLLM+"}"+rate+")) * 3600", "{{provider}}/{{model}}")), costPerHourLimit)).
		WithPanel(graph("Effective price per million tokens", "Cost / tokens, input and output together, by model: what a million tokens actually cost with this traffic's input/output mix.", unitUSD, 12,
			q("sum by (provider, model) (rate("+cost+"{"+selLLM+"}"+rate+")) / sum by (provider, model) (rate("+tokens+"{"+selLLM+"}"+rate+")) * 1e6", "{{provider}}/{{model}}"))).
		WithRow(dashboard.NewRowBuilder("GenAI semantic conventions")).
		WithPanel(graph("gen_ai.client.operation.duration p95", "The GenAI semantic-convention duration by provider kind (gen_ai.provider.name) and operation; empty with --semconv off. See docs/semconv.md.", unitSecs, 12,
			q(`histogram_quantile(0.95, sum by (gen_ai_provider_name, gen_ai_operation_name, le) (rate(gen_ai_client_operation_duration_seconds_bucket{`+selGenAI+"}"+rate+")))", "{{gen_ai_provider_name}} {{gen_ai_operation_name}}"))).
		WithPanel(graph("gen_ai.client.token.usage per second", "Tokens per second by provider kind and gen_ai.token.type (the sum of the token-usage histogram).", unitTokens, 12,
			q(`sum by (gen_ai_provider_name, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum{`+selGenAI+"}"+rate+"))", "{{gen_ai_provider_name}} {{gen_ai_token_type}}"))).
		WithPanel(graph("gen_ai.client.operation.time_to_first_chunk p95", "Time to the first chunk of streamed calls, by requested model.", unitSecs, 12,
			q(`histogram_quantile(0.95, sum by (gen_ai_provider_name, gen_ai_request_model, le) (rate(gen_ai_client_operation_time_to_first_chunk_seconds_bucket{`+selGenAI+"}"+rate+")))", "{{gen_ai_provider_name}}/{{gen_ai_request_model}}"))).
		WithPanel(graph("GenAI operations by error.type", "Failed operations per second by error.type (our error types; canceled attempts included).", unitReqs, 12,
			q(`sum by (error_type) (rate(gen_ai_client_operation_duration_seconds_count{`+selGenAI+`,error_type!=""}`+rate+"))", "{{error_type}}")))
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
