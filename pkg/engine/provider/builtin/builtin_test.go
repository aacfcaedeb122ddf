package builtin_test

import (
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/builtin"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRegistry(t *testing.T) {
	if got, want := builtin.Registry().Kinds(), []string{"anthropic", "openai", "simulated"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
}

func TestDefaultConfigs(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []provider.Config
	}{
		{
			name: "no environment",
			want: []provider.Config{
				{Name: "openai", Kind: "openai", BaseURL: "https://api.openai.com/v1", APIKeyEnv: "OPENAI_API_KEY"},
				{Name: "anthropic", Kind: "anthropic", BaseURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY"},
				{Name: "simulated", Kind: "simulated"},
			},
		},
		{
			name: "keys and base URLs",
			env: map[string]string{"OPENAI_API_KEY": "sk-o", "OPENAI_BASE_URL": "http://localhost:11434/v1",
				"ANTHROPIC_API_KEY": "sk-a", "ANTHROPIC_BASE_URL": "http://proxy:8080"},
			want: []provider.Config{
				{Name: "openai", Kind: "openai", BaseURL: "http://localhost:11434/v1", APIKey: "sk-o", APIKeyEnv: "OPENAI_API_KEY"},
				{Name: "anthropic", Kind: "anthropic", BaseURL: "http://proxy:8080", APIKey: "sk-a", APIKeyEnv: "ANTHROPIC_API_KEY"},
				{Name: "simulated", Kind: "simulated"},
			},
		},
		{
			name: "compatible server without key",
			env:  map[string]string{"OPENAI_BASE_URL": "http://localhost:11434/v1"},
			want: []provider.Config{
				{Name: "openai", Kind: "openai", BaseURL: "http://localhost:11434/v1"},
				{Name: "anthropic", Kind: "anthropic", BaseURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY"},
				{Name: "simulated", Kind: "simulated"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := builtin.DefaultConfigs(envOf(tc.env)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DefaultConfigs =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestMissingKeyNamesTheVariable(t *testing.T) {
	set, err := builtin.Registry().NewSet(builtin.DefaultConfigs(envOf(nil)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"openai":    `provider "openai": OPENAI_API_KEY is not set`,
		"anthropic": `provider "anthropic": ANTHROPIC_API_KEY is not set`,
	} {
		e, ok := set.Lookup(name)
		if !ok || e.Err == nil || e.Err.Error() != want {
			t.Errorf("%s: entry error = %v, want %q", name, e.Err, want)
		}
	}
	if e, _ := set.Lookup("simulated"); e.Err != nil || e.Provider == nil {
		t.Errorf("simulated entry = %+v, want usable", e)
	}
}

func TestLoadFile(t *testing.T) {
	env := envOf(map[string]string{"VLLM_API_KEY": "sk-vllm", "OPENAI_API_KEY": "sk-default-openai"})
	tests := []struct {
		file    string
		want    []provider.Config
		wantErr string
	}{
		{
			file: "testdata/valid.yaml",
			want: []provider.Config{
				// MY_OPENAI_KEY is unset: the openai entry will say so.
				{Name: "openai", Kind: "openai", BaseURL: "https://api.openai.com/v1", APIKeyEnv: "MY_OPENAI_KEY"},
				{Name: "anthropic", Kind: "anthropic", BaseURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY"},
				{Name: "simulated", Kind: "simulated"},
				// No api_key_env with a base_url: no key, never OPENAI_API_KEY.
				{Name: "ollama", Kind: "openai", BaseURL: "http://localhost:11434/v1"},
				{Name: "vllm", Kind: "openai", BaseURL: "http://gpu-box:8000/v1", APIKey: "sk-vllm", APIKeyEnv: "VLLM_API_KEY"},
				{Name: "claude-proxy", Kind: "anthropic", BaseURL: "https://llm-proxy.internal/anthropic"},
				{Name: "sim2", Kind: "simulated"},
			},
		},
		{file: "testdata/empty.yaml", want: builtin.DefaultConfigs(env)},
		{file: "testdata/no_providers.yaml", want: builtin.DefaultConfigs(env)},
		{
			file: "testdata/invalid.yaml",
			wantErr: strings.Join([]string{
				`testdata/invalid.yaml:5:5: unknown key "timeout" in a provider (allowed: name, kind, base_url, api_key_env)`,
				`testdata/invalid.yaml:4:15: invalid base_url "localhost:11434": want http(s)://host[/path]`,
				`testdata/invalid.yaml:6:11: provider "ollama" defined twice`,
				`testdata/invalid.yaml:7:11: unknown kind "llama" (want anthropic, openai, simulated)`,
				`testdata/invalid.yaml:8:5: provider is missing "name"`,
				`testdata/invalid.yaml:9:18: invalid api_key_env "not a var": want an environment variable name`,
				`testdata/invalid.yaml:10:11: invalid provider name "bad name!": use letters, digits and "_.-", at most 64 characters`,
				`testdata/invalid.yaml:12:15: base_url is not used by kind simulated`,
				`testdata/invalid.yaml:13:11: name must be a non-empty string`,
				`testdata/invalid.yaml:17:5: key "kind" defined twice in a provider`,
				`testdata/invalid.yaml:18:5: a provider must be a mapping`,
			}, "\n"),
		},
		{file: "testdata/unknown_top.yaml", wantErr: `testdata/unknown_top.yaml:1:1: unknown key "provider" in the providers file (allowed: providers)`},
		{file: "testdata/not_a_list.yaml", wantErr: `testdata/not_a_list.yaml:2:3: providers must be a list`},
		{file: "testdata/syntax.yaml", wantErr: `testdata/syntax.yaml: yaml: line 1: did not find expected '-' indicator`},
		{file: "testdata/missing.yaml", wantErr: `providers file: open testdata/missing.yaml: no such file or directory`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := builtin.LoadFile(tc.file, env)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error =\n%v\nwant\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadFile =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestLoadFileBuildsASet(t *testing.T) {
	cfgs, err := builtin.LoadFile("testdata/valid.yaml", envOf(map[string]string{"VLLM_API_KEY": "sk-vllm"}))
	if err != nil {
		t.Fatal(err)
	}
	set, err := builtin.Registry().NewSet(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ollama", "vllm", "claude-proxy", "sim2", "simulated"} {
		if e, ok := set.Lookup(name); !ok || e.Err != nil {
			t.Errorf("%s: %+v", name, e)
		}
	}
	e, _ := set.Lookup("openai")
	if e.Err == nil || !strings.Contains(e.Err.Error(), "MY_OPENAI_KEY is not set") {
		t.Errorf("openai entry error = %v, want MY_OPENAI_KEY is not set", e.Err)
	}
}
