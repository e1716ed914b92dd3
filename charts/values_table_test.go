package charts

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the README's values table from values.yaml")

const (
	tableBegin = "<!-- helm-values:begin (go test ./charts -run TestValuesTable -update) -->"
	tableEnd   = "<!-- helm-values:end -->"
)

// valuesTable renders the README's table of the chart's values from
// values.yaml: one row per documented key (the comment above it), in the
// file's order, with its default. A key without a comment is a section
// whose keys are listed instead; a value without one is an error.
func valuesTable(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var rows []string
	var walk func(prefix string, m *yaml.Node)
	walk = func(prefix string, m *yaml.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := prefix + k.Value
			desc := comment(k.HeadComment)
			if desc == "" {
				if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
					walk(key+".", v)
					continue
				}
				t.Errorf("values.yaml:%d: %s has no comment to describe it", k.Line, key)
				continue
			}
			var val any
			if err := v.Decode(&val); err != nil {
				t.Fatal(err)
			}
			def, err := json.Marshal(val)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %s |", key, def, strings.ReplaceAll(desc, "|", `\|`)))
		}
	}
	walk("", doc.Content[0])
	return "| value | default | meaning |\n|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
}

// comment joins the lines of a head comment, without the # marks.
func comment(c string) string {
	var out []string
	for _, l := range strings.Split(c, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#"))
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}

// TestValuesTable keeps the README's values table equal to values.yaml.
func TestValuesTable(t *testing.T) {
	want := valuesTable(t)
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, tableBegin+"\n")
	got, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no %s ... %s section", tableBegin, tableEnd)
	}
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(before+tableBegin+"\n"+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's values table differs from charts/dyvms-exporter/values.yaml; run go test ./charts -run TestValuesTable -update\n---- want\n%s", want)
}
