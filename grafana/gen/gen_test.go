package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

const committed = "../dashboards"

func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob(filepath.Join(committed, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(files) {
		t.Errorf("grafana/dashboards has %d files, the generator writes %d: %v", len(onDisk), len(files), onDisk)
	}
	for _, f := range files {
		old, err := os.ReadFile(filepath.Join(committed, f.name))
		if err != nil {
			t.Fatalf("%v (run `make dashboards`)", err)
		}
		if !bytes.Equal(old, f.data) {
			t.Errorf("grafana/dashboards/%s differs from the generator's output: run `make dashboards`", f.name)
		}
	}
	// -check agrees.
	if err := run(committed, true); err != nil {
		t.Errorf("run -check: %v", err)
	}
	if err := run(t.TempDir(), true); err == nil {
		t.Error("run -check on an empty directory: want an error")
	}
}

func TestDashboardsUnmarshalStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range dashboardFiles(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(committed, name))
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := unmarshalStrict(raw, &d); err != nil {
				t.Fatalf("strict unmarshal: %v", err)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if d.Uid == nil || *d.Uid+".json" != name {
				t.Errorf("uid %v does not match the file name %s", d.Uid, name)
			}
			// Strictness is real: an unknown field is rejected.
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			m["notAField"] = 1
			bad, _ := json.Marshal(m)
			if err := unmarshalStrict(bad, new(dashboard.Dashboard)); err == nil {
				t.Error("strict unmarshal accepted an unknown field")
			}
		})
	}
}

// TestDashboardContent checks what a person relies on: every panel has a
// unit, queries use the provisioned datasource, the grid has no overlaps,
// the variables exist, the overview shows all nine metrics and the
// orchestrator_* ones beyond them, and the LLM dashboard the GenAI ones.
func TestDashboardContent(t *testing.T) {
	nine := []string{
		"orchestrator_workflow_executions_total", "orchestrator_workflow_duration_seconds",
		"orchestrator_active_workflows", "orchestrator_llm_requests_total", "orchestrator_llm_tokens_total",
		"orchestrator_llm_request_duration_seconds", "orchestrator_step_executions_total",
		"orchestrator_step_duration_seconds", "orchestrator_errors_total",
	}
	beyond := []string{
		"orchestrator_llm_time_to_first_token_seconds", "orchestrator_llm_cost_usd_total", "orchestrator_workflow_cost_usd_total",
		"orchestrator_step_retries_total", "orchestrator_step_backoff_seconds", "orchestrator_llm_rate_limit_wait_seconds",
		"orchestrator_run_queue_depth", "orchestrator_run_queue_wait_seconds", "orchestrator_label_overflow_total",
		"orchestrator_run_rejections_total",
	}
	genAI := []string{
		"gen_ai_client_operation_duration_seconds", "gen_ai_client_token_usage", "gen_ai_client_operation_time_to_first_chunk_seconds",
	}
	tests := []struct {
		file    string
		vars    []string
		metrics []string
		types   []string
	}{
		{"orchestrator-overview.json", []string{"job", "workflow_name", "provider", "model"}, append(nine, beyond...), []string{"heatmap", "stat", "table", "timeseries"}},
		{"orchestrator-llm.json", []string{"job", "provider", "model"}, append([]string{"orchestrator_llm_requests_total", "orchestrator_llm_tokens_total",
			"orchestrator_llm_request_duration_seconds", "orchestrator_errors_total", "orchestrator_llm_cost_usd_total",
			"orchestrator_llm_time_to_first_token_seconds", "orchestrator_llm_rate_limit_wait_seconds"}, genAI...), []string{"heatmap", "stat", "table", "timeseries"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := loadJSON(t, tt.file)
			var vars []string
			for _, v := range d.Templating.List {
				vars = append(vars, v.Name)
			}
			if !slices.Equal(vars, tt.vars) {
				t.Errorf("variables = %v, want %v", vars, tt.vars)
			}
			var exprs strings.Builder
			var types []string
			grid := map[[2]int]string{}
			titles := map[string]bool{}
			for _, p := range d.Panels {
				for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
					for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
						if other, ok := grid[[2]int{x, y}]; ok {
							t.Errorf("panel %q overlaps %q at (%d,%d)", p.Title, other, x, y)
						}
						grid[[2]int{x, y}] = p.Title
					}
				}
				if p.GridPos.X+p.GridPos.W > 24 {
					t.Errorf("panel %q is wider than the grid", p.Title)
				}
				if p.Type == "row" {
					continue
				}
				if titles[p.Title] {
					t.Errorf("duplicate panel title %q", p.Title)
				}
				titles[p.Title] = true
				if !slices.Contains(types, p.Type) {
					types = append(types, p.Type)
				}
				if p.FieldConfig.Defaults.Unit == "" {
					t.Errorf("panel %q has no unit", p.Title)
				}
				if p.Description == "" {
					t.Errorf("panel %q has no description", p.Title)
				}
				if p.Datasource.UID != datasourceUID || len(p.Targets) == 0 {
					t.Errorf("panel %q: datasource %q, %d targets", p.Title, p.Datasource.UID, len(p.Targets))
				}
				for _, tg := range p.Targets {
					if tg.Datasource.UID != datasourceUID || tg.Expr == "" || tg.RefID == "" {
						t.Errorf("panel %q target %+v: want datasource %q, an expr and a refId", p.Title, tg, datasourceUID)
					}
					exprs.WriteString(tg.Expr + "\n")
				}
			}
			slices.Sort(types)
			if !slices.Equal(types, tt.types) {
				t.Errorf("panel types = %v, want %v", types, tt.types)
			}
			for _, m := range tt.metrics {
				if !strings.Contains(exprs.String(), m) {
					t.Errorf("no panel queries %s", m)
				}
			}
		})
	}
}

// unmarshalStrict wraps UnmarshalJSONStrict, which returns a typed nil
// cog.BuildErrors on success (a non-nil error interface).
func unmarshalStrict(raw []byte, d *dashboard.Dashboard) error {
	err := d.UnmarshalJSONStrict(raw)
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

type panelJSON struct {
	Type, Title, Description string
	GridPos                  struct{ X, Y, W, H int }
	Datasource               struct{ UID string }
	FieldConfig              struct{ Defaults struct{ Unit string } }
	Targets                  []struct {
		Datasource struct{ UID string }
		Expr       string
		RefID      string `json:"refId"`
	}
}

type dashboardJSON struct {
	Templating struct{ List []struct{ Name string } }
	Panels     []panelJSON
}

func loadJSON(t *testing.T, name string) dashboardJSON {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(committed, name))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, d := range dashboards() {
		names = append(names, d.name)
	}
	return names
}
