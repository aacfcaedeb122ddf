# syntax=docker/dockerfile:1
# orchestrator image: a static binary on distroless, running as non-root.
#   docker build -t orchestrator .
#   docker run -p 8080:8080 orchestrator            # serve the bundled examples
# compose.yaml builds it for the `orchestrator` and `demo` services, and the
# `otel-collector` stage for the collector.

FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/orchestrator ./cmd/orchestrator

# The pinned contrib collector, plus our static binary as its health probe:
# the contrib image is FROM scratch (no shell, no curl, no wget), so nothing
# else in it can call the health_check extension.
FROM otel/opentelemetry-collector-contrib:0.165.1 AS otel-collector
COPY --from=build /out/orchestrator /usr/local/bin/orchestrator
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/orchestrator", "healthcheck", "--url", "http://127.0.0.1:13133/"]

# The orchestrator image (the default target: keep it last).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orchestrator /usr/local/bin/orchestrator
COPY --from=build /src/examples /etc/orchestrator/examples
USER nonroot:nonroot
EXPOSE 8080
# The image has no shell and no curl: the binary probes its own readiness.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/orchestrator", "healthcheck", "--url", "http://127.0.0.1:8080/health/ready"]
ENTRYPOINT ["/usr/local/bin/orchestrator"]
CMD ["serve", "--addr", ":8080", "--workflows", "/etc/orchestrator/examples"]
