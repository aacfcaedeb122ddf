package instrument

import (
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// ScopeName is the instrumentation scope of every orchestrator instrument.
const ScopeName = "github.com/orchestrator-dev/orchestrator/pkg/instrument"

// OTel instrument names. The Prometheus names (docs/metrics.md) follow from
// them through the OTel-to-Prometheus translation: dots become underscores,
// unit "s" adds _seconds, counters add _total, units in braces add nothing.
const (
	nameWorkflowExecutions = "orchestrator.workflow.executions"
	nameWorkflowDuration   = "orchestrator.workflow.duration"
	nameActiveWorkflows    = "orchestrator.active_workflows"
	nameLLMRequests        = "orchestrator.llm.requests"
	nameLLMTokens          = "orchestrator.llm.tokens"
	nameLLMDuration        = "orchestrator.llm.request.duration"
	nameStepExecutions     = "orchestrator.step.executions"
	nameStepDuration       = "orchestrator.step.duration"
	nameErrors             = "orchestrator.errors"

	nameTTFT           = "orchestrator.llm.time_to_first_token"
	nameLLMCost        = "orchestrator.llm.cost_usd"
	nameWorkflowCost   = "orchestrator.workflow.cost_usd"
	nameStepRetries    = "orchestrator.step.retries"
	nameStepBackoff    = "orchestrator.step.backoff"
	nameRateLimitWait  = "orchestrator.llm.rate_limit_wait"
	nameQueueDepth     = "orchestrator.run.queue_depth"
	nameQueueWait      = "orchestrator.run.queue_wait"
	nameLabelOverflow  = "orchestrator.label.overflow"
	nameGenAIDuration  = "gen_ai.client.operation.duration"
	nameGenAITokens    = "gen_ai.client.token.usage"
	nameGenAIFirstChnk = "gen_ai.client.operation.time_to_first_chunk"
)

// Bucket boundaries of the histograms.
var (
	workflowBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	llmBuckets      = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
	stepBuckets     = []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30}
	ttftBuckets     = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	waitBuckets     = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60}
	queueBuckets    = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}
	genAIDurBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	genAITokBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
)

// histogramBuckets maps every histogram to its boundaries.
var histogramBuckets = map[string][]float64{
	nameWorkflowDuration: workflowBuckets,
	nameLLMDuration:      llmBuckets,
	nameStepDuration:     stepBuckets,
	nameTTFT:             ttftBuckets,
	nameStepBackoff:      waitBuckets,
	nameRateLimitWait:    waitBuckets,
	nameQueueWait:        queueBuckets,
	nameGenAIDuration:    genAIDurBuckets,
	nameGenAITokens:      genAITokBuckets,
	nameGenAIFirstChnk:   genAIDurBuckets,
}

// Views returns one View per orchestrator histogram, giving it its explicit
// bucket boundaries. The views match only instruments of ScopeName, so they
// are safe to add to a MeterProvider shared with other libraries.
func Views() []sdkmetric.View {
	views := make([]sdkmetric.View, 0, len(histogramBuckets))
	for name, b := range histogramBuckets {
		views = append(views, sdkmetric.NewView(
			sdkmetric.Instrument{Name: name, Scope: instrumentation.Scope{Name: ScopeName}},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: clone(b)}},
		))
	}
	return views
}

func clone(b []float64) []float64 { return append([]float64(nil), b...) }
