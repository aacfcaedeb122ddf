package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/server"
)

func ExampleNew() {
	eng, _ := engine.New(engine.WithMeterProvider(noop.NewMeterProvider()), engine.WithLogger(slog.New(slog.DiscardHandler)))
	plan, _ := eng.Load("hello.yaml", []byte(`
name: hello
inputs:
  who: {default: world}
steps:
  - id: greet
    type: transform
    function: template
    template: "Hello, {{ inputs.who }}!"
`))
	srv, _ := server.New(eng, server.WithWorkflows(plan), server.WithMeterProvider(noop.NewMeterProvider()))
	defer srv.Wait(context.Background()) // drains, and waits for async runs

	req := httptest.NewRequest(http.MethodPost, "/v1/workflows/hello/runs", strings.NewReader(`{"inputs":{"who":"Ada"}}`))
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	body, _ := io.ReadAll(w.Result().Body)
	fmt.Println(w.Code, strings.Contains(string(body), `"status":"success"`), strings.Contains(string(body), "Hello, Ada!"))
	// Output: 200 true true
}
