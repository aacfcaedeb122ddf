package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// auth returns a middleware that requires the bearer token when on is true
// and a token is configured; otherwise it returns handlers unchanged.
func (s *Server) auth(on bool) func(http.Handler) http.Handler {
	if !on || s.cfg.authToken == "" {
		return func(h http.Handler) http.Handler { return h }
	}
	// Compare fixed-size digests so that neither content nor length leaks
	// through timing.
	want := sha256.Sum256([]byte(s.cfg.authToken))
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := bearer(r.Header.Get("Authorization"))
			sum := sha256.Sum256([]byte(got))
			if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="orchestrator"`)
				writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}
