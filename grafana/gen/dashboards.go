package main

import (
	"encoding/json"
	"fmt"
	"github.com/grafana/grafana-foundation-sdk/go/cog"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

type file struct {
	name string
	data []byte
}

// dashboards lists every dashboard this program writes, by file name.
func dashboards() []struct {
	name string
	b    *dashboard.DashboardBuilder
} {
	return []struct {
		name string
		b    *dashboard.DashboardBuilder
	}{
		{"orchestrator-overview.json", overview()},
		{"orchestrator-llm.json", llm()},
	}
}

// render builds every dashboard and encodes it as indented JSON.
func render() ([]file, error) {
	var files []file
	for _, d := range dashboards() {
		built, err := d.b.Build()
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", d.name, err)
		}
		numberPanels(&built)
		data, err := json.MarshalIndent(built, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", d.name, err)
		}
		files = append(files, file{name: d.name, data: append(data, '\n')})
	}
	return files, nil
}

// base holds the settings both dashboards share.
func base(uid, title, desc string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(desc).
		Tags([]string{"orchestrator"}).
		Refresh("10s").
		Time("now-30m", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Orchestrator dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"orchestrator"}).
			AsDropdown(true).
			Icon("external link").
			Tooltip("All orchestrator dashboards").
			IncludeVars(true).
			KeepTime(true))
}

// numberPanels gives every row and panel a stable, unique id in layout order,
// so that links to a panel (viewPanel=N) survive regeneration.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		}
	}
}
