package builtin

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/anthropic"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/openai"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/provider/simulated"
)

// The provider kinds this package registers.
const (
	KindOpenAI    = "openai"
	KindAnthropic = "anthropic"
	KindSimulated = "simulated"
)

// Registry returns a new registry with the openai, anthropic and simulated
// kinds.
func Registry() *provider.Registry {
	r := provider.NewRegistry()
	r.Register(KindOpenAI, openai.New)
	r.Register(KindAnthropic, anthropic.New)
	r.Register(KindSimulated, simulated.New)
	return r
}

// env describes where a kind takes its defaults from.
type env struct {
	baseURLVar, keyVar, defaultBaseURL, officialHost string
}

var kindEnv = map[string]env{
	KindOpenAI:    {"OPENAI_BASE_URL", "OPENAI_API_KEY", openai.DefaultBaseURL, "api.openai.com"},
	KindAnthropic: {"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", anthropic.DefaultBaseURL, "api.anthropic.com"},
}

// DefaultConfigs returns the default providers: openai (OPENAI_API_KEY,
// OPENAI_BASE_URL), anthropic (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL) and
// simulated, with variables read through getenv (os.Getenv in production).
// A missing key is not an error here: the provider's entry in the Set
// carries it, so only workflows that use the provider fail.
func DefaultConfigs(getenv func(string) string) []provider.Config {
	return []provider.Config{
		configFor(KindOpenAI, KindOpenAI, "", "", getenv),
		configFor(KindAnthropic, KindAnthropic, "", "", getenv),
		configFor(KindSimulated, KindSimulated, "", "", getenv),
	}
}

// configFor resolves one provider. An empty baseURL means the kind's
// *_BASE_URL variable or its official URL; an empty keyEnv then means the
// kind's *_API_KEY variable, which is required only for the official URL.
// With an explicit baseURL and no keyEnv the provider has no key: a key
// meant for the official API is never sent elsewhere by default.
func configFor(name, kind, baseURL, keyEnv string, getenv func(string) string) provider.Config {
	cfg := provider.Config{Name: name, Kind: kind}
	e, ok := kindEnv[kind]
	if !ok {
		return cfg
	}
	implicitKey := false
	if baseURL == "" {
		baseURL = getenv(e.baseURLVar)
		if baseURL == "" {
			baseURL = e.defaultBaseURL
		}
		if keyEnv == "" {
			keyEnv, implicitKey = e.keyVar, true
		}
	}
	cfg.BaseURL = baseURL
	if keyEnv != "" {
		cfg.APIKey = getenv(keyEnv)
	}
	if implicitKey && cfg.APIKey == "" {
		if u, err := url.Parse(baseURL); err == nil && u.Hostname() != e.officialHost {
			keyEnv = "" // a keyless compatible server
		}
	}
	cfg.APIKeyEnv = keyEnv
	return cfg
}

// LoadFile reads a providers file and returns the default configs with the
// file's entries applied: an entry named like a default replaces it, others
// are appended in file order. See Parse for the format.
func LoadFile(path string, getenv func(string) string) ([]provider.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("providers file: %w", err)
	}
	return Parse(path, data, getenv)
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Parse decodes a providers file named file:
//
//	providers:
//	  - name: ollama            # required: letters, digits, "_.-", at most 64
//	    kind: openai            # required: openai, anthropic or simulated
//	    base_url: http://localhost:11434/v1
//	    api_key_env: OLLAMA_KEY # optional: the variable holding the key
//
// Parsing is strict: unknown keys, duplicate keys or names, wrong types and
// invalid values are errors. Every problem is reported, each as
// "file:line:col: message", joined with errors.Join.
func Parse(file string, data []byte, getenv func(string) string) ([]provider.Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p := &parser{file: file, kinds: Registry().Kinds()}
	var entries []provider.Config
	if len(doc.Content) > 0 {
		entries = p.parseFile(doc.Content[0], getenv)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	cfgs := DefaultConfigs(getenv)
	for _, e := range entries {
		if i := slices.IndexFunc(cfgs, func(c provider.Config) bool { return c.Name == e.Name }); i >= 0 {
			cfgs[i] = e
		} else {
			cfgs = append(cfgs, e)
		}
	}
	return cfgs, nil
}

type parser struct {
	file  string
	kinds []string
	errs  []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d:%d: %s", p.file, n.Line, n.Column, fmt.Sprintf(format, args...)))
}

// fields checks that n is a mapping with only the allowed keys, each once,
// and returns the value node of each key.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			p.errorf(k, "unknown key %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.errorf(k, "key %q defined twice in %s", k.Value, what)
		default:
			out[k.Value] = v
		}
	}
	return out
}

func (p *parser) parseFile(root *yaml.Node, getenv func(string) string) []provider.Config {
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	list := p.fields(root, "the providers file", "providers")["providers"]
	if list == nil || list.Tag == "!!null" {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.errorf(list, "providers must be a list")
		return nil
	}
	var out []provider.Config
	seen := map[string]bool{}
	for _, item := range list.Content {
		f := p.fields(item, "a provider", "name", "kind", "base_url", "api_key_env")
		if f == nil {
			continue
		}
		name, okName := p.str(item, f, "name", true)
		kind, okKind := p.str(item, f, "kind", true)
		base, _ := p.str(item, f, "base_url", false)
		keyEnv, _ := p.str(item, f, "api_key_env", false)
		if okName {
			switch {
			case !nameRE.MatchString(name):
				p.errorf(f["name"], "invalid provider name %q: use letters, digits and \"_.-\", at most 64 characters", name)
			case seen[name]:
				p.errorf(f["name"], "provider %q defined twice", name)
			}
			seen[name] = true
		}
		if okKind && !slices.Contains(p.kinds, kind) {
			p.errorf(f["kind"], "unknown kind %q (want %s)", kind, strings.Join(p.kinds, ", "))
			okKind = false
		}
		if okKind && kind == KindSimulated {
			for _, k := range []string{"base_url", "api_key_env"} {
				if f[k] != nil {
					p.errorf(f[k], "%s is not used by kind simulated", k)
				}
			}
		}
		if base != "" {
			if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.errorf(f["base_url"], "invalid base_url %q: want http(s)://host[/path]", base)
			}
		}
		if keyEnv != "" && !envRE.MatchString(keyEnv) {
			p.errorf(f["api_key_env"], "invalid api_key_env %q: want an environment variable name", keyEnv)
		}
		if okName && okKind {
			out = append(out, configFor(name, kind, base, keyEnv, getenv))
		}
	}
	return out
}

// str returns the string value of key in f, reporting a missing required
// key (at the position of the mapping) or a non-string value.
func (p *parser) str(item *yaml.Node, f map[string]*yaml.Node, key string, required bool) (string, bool) {
	v := f[key]
	if v == nil {
		if required {
			p.errorf(item, "provider is missing %q", key)
		}
		return "", false
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || v.Value == "" {
		p.errorf(v, "%s must be a non-empty string", key)
		return "", false
	}
	return v.Value, true
}
