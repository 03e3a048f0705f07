// Package configs holds the YAML configs embedded into the advgs binary: one per
// benchmark target (gmm, funnel, ...) and one per detector recipe. Each file says in
// its comments how it differs from the paper's settings and why.
package configs

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Get returns the embedded config name (without .yaml).
func Get(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no embedded config %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Names lists the embedded configs.
func Names() []string {
	es, _ := files.ReadDir(".")
	var n []string
	for _, e := range es {
		n = append(n, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(n)
	return n
}
