package action

import (
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/step/internal/stepkit"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Config is the `action` step's configuration. Which keys apply depends on
// Action (see docs/steps.md). The step's own timeout_seconds bounds an HTTP
// call, like any attempt.
type Config struct {
	Action string `yaml:"action,required"` // log | http

	Message string            `yaml:"message"` // log: template
	Level   string            `yaml:"level"`   // log: debug | info (default) | warn | error
	Fields  map[string]string `yaml:"fields"`  // log: templates

	Method       string            `yaml:"method"`        // http: default POST
	URL          string            `yaml:"url"`           // http: template
	Headers      map[string]string `yaml:"headers"`       // http: templates
	Body         string            `yaml:"body"`          // http: template; absent means no body
	ExpectStatus []int             `yaml:"expect_status"` // http: default any 2xx
}

// Spec returns the `action` step type.
func Spec() step.Spec {
	return step.Spec{Type: "action", NewConfig: func() any { return new(Config) }, Build: build}
}

// allKeys are the action-specific keys.
var allKeys = []string{"message", "level", "fields", "method", "url", "headers", "body", "expect_status"}

var actions = map[string]struct {
	keys    []string
	compile func(b *stepkit.Builder, c *Config, s *workflow.Step) step.Executor
}{
	"log":  {keys: []string{"message", "level", "fields"}, compile: compileLog},
	"http": {keys: []string{"method", "url", "headers", "body", "expect_status"}, compile: compileHTTP},
}

func build(sb step.Builder, s *workflow.Step) step.Executor {
	c := s.Config.(*Config)
	b := stepkit.Wrap(sb)
	a, ok := actions[c.Action]
	if !ok {
		b.Errorf("action", "%s", stepkit.Unknown("action", c.Action, []string{"http", "log"}))
		return nil
	}
	stepkit.Foreign(b, s, allKeys, a.keys, "action "+c.Action)
	e := a.compile(b, c, s)
	if b.Failed() {
		return nil
	}
	return e
}
