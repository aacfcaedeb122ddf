// Package endpoint resolves the base URL, credentials requirement and HTTP
// client of an SDK-backed provider (openai, anthropic) from its
// provider.Config, the same way for both. Pure functions.
package endpoint

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

// Resolve returns the base URL (cfg.BaseURL, else defaultBase) and the HTTP
// client (cfg.HTTPClient, else a new one). The base URL must be
// http(s)://host[/path]. An API key is required when cfg.APIKeyEnv names
// the variable it should have come from (the error names the variable,
// never a value) or when the host is officialHost; other hosts (Ollama,
// vLLM, proxies) may go without.
func Resolve(cfg provider.Config, defaultBase, officialHost string) (string, *http.Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = defaultBase
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("invalid base URL %q: want http(s)://host[/path]", base)
	}
	if cfg.APIKey == "" && (cfg.APIKeyEnv != "" || u.Hostname() == officialHost) {
		if cfg.APIKeyEnv != "" {
			return "", nil, fmt.Errorf("%s is not set", cfg.APIKeyEnv)
		}
		return "", nil, errors.New("no API key configured")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return base, client, nil
}
