# orchestrator: see README.md. Every target works on a fresh clone.
SHELL := /bin/bash
GO ?= go
ADDR ?= 127.0.0.1:8080
BIN := bin
COLLECTOR := $(BIN)/otelcol-orchestrator
BENCH_COUNT ?= 6
GOTEST_FLAGS ?= -race -timeout 15m

.PHONY: run test test-go deps collector check-stack demo bench load load-1000 load-stat mem lint build fuzz dashboards clean

## run: serve the bundled examples on the simulated provider (no keys, no network)
run:
	$(GO) run ./cmd/orchestrator serve --addr $(ADDR) --workflows examples

## build: build the orchestrator binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/orchestrator ./cmd/orchestrator

## test: install test dependencies, build the collector once, vet, and run every test with -race
test: deps collector
	$(GO) vet ./...
	ORCHESTRATOR_COLLECTOR_BIN=$(abspath $(COLLECTOR)) $(GO) test $(GOTEST_FLAGS) ./...

## test-go: only the Go tests (no installs, no collector build)
test-go:
	$(GO) test $(GOTEST_FLAGS) ./...

deps:
	./scripts/install-deps.sh

## collector: build the bundled OpenTelemetry Collector distribution (its own module)
collector:
	./scripts/build-collector.sh $(COLLECTOR)

## check-stack: promtool config/rules/tests, collector validate, dashboards
check-stack: deps collector
	promtool check config prometheus/prometheus.yml
	promtool check rules prometheus/rules/*.yml
	promtool test rules prometheus/tests/*.yml
	$(COLLECTOR) validate --config=otel-collector/config.yaml
	$(GO) run ./grafana/gen -check

## dashboards: regenerate grafana/dashboards/*.json from grafana/gen
dashboards:
	$(GO) run ./grafana/gen

## demo: the full stack (needs a Docker engine)
demo:
	docker compose up --build

## bench: every benchmark, -count=$(BENCH_COUNT), summarised with benchstat into bench/ (BENCH_PKGS, BENCH select; see docs/performance.md)
bench:
	./scripts/bench.sh $(BENCH_COUNT)

## load: bounded API load test on loopback (prints runs/s, p50/p99, peak RSS)
load: build
	$(GO) run ./cmd/loadtest -bin $(BIN)/orchestrator -concurrency 32 -duration 10s
	$(GO) run ./cmd/loadtest -bin $(BIN)/orchestrator -concurrency 32 -duration 10s -inline

## load-stat: make load 6 times (5 s each), benchstat medians ± spread into bench/load-benchstat.txt
load-stat:
	./scripts/loadstat.sh 6

## load-1000: 1,000 runs in flight (simulated model with 200 ms latency)
load-1000: build
	$(GO) run ./cmd/loadtest -bin $(BIN)/orchestrator -concurrency 1000 -duration 15s -latency 200ms

## mem: 10,000 in-flight runs (simulated model, 1 s latency): heap and stack per run, peak RSS
mem:
	$(GO) run ./cmd/memtest -runs 10000 -latency 1s -mode engine
	$(GO) run ./cmd/memtest -runs 10000 -latency 1s -mode api

## lint: gofmt, go vet, staticcheck (pinned; fetched through the module proxy)
STATICCHECK_VERSION ?= v0.8.2
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## reliability: the fault matrix, secrets, sandbox, limits and cardinality tests, verbose (figures in t.Log)
reliability:
	$(GO) test -race -count=1 -v ./pkg/reliability

## fuzz: run each fuzzer for FUZZTIME (default 60s); FUZZFLAGS=-parallel=1 on a shared machine
FUZZTIME ?= 60s
FUZZFLAGS ?=
fuzz:
	$(GO) test ./pkg/engine/workflow -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./pkg/engine/tmpl -run '^$$' -fuzz FuzzParseRender -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./pkg/engine/cond -run '^$$' -fuzz FuzzCond -fuzztime $(FUZZTIME) $(FUZZFLAGS)

clean:
	rm -rf $(BIN) bench
