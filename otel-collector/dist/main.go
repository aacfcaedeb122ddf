// Program otelcol-orchestrator is the OpenTelemetry Collector distribution
// bundled with orchestrator: exactly the components otel-collector/config.yaml
// uses, built from Go modules pinned in this module's go.mod (core v0.165.0 /
// stable v1.71.0, contrib v0.165.1) so that the collector's dependencies stay
// out of the main module.
//
// It is what the `ocb` builder would generate for the same component list,
// written by hand so that no builder binary is needed:
//
//	make collector    # scripts/build-collector.sh: cd otel-collector/dist && go build -o ../../bin/otelcol-orchestrator .
//	bin/otelcol-orchestrator validate --config=otel-collector/config.yaml
package main

import (
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version is the distribution version; it follows the core collector release.
const version = "0.165.0"

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-orchestrator",
			Description: "OpenTelemetry Collector distribution for orchestrator",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	}
	// cobra prints the error; exiting non-zero is all that is left to do.
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		os.Exit(1)
	}
}
