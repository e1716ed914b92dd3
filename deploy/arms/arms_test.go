package arms

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

var rulesDir = filepath.Join("..", "..", "rules")

// TestGeneratedFilesAreCurrent: the files here are what go generate writes
// from rules/ today.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	want, err := Render(rulesDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go generate ./deploy/arms)", err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("deploy/arms/%s is not what rules/ generates; run go generate ./deploy/arms", name)
		}
	}
}

func groups(t *testing.T, path string) []any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc) != 1 {
		t.Errorf("%s: top-level keys %v, want only groups", path, doc)
	}
	g, _ := doc["groups"].([]any)
	if len(g) == 0 {
		t.Fatalf("%s: no groups", path)
	}
	return g
}

// TestFormsEqualRules: read back as YAML, each generated file holds
// exactly the groups of its rule file (whatever Render does, the meaning
// is rules/'); RecordingRule.yaml holds recording rules only, as ARMS
// takes there, and the templates alerting rules only.
func TestFormsEqualRules(t *testing.T) {
	for _, f := range Files {
		got, want := groups(t, f.Name), groups(t, filepath.Join(rulesDir, f.Source))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s does not hold the groups of rules/%s", f.Name, f.Source)
		}
		for _, g := range got {
			for _, r := range g.(map[string]any)["rules"].([]any) {
				_, record := r.(map[string]any)["record"]
				if record != (f.Name == "RecordingRule.yaml") {
					t.Errorf("%s holds %v", f.Name, r)
				}
			}
		}
	}
}

// TestFormsPassPromtool: promtool accepts both files as rule files, and
// the repository's promtool tests pass on them in place of rules/.
func TestFormsPassPromtool(t *testing.T) {
	tools := []string{testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")}
	if p3 := os.Getenv("DYVMS_PROMTOOL3"); p3 != "" {
		tools = append(tools, p3)
	}
	dir := t.TempDir()
	for _, f := range Files {
		b, err := os.ReadFile(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		// Under the source's name, so that the tests' rule_files find it.
		if err := os.WriteFile(filepath.Join(dir, f.Source), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests, err := filepath.Glob(filepath.Join(rulesDir, "tests", "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rules/tests: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := filepath.Join(dir, "tests", filepath.Base(f))
		if err := os.WriteFile(c, b, 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c)
	}
	for _, promtool := range tools {
		for _, f := range Files {
			if out, err := exec.Command(promtool, "check", "rules", f.Name).CombinedOutput(); err != nil {
				t.Errorf("%s check rules %s: %v\n%s", promtool, f.Name, err, out)
			}
		}
		out, err := exec.Command(promtool, append([]string{"test", "rules"}, copies...)...).CombinedOutput()
		if err != nil {
			t.Errorf("%s test rules on the ARMS forms: %v\n%s", promtool, err, out)
		}
		if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("%s test rules: no SUCCESS in\n%s", promtool, out)
		}
	}
}
