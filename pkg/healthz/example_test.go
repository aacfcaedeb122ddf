package healthz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/orchestrator-dev/orchestrator/pkg/healthz"
)

func ExampleHealth_SetDraining() {
	h, err := healthz.New(healthz.Options{Name: "orchestrator", Version: "1.0.0"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /health/live", h.LiveHandler())
	mux.Handle("GET /health/ready", h.ReadyHandler())

	probe := func(path string) int {
		rr := httptest.NewRecorder()
		mux.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, path, nil))
		return rr.Code
	}
	fmt.Println(probe("/health/live"), probe("/health/ready"))
	h.SetDraining() // first thing on SIGTERM
	fmt.Println(probe("/health/live"), probe("/health/ready"))
	// Output:
	// 200 200
	// 200 503
}
