package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/config"
)

// The README's example of a configuration error is the message the loader
// really gives for the file it describes (a task listed twice, from line 1).
func TestREADMEConfigErrorExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example := regexp.MustCompile(`(?m)^config\.yml:\d+: .*duplicate task.*$`).FindString(string(readme))
	if example == "" {
		t.Fatal("README has no duplicate-task example message")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte("tasks:\n  - enterprise_id: 7000002\n    task_id: 19\n  - enterprise_id: 7000002\n    task_id: 19\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(path)
	if err == nil {
		t.Fatal("a duplicate task was accepted")
	}
	if got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)); got != example {
		t.Errorf("README says\n\t%s\nthe loader says\n\t%s", example, got)
	}
}

// Every flag the exporter takes is in the README's flag table, and every
// flag there exists.
func TestREADMEFlagTable(t *testing.T) {
	help, err := exec.Command(exporterBinary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, help)
	}
	flagRe := regexp.MustCompile(`--([a-z][a-z0-9.-]+)`)
	taken := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9.-]+)`).FindAllStringSubmatch(string(help), -1) {
		if m[1] != "help" && m[1] != "help-long" && m[1] != "help-man" && m[1] != "version" {
			taken[m[1]] = true
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "### Command-line flags")
	if start < 0 {
		t.Fatal("README has no \"### Command-line flags\" section")
	}
	section = section[start:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range flagRe.FindAllStringSubmatch(cells[1], -1) {
			documented[m[1]] = true
		}
	}
	if len(taken) < 10 {
		t.Fatalf("only %d flags found in --help:\n%s", len(taken), help)
	}
	for f := range taken {
		if !documented[f] {
			t.Errorf("--%s is missing from the README's flag table", f)
		}
	}
	for f := range documented {
		if !taken[f] {
			t.Errorf("the README's flag table lists --%s, which the exporter does not take", f)
		}
	}
}
