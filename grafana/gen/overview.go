package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview is the home dashboard: all nine metrics at a glance.
func overview() *dashboard.DashboardBuilder {
	const (
		runs   = "orchestrator_workflow_executions_total"
		llmReq = "orchestrator_llm_requests_total"
		rate   = "[$__rate_interval]"
	)
	return base("orchestrator-overview", "Orchestrator / Overview",
		"Workflows, LLM requests, steps and errors of orchestrator: the nine orchestrator_* metrics. Pick the source with the job variable.").
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
		WithPanel(graph("Time to first token p50 / p95 / p99", "orchestrator_llm_time_to_first_token_seconds: from request start to the first content chunk of streamed calls.", unitSecs, 12,
			quantiles("orchestrator_llm_time_to_first_token_seconds", selLLM, "provider, model", "{{provider}}/{{model}}")...)).
		WithPanel(graph("Step retries by type and error", "orchestrator_step_retries_total: retries after a failed attempt, by the attempt's error type.", unitRuns, 12,
			q("sum by (step_type, error_type) (rate(orchestrator_step_retries_total{"+selJob+"}"+rate+"))", "{{step_type}}: {{error_type}}"))).
		WithRow(dashboard.NewRowBuilder("Errors and alerts")).
		WithPanel(graph("Errors by type and component", "orchestrator_errors_total: provider = failed attempt, step_executor = failed step, executor = failed run.", unitRuns, 12,
			q("sum by (component, error_type) (rate(orchestrator_errors_total{"+selJob+"}"+rate+"))", "{{component}}: {{error_type}}"))).
		WithPanel(alertsTable())
}
