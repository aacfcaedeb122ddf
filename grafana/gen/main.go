package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", filepath.Join("grafana", "dashboards"), "directory the dashboard JSON files are written to")
	check := flag.Bool("check", false, "do not write; exit 1 when a file in -out differs from the generated one")
	flag.Parse()
	if err := run(*out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	files, err := render()
	if err != nil {
		return err
	}
	var stale []string
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.data) {
				stale = append(stale, path)
			}
			continue
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write dashboard: %w", err)
		}
		fmt.Println("wrote", path)
	}
	if len(stale) > 0 {
		return fmt.Errorf("dashboards out of date, run `make dashboards`: %v", stale)
	}
	return nil
}
