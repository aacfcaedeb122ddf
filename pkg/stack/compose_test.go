package stack

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// loadCompose loads compose.yaml the way `docker compose` does (schema
// validation, interpolation, normalisation, consistency checks).
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{path(t, "compose.yaml")},
		cli.WithWorkingDirectory(root(t)),
		cli.WithEnv([]string{}),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	names := p.ServiceNames()
	slices.Sort(names)
	if want := []string{"demo", "grafana", "orchestrator", "otel-collector", "prometheus"}; !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}
	for _, name := range names {
		s := p.Services[name]
		t.Run(name, func(t *testing.T) {
			if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Interval == nil || s.HealthCheck.Timeout == nil {
				t.Errorf("no complete healthcheck: %+v", s.HealthCheck)
			}
			for dep, d := range s.DependsOn {
				target, ok := p.Services[dep]
				if !ok {
					t.Errorf("depends on unknown service %q", dep)
					continue
				}
				switch d.Condition {
				case types.ServiceConditionHealthy:
					if target.HealthCheck == nil || target.HealthCheck.Disable {
						t.Errorf("waits for %q to be healthy, but it has no healthcheck", dep)
					}
				case types.ServiceConditionStarted, types.ServiceConditionCompletedSuccessfully:
				default:
					t.Errorf("dependency on %q has no condition", dep)
				}
			}
			if name != "otel-collector" && len(s.DependsOn) == 0 {
				t.Error("no depends_on: the stack would start out of order")
			}
			if s.Build != nil {
				if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
					t.Errorf("build: %v", err)
				}
			} else if tag := imageTag(s.Image); tag == "" || tag == "latest" {
				t.Errorf("image %q is not pinned to a version", s.Image)
			}
			for _, v := range s.Volumes {
				switch v.Type {
				case types.VolumeTypeBind:
					if _, err := os.Stat(v.Source); err != nil {
						t.Errorf("bind mount %s: %v", v.Target, err)
					}
					if !v.ReadOnly {
						t.Errorf("bind mount %s is writable; mount repository files read-only", v.Target)
					}
				case types.VolumeTypeVolume:
					if _, ok := p.Volumes[v.Source]; !ok {
						t.Errorf("volume %q is not declared", v.Source)
					}
				default:
					t.Errorf("unexpected volume type %q at %s", v.Type, v.Target)
				}
			}
			for _, port := range s.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("port %d is published on %q; publish on 127.0.0.1 only", port.Target, port.HostIP)
				}
			}
			// A healthcheck binary must exist in the container: ours is in
			// the images built from the Dockerfile (/usr/local/bin, every
			// stage), the others use their image's own wget.
			if hc := s.HealthCheck; hc != nil && len(hc.Test) > 1 && hc.Test[0] == "CMD" {
				switch bin := hc.Test[1]; bin {
				case "/usr/local/bin/orchestrator":
					if s.Build == nil {
						t.Errorf("healthcheck runs %s, but the image is not built from the Dockerfile", bin)
					}
					if hc.Test[2] != "healthcheck" {
						t.Errorf("healthcheck %v does not use `orchestrator healthcheck`", hc.Test)
					}
				case "wget":
				default:
					t.Errorf("healthcheck runs unknown binary %q", bin)
				}
			}
		})
	}
}

func imageTag(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

// TestComposeWiring checks that the files compose.yaml mounts agree with it
// on ports, paths and versions: what would otherwise only fail at
// `docker compose up`.
func TestComposeWiring(t *testing.T) {
	p := loadCompose(t)
	env := func(svc, key string) string {
		v := p.Services[svc].Environment[key]
		if v == nil {
			t.Errorf("%s: %s is not set", svc, key)
			return ""
		}
		return *v
	}
	mountOf := func(svc, target string) string {
		for _, v := range p.Services[svc].Volumes {
			if v.Target == target {
				return v.Source
			}
		}
		t.Errorf("%s: nothing mounted at %s", svc, target)
		return ""
	}

	// The collector is the Dockerfile's otel-collector stage: the pinned
	// contrib image (TestDockerfile checks its version).
	if b := p.Services["otel-collector"].Build; b == nil || b.Target != "otel-collector" {
		t.Errorf("otel-collector build = %+v, want the Dockerfile's otel-collector stage", b)
	}
	if src := mountOf("otel-collector", "/etc/otelcol-contrib/config.yaml"); src != path(t, "otel-collector", "config.yaml") {
		t.Errorf("collector config mounted from %s", src)
	}
	// The orchestrator pushes OTLP to the collector's gRPC port.
	if got, want := env("orchestrator", "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://otel-collector:"+port(collectorDefault(t, "OTELCOL_OTLP_GRPC_ENDPOINT")); got != want {
		t.Errorf("orchestrator OTEL_EXPORTER_OTLP_ENDPOINT = %q, want %q", got, want)
	}
	// Prometheus scrapes the collector's exporter and the orchestrator.
	if src := mountOf("prometheus", "/etc/prometheus/prometheus.yml"); src != path(t, "prometheus", "prometheus.yml") {
		t.Errorf("prometheus config mounted from %s", src)
	}
	if src := mountOf("prometheus", "/etc/prometheus/rules"); src != path(t, "prometheus", "rules") {
		t.Errorf("prometheus rules mounted from %s", src)
	}
	targets := scrapeTargets(t)
	for job, want := range map[string]string{
		"otel-collector": "otel-collector:" + port(collectorDefault(t, "OTELCOL_PROMETHEUS_ENDPOINT")),
		"otelcol":        "otel-collector:" + collectorDefault(t, "OTELCOL_TELEMETRY_PORT"),
		"orchestrator":   "orchestrator:8080",
	} {
		if !slices.Equal(targets[job], []string{want}) {
			t.Errorf("prometheus job %q scrapes %v, want [%s]", job, targets[job], want)
		}
	}
	if cmd := p.Services["orchestrator"].Command; !slices.Contains(cmd, ":8080") {
		t.Errorf("orchestrator command %v does not listen on :8080", cmd)
	}
	if cmd := strings.Join(p.Services["demo"].Command, " "); !strings.HasPrefix(cmd, "demo --target http://orchestrator:8080") {
		t.Errorf("demo command %q", cmd)
	}
	// Grafana: anonymous viewers, provisioning, the overview as home.
	if env("grafana", "GF_AUTH_ANONYMOUS_ENABLED") != "true" || env("grafana", "GF_AUTH_ANONYMOUS_ORG_ROLE") != "Viewer" {
		t.Error("grafana: anonymous read-only access is not enabled")
	}
	dashDir := mountOf("grafana", "/var/lib/grafana/dashboards")
	home := env("grafana", "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
	if rel, ok := strings.CutPrefix(home, "/var/lib/grafana/dashboards/"); !ok || rel != "orchestrator-overview.json" {
		t.Errorf("home dashboard %q is not the mounted overview", home)
	} else if _, err := os.Stat(filepath.Join(dashDir, rel)); err != nil {
		t.Errorf("home dashboard: %v", err)
	}
	if src := mountOf("grafana", "/etc/grafana/provisioning"); src != path(t, "grafana", "provisioning") {
		t.Errorf("grafana provisioning mounted from %s", src)
	}
	var prov struct {
		Providers []struct{ Options struct{ Path string } }
	}
	readYAML(t, path(t, "grafana", "provisioning", "dashboards", "orchestrator.yaml"), &prov)
	if len(prov.Providers) != 1 || prov.Providers[0].Options.Path != "/var/lib/grafana/dashboards" {
		t.Errorf("dashboard provider %+v does not read /var/lib/grafana/dashboards", prov)
	}
	var ds struct {
		Datasources []struct{ UID, Type, URL string }
	}
	readYAML(t, path(t, "grafana", "provisioning", "datasources", "prometheus.yaml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].UID != "prometheus" || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("datasources %+v: want one prometheus datasource, uid prometheus, at http://prometheus:9090", ds)
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(path(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	stages := map[string]string{} // stage name -> image
	var user, healthcheck string
	var static bool
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(string(raw), "\\\n", " ")))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms = append(froms, fields[1])
			if len(fields) == 4 && strings.EqualFold(fields[2], "AS") {
				stages[fields[3]] = fields[1]
			}
			healthcheck = "" // the last stage's counts
		case "USER":
			user = fields[1]
		case "HEALTHCHECK":
			healthcheck = strings.Join(fields[1:], " ")
		case "RUN":
			if slices.Contains(fields, "CGO_ENABLED=0") && slices.Contains(fields, "build") {
				static = true
			}
		}
	}
	for _, from := range froms {
		if _, isStage := stages[from]; !isStage {
			if tag := imageTag(from); tag == "" || tag == "latest" {
				t.Errorf("FROM %s is not pinned to a version", from)
			}
		}
	}
	if len(froms) < 2 {
		t.Errorf("not a multi-stage build: FROM %v", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.HasSuffix(final, ":nonroot") {
		t.Errorf("final stage %s: want distroless static, nonroot", final)
	}
	// The collector stage is the contrib image of the version whose
	// components otel-collector/dist builds and the tests run.
	want := "otel/opentelemetry-collector-contrib:" + strings.TrimPrefix(distVersion(t, "github.com/open-telemetry/opentelemetry-collector-contrib/"), "v")
	if got := stages["otel-collector"]; got != want {
		t.Errorf("otel-collector stage FROM %q, want %q (the contrib version of otel-collector/dist)", got, want)
	}
	if !strings.HasPrefix(user, "nonroot") {
		t.Errorf("USER %q: want nonroot", user)
	}
	if !static {
		t.Error("no `CGO_ENABLED=0 go build`: the binary must be static for distroless/static")
	}
	if !regexp.MustCompile(`CMD \["/usr/local/bin/orchestrator", "healthcheck"`).MatchString(healthcheck) {
		t.Errorf("HEALTHCHECK %q: want CMD [\"/usr/local/bin/orchestrator\", \"healthcheck\", ...]", healthcheck)
	}
	ignore, err := os.ReadFile(path(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, want := range []string{".git", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

// distVersion returns the version otel-collector/dist/go.mod requires for
// the first module with the given path prefix.
func distVersion(t *testing.T, prefix string) string {
	t.Helper()
	raw, err := os.ReadFile(path(t, "otel-collector", "dist", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], prefix) {
			return f[1]
		}
	}
	t.Fatalf("otel-collector/dist/go.mod requires no %s module", prefix)
	return ""
}

var envDefault = regexp.MustCompile(`\$\{env:([A-Z0-9_]+):-([^}]*)\}`)

// collectorDefault is the default of ${env:NAME:-default} in the collector
// config.
func collectorDefault(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(path(t, "otel-collector", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range envDefault.FindAllStringSubmatch(string(raw), -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("otel-collector/config.yaml has no ${env:%s:-...}", name)
	return ""
}

func port(hostport string) string {
	_, p, _ := strings.Cut(hostport, ":")
	return p
}

// scrapeTargets maps each job of prometheus/prometheus.yml to its targets.
func scrapeTargets(t *testing.T) map[string][]string {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, path(t, "prometheus", "prometheus.yml"), &cfg)
	out := map[string][]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			out[sc.JobName] = append(out[sc.JobName], st.Targets...)
		}
	}
	return out
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
