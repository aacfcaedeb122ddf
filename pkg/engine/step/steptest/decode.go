package steptest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orchestrator-dev/orchestrator/pkg/engine/step"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// Decode decodes src, a YAML mapping holding one step (id, optional type,
// depends_on, output, timeout_seconds and the type's keys), into a
// workflow.Step whose Config is spec.NewConfig() filled in. It follows the
// workflow decoder's tag rules: `yaml:"name"`, `yaml:"name,required"`, and
// `yaml:",inline"` on a map[string]any for every other key. Unknown keys and
// missing required keys are errors. FieldPos records every key's value.
func Decode(spec step.Spec, src string) (*workflow.Step, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("a step must be a mapping")
	}
	root := doc.Content[0]
	s := &workflow.Step{
		Type: spec.Type, Retry: workflow.DefaultRetry, Config: spec.NewConfig(),
		Pos: workflow.Pos{Line: root.Line, Column: root.Column}, FieldPos: map[string]workflow.Pos{},
	}
	cfg := reflect.ValueOf(s.Config).Elem()
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, root.Content[i+1]
		s.FieldPos[key] = workflow.Pos{Line: val.Line, Column: val.Column}
		seen[key] = true
		var err error
		switch key {
		case "id":
			err = val.Decode(&s.ID)
		case "type":
			err = val.Decode(&s.Type)
		case "depends_on":
			err = val.Decode(&s.DependsOn)
		case "output":
			err = val.Decode(&s.Output)
		case "timeout_seconds":
			err = val.Decode(&s.TimeoutSeconds)
		default:
			err = decodeField(cfg, key, val)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: key %q: %w", val.Line, key, err)
		}
	}
	for i := range cfg.NumField() {
		name, flags := tag(cfg.Type().Field(i))
		if slices.Contains(flags, "required") && !seen[name] {
			return nil, fmt.Errorf("missing required key %q", name)
		}
	}
	return s, nil
}

func decodeField(cfg reflect.Value, key string, val *yaml.Node) error {
	inline := -1
	for i := range cfg.NumField() {
		name, flags := tag(cfg.Type().Field(i))
		if name == key {
			return val.Decode(cfg.Field(i).Addr().Interface())
		}
		if slices.Contains(flags, "inline") {
			inline = i
		}
	}
	if inline < 0 {
		return errors.New("unknown key")
	}
	var v any
	if err := val.Decode(&v); err != nil {
		return err
	}
	m := cfg.Field(inline)
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	m.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(&v).Elem())
	return nil
}

func tag(f reflect.StructField) (name string, flags []string) {
	parts := strings.Split(f.Tag.Get("yaml"), ",")
	return parts[0], parts[1:]
}
