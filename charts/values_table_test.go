package charts

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the chart README's generated tables (values.yaml's keys, rules/' alerts)")

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

// TestValuesTable keeps the chart README's values table equal to
// values.yaml.
func TestValuesTable(t *testing.T) {
	checkGenerated(t, tableBegin, tableEnd, valuesTable(t))
}

// TestAlertsTable keeps the chart README's table of the alerts, with the
// comparisons alertOverrides can change, equal to rules/.
func TestAlertsTable(t *testing.T) {
	checkGenerated(t, alertsBegin, alertsEnd, alertsTable(t))
}

const (
	alertsBegin = "<!-- helm-alerts:begin (go test ./charts -run TestAlertsTable -update) -->"
	alertsEnd   = "<!-- helm-alerts:end -->"
)

var comparison = regexp.MustCompile(`(>=|<=|==|!=|>|<)\s*-?[0-9][0-9.eE+-]*`)

// alertsTable lists every alert of rules/dyvms.alerts.yml: its for, and
// the comparisons with a number its expression holds, as a threshold
// override names them.
func alertsTable(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "rules", "dyvms.alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			var cmps []string
			for _, c := range comparison.FindAllString(r.Expr, -1) {
				c = "`" + c + "`"
				if !slices.Contains(cmps, c) {
					cmps = append(cmps, c)
				}
			}
			rows = append(rows, fmt.Sprintf("| `%s` | %s | `%s` | %s |", r.Alert, r.Labels["severity"], r.For, strings.Join(cmps, ", ")))
		}
	}
	return "| alert | severity | for | comparisons |\n|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
}

// checkGenerated compares a generated section of the chart README with
// what it must hold, and rewrites it under -update.
func checkGenerated(t *testing.T, begin, end, want string) {
	t.Helper()
	path := filepath.Join(chartDir, "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, begin+"\n")
	got, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("%s has no %s ... %s section", path, begin, end)
	}
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(before+begin+"\n"+want+end+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the section %s differs from its source; run go test ./charts -update -run 'TestValuesTable|TestAlertsTable'\n---- want\n%s", path, begin, want)
}
