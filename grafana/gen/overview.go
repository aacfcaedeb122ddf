package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview is the home dashboard: the nine metrics at a glance, then
// streaming, retries, cost, admission and cardinality.
func overview() *dashboard.DashboardBuilder {
	const (
		runs   = "orchestrator_workflow_executions_total"
		llmReq = "orchestrator_llm_requests_total"
		rate   = "[$__rate_interval]"
	)
	return base("orchestrator-overview", "Orchestrator / Overview",
		"Workflows, LLM requests, steps, retries, cost, admission and errors of orchestrator: the nine orchestrator_* metrics and those beyond. Pick the source with the job variable.").
		WithVariable(jobVar()).
		WithVariable(queryVar("workflow_name", "Workflow", `label_values(orchestrator_workflow_executions_total{job=~"$job"}, workflow_name)`, true)).
		WithVariable(queryVar("provider", "Provider", `label_values(orchestrator_llm_requests_total{job=~"$job"}, provider)`, true)).
		WithVariable(queryVar("model", "Model", `label_values(orchestrator_llm_requests_total{job=~"$job",provider=~"$provider"}, model)`, true)).
		WithRow(dashboard.NewRowBuilder("At a glance")).
		WithPanel(statPanel("Workflow runs", "Finished workflow runs per second, any status.", unitRuns, thresholds("green"),
			q("sum(rate("+runs+"{"+selWorkflow+"}"+rate+"))", "runs/s"))).
		WithPanel(statPanel("Success ratio", "Share of finished runs with status success. The failure-ratio alert fires below 90% (per workflow).", unitRatio,
			thresholds("red", 0.9, "orange", 0.99, "green"),
			q("(sum(rate("+runs+"{"+selWorkflow+`,status="success"}`+rate+")) or 0 * sum(rate("+runs+"{"+selWorkflow+"}"+rate+"))) / sum(rate("+runs+"{"+selWorkflow+"}"+rate+"))", "success"))).
		WithPanel(statPanel("Active workflows", "Runs in flight right now (orchestrator_active_workflows).", unitCount, thresholds("green", 100.0, "orange"),
			q("sum(orchestrator_active_workflows{"+selJob+"})", "active"))).
		WithPanel(statPanel("Workflow p95", "95th percentile of workflow duration.", unitSecs, thresholds("green", 30.0, "orange", 60.0, "red"),
			q("histogram_quantile(0.95, sum by (le) (rate(orchestrator_workflow_duration_seconds_bucket{"+selWorkflow+"}"+rate+")))", "p95"))).
		WithPanel(statPanel("LLM requests", "LLM request attempts per second (retries count as attempts).", unitReqs, thresholds("green"),
			q("sum(rate("+llmReq+"{"+selLLM+"}"+rate+"))", "req/s"))).
		WithPanel(statPanel("LLM error ratio", "Share of LLM request attempts that failed. The provider alert fires above 10%.", unitRatio,
			thresholds("green", 0.05, "orange", 0.1, "red"),
			q("(sum(rate("+llmReq+"{"+selLLM+`,status="failure"}`+rate+")) or 0 * sum(rate("+llmReq+"{"+selLLM+"}"+rate+"))) / sum(rate("+llmReq+"{"+selLLM+"}"+rate+"))", "errors"))).
		WithRow(dashboard.NewRowBuilder("Workflows")).
		WithPanel(graph("Workflow runs by status", "orchestrator_workflow_executions_total by status.", unitRuns, 8,
			q("sum by (status) (rate("+runs+"{"+selWorkflow+"}"+rate+"))", "{{status}}"))).
		WithPanel(graph("Success ratio by workflow", "Share of successful runs per workflow; the dashed line is the 90% alert threshold.", unitRatio, 8,
			q("(sum by (workflow_name) (rate("+runs+"{"+selWorkflow+`,status="success"}`+rate+")) or 0 * sum by (workflow_name) (rate("+runs+"{"+selWorkflow+"}"+rate+"))) / sum by (workflow_name) (rate("+runs+"{"+selWorkflow+"}"+rate+"))", "{{workflow_name}}")).
			Max(1).
			Thresholds(thresholds("red", 0.9, "green")).
			ThresholdsStyle(dashedThresholds())).
		WithPanel(graph("Active workflows over time", "orchestrator_active_workflows: +1 when a run starts, -1 when it ends. It returns to 0 when idle.", unitCount, 8,
			q("sum(orchestrator_active_workflows{"+selJob+"})", "active"))).
		WithPanel(graph("Workflow duration p50 / p95 / p99", "orchestrator_workflow_duration_seconds quantiles by workflow.", unitSecs, 24,
			quantiles("orchestrator_workflow_duration_seconds", selWorkflow, "workflow_name", "{{workflow_name}}")...)).
		WithRow(dashboard.NewRowBuilder("LLM requests")).
		WithPanel(graph("LLM requests by provider, model and status", "orchestrator_llm_requests_total: one per request attempt, chat and embeddings.", unitReqs, 12,
			q("sum by (provider, model, status) (rate("+llmReq+"{"+selLLM+"}"+rate+"))", "{{provider}}/{{model}} {{status}}"))).
		WithPanel(withLimit(graph("LLM latency p50 / p95 / p99", "orchestrator_llm_request_duration_seconds quantiles; the dashed line is the 5s p95 SLO.", unitSecs, 12,
			quantiles("orchestrator_llm_request_duration_seconds", selLLM, "provider, model", "{{provider}}/{{model}}")...), 5)).
		WithPanel(latencyHeatmap("LLM latency distribution", "Request attempts per latency bucket (orchestrator_llm_request_duration_seconds).",
			"orchestrator_llm_request_duration_seconds", selLLM, 12)).
		WithPanel(graph("Tokens per second by model", "orchestrator_llm_tokens_total: input and output tokens the providers reported.", unitTokens, 12,
			q("sum by (model, type) (rate(orchestrator_llm_tokens_total{"+selLLM+"}"+rate+"))", "{{model}} {{type}}"))).
		WithRow(dashboard.NewRowBuilder("Steps")).
		WithPanel(graph("Step executions by type and status", "orchestrator_step_executions_total: once per step per run, nested steps included.", unitRuns, 12,
			q("sum by (step_type, status) (rate(orchestrator_step_executions_total{"+selJob+"}"+rate+"))", "{{step_type}} {{status}}"))).
		WithPanel(graph("Step duration p50 / p95 / p99", "orchestrator_step_duration_seconds quantiles by step type (retries and backoff included).", unitSecs, 12,
			quantiles("orchestrator_step_duration_seconds", selJob, "step_type", "{{step_type}}")...)).
		WithRow(dashboard.NewRowBuilder("Streaming and retries")).
		WithPanel(withLimit(graph("Time to first token p50 / p95 / p99", "orchestrator_llm_time_to_first_token_seconds: from request start to the first content chunk of streamed calls; the dashed line is the 2s p95 SLO.", unitSecs, 12,
			quantiles("orchestrator_llm_time_to_first_token_seconds", selLLM, "provider, model", "{{provider}}/{{model}}")...), ttftLimit)).
		WithPanel(graph("Step retries by type and error", "orchestrator_step_retries_total: retries after a failed attempt, by the attempt's error type.", unitRuns, 12,
			q("sum by (step_type, error_type) (rate(orchestrator_step_retries_total{"+selJob+"}"+rate+"))", "{{step_type}}: {{error_type}}"))).
		WithPanel(graph("Time spent waiting to retry", "Seconds of wait per second: all backoff by step type (orchestrator_step_backoff_seconds), and the part caused by provider rate limits by provider (orchestrator_llm_rate_limit_wait_seconds).", unitSecs, 24,
			q("sum by (step_type) (rate(orchestrator_step_backoff_seconds_sum{"+selJob+"}"+rate+"))", "{{step_type}} backoff"),
			q(`sum by (provider) (rate(orchestrator_llm_rate_limit_wait_seconds_sum{job=~"$job",provider=~"$provider"}`+rate+"))", "{{provider}} rate limit"))).
		WithRow(dashboard.NewRowBuilder("Cost")).
		WithPanel(withLimit(graph("Cost per hour by model", "orchestrator_llm_cost_usd_total as USD per hour, priced with the price table (--prices); unpriced models count 0. The dashed line is the burn-rate alert threshold for all models together.", unitUSD, 8,
			q("sum by (provider, model) (rate(orchestrator_llm_cost_usd_total{"+selLLM+"}"+rate+")) * 3600", "{{provider}}/{{model}}"),
			q("sum(rate(orchestrator_llm_cost_usd_total{"+selLLM+"}"+rate+")) * 3600", "all models")), costPerHourLimit)).
		WithPanel(graph("Cost per hour by workflow", "orchestrator_workflow_cost_usd_total as USD per hour: each finished run adds its total cost.", unitUSD, 8,
			q("sum by (workflow_name) (rate(orchestrator_workflow_cost_usd_total{"+selWorkflow+"}"+rate+")) * 3600", "{{workflow_name}}"))).
		WithPanel(graph("Mean cost per run by workflow", "USD per finished run: orchestrator_workflow_cost_usd_total / orchestrator_workflow_executions_total. Workflows that cost nothing have no line.", unitUSD, 8,
			q("sum by (workflow_name) (rate(orchestrator_workflow_cost_usd_total{"+selWorkflow+"}"+rate+")) / sum by (workflow_name) (rate("+runs+"{"+selWorkflow+"}"+rate+"))", "{{workflow_name}}"))).
		WithRow(dashboard.NewRowBuilder("Admission and cardinality")).
		WithPanel(graph("Run queue depth", "orchestrator_run_queue_depth: async runs waiting for a --max-inflight slot (at most --max-queued). It returns to 0 when runs keep up.", unitCount, 8,
			q("sum(orchestrator_run_queue_depth{"+selJob+"})", "queued"))).
		WithPanel(graph("Queue wait p50 / p95 / p99", "orchestrator_run_queue_wait_seconds: every run that started records its wait, 0 when it started at once.", unitSecs, 8,
			quantiles("orchestrator_run_queue_wait_seconds", selJob, "", "")...)).
		WithPanel(graph("Share of runs that waited", "Runs that waited 1ms or more for admission / all runs that started.", unitRatio, 8,
			q(`1 - sum(rate(orchestrator_run_queue_wait_seconds_bucket{`+selJob+`,le="0.001"}`+rate+")) / sum(rate(orchestrator_run_queue_wait_seconds_count{"+selJob+"}"+rate+"))", "waited")).
			Max(1)).
		WithPanel(graph("Run rejections by reason", "orchestrator_run_rejections_total: submissions answered 429 (max_inflight, queue_full), 503 (draining), 400 or 413 (malformed, too_large, invalid_workflow, invalid_inputs). They never run.", unitReqs, 12,
			q("sum by (reason) (rate(orchestrator_run_rejections_total{"+selJob+"}"+rate+"))", "{{reason}}"))).
		WithPanel(graph("Label overflow", "orchestrator_label_overflow_total: measurements whose workflow_name or model became _other (--max-workflow-names, --max-models). Anything above 0 hides detail; the alert fires.", unitRuns, 12,
			q("sum by (label) (rate(orchestrator_label_overflow_total{"+selJob+"}"+rate+"))", "{{label}}"))).
		WithRow(dashboard.NewRowBuilder("Errors and alerts")).
		WithPanel(graph("Errors by type and component", "orchestrator_errors_total: provider = failed attempt, step_executor = failed step, executor = failed run.", unitRuns, 12,
			q("sum by (component, error_type) (rate(orchestrator_errors_total{"+selJob+"}"+rate+"))", "{{component}}: {{error_type}}"))).
		WithPanel(alertsTable())
}
