package endpoint

import (
	"net/http"
	"testing"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
)

func TestResolve(t *testing.T) {
	own := &http.Client{}
	cases := []struct {
		name     string
		cfg      provider.Config
		wantBase string
		wantErr  string
	}{
		{"default base with key", provider.Config{APIKey: "k"}, "https://api.example.com/v1", ""},
		{"official host needs a key", provider.Config{}, "", "no API key configured"},
		{"named variable is reported", provider.Config{APIKeyEnv: "X_API_KEY"}, "", "X_API_KEY is not set"},
		{"compatible server without key", provider.Config{BaseURL: "http://localhost:11434/v1"}, "http://localhost:11434/v1", ""},
		{"bad scheme", provider.Config{BaseURL: "ftp://x", APIKey: "k"}, "", `invalid base URL "ftp://x": want http(s)://host[/path]`},
		{"no host", provider.Config{BaseURL: "http://", APIKey: "k"}, "", `invalid base URL "http://": want http(s)://host[/path]`},
		{"client is kept", provider.Config{APIKey: "k", HTTPClient: own}, "https://api.example.com/v1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, client, err := Resolve(c.cfg, "https://api.example.com/v1", "api.example.com")
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if base != c.wantBase || client == nil {
				t.Fatalf("base %q client %v", base, client)
			}
			if c.cfg.HTTPClient != nil && client != c.cfg.HTTPClient {
				t.Fatal("the configured client was replaced")
			}
		})
	}
}
