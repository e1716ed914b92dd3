package main

// The documentation's promises about the program: the configuration error
// it quotes, the flags it lists, the keys it lists, and the two commands of
// the README that a newcomer pastes. Links, anchors and the Chinese pages
// are checked in docs_test.go.

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/config"
)

// readDoc reads a documentation file by its path from the repository's top.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the lines of doc after the heading line that is exactly
// heading, up to the next heading of the same or a higher level outside
// fenced code.
func section(t *testing.T, doc, path, heading string) string {
	t.Helper()
	level := strings.IndexByte(heading, ' ')
	var out []string
	in, fenced := false, false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") {
			l := strings.IndexByte(line, ' ')
			if line == heading {
				in = true
				continue
			}
			if in && l > 0 && l <= level && strings.Trim(line[:l], "#") == "" {
				break
			}
		}
		if in {
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("%s has no %q section", path, heading)
	}
	return strings.Join(out, "\n")
}

// Every example of the duplicate-task error in the documentation, English
// or Chinese, is the message the loader really gives for the file it
// describes (a task listed twice, from line 1).
func TestDocumentedConfigErrorExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte("tasks:\n  - enterprise_id: 7000002\n    task_id: 19\n  - enterprise_id: 7000002\n    task_id: 19\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	if err == nil {
		t.Fatal("a duplicate task was accepted")
	}
	said := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
	example := regexp.MustCompile("config\\.yml:\\d+: [^`\\n]*duplicate task[^`\\n]*")
	found := 0
	for _, f := range markdownFiles(t) {
		for _, m := range example.FindAllString(readDoc(t, f), -1) {
			found++
			if m != said {
				t.Errorf("%s says\n\t%s\nthe loader says\n\t%s", f, m, said)
			}
		}
	}
	if found < 2 {
		t.Errorf("%d duplicate-task examples in the documentation, want at least docs/configuration.md's and docs/essential-configuration.md's", found)
	}
}

// Every flag the exporter takes is in the flag table of
// docs/configuration.md, and every flag there exists.
func TestFlagTable(t *testing.T) {
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
	const page = "docs/configuration.md"
	documented := map[string]bool{}
	for _, line := range strings.Split(section(t, readDoc(t, page), page, "## Command-line flags"), "\n") {
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
			t.Errorf("--%s is missing from the flag table of %s", f, page)
		}
	}
	for f := range documented {
		if !taken[f] {
			t.Errorf("the flag table of %s lists --%s, which the exporter does not take", page, f)
		}
	}
}

// configKeys returns every key the loader knows, as dotted paths with []
// for list entries (discovery[].types), read from the yaml tags of the
// configuration's types: the same tags the strict decoder checks a file
// against.
func configKeys(typ reflect.Type, prefix string, into map[string]bool) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" && strings.Contains(","+opts+",", ",inline,") {
			configKeys(f.Type, prefix, into) // its keys are the parent's
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := prefix + name
		into[path] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			configKeys(ft, path+".", into)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			configKeys(ft.Elem(), path+"[].", into)
		}
	}
}

// The key table of docs/configuration.md lists every key of the
// configuration file, and no other.
func TestConfigKeyTable(t *testing.T) {
	known := map[string]bool{}
	configKeys(reflect.TypeOf(config.Config{}), "", known)
	if len(known) < 20 {
		t.Fatalf("only %d configuration keys found: %v", len(known), known)
	}
	const page = "docs/configuration.md"
	row := regexp.MustCompile("^\\| `([a-z_\\[\\].]+)` \\|")
	listed := map[string]bool{}
	for _, line := range strings.Split(section(t, readDoc(t, page), page, "### Every key"), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			listed[m[1]] = true
		}
	}
	var missing, extra []string
	for k := range known {
		if !listed[k] {
			missing = append(missing, k)
		}
	}
	for k := range listed {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("keys the loader knows, missing from the key table of %s: %v", page, missing)
	}
	if len(extra) > 0 {
		t.Errorf("the key table of %s lists keys the loader does not know: %v", page, extra)
	}
}

// testCommand is the command that runs every test; .ci/run runs it too.
const testCommand = "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true go test -race -count=1 ./..."

// The README stays short and keeps the two commands a newcomer pastes on a
// fresh machine: the demo and every test, the latter exactly as CI runs it.
func TestREADMEIsShortAndRunnable(t *testing.T) {
	readme := readDoc(t, "README.md")
	if n := strings.Count(readme, "\n"); n > 400 {
		t.Errorf("README.md has %d lines; keep it to 400 and move detail to docs/", n)
	}
	for _, block := range []string{"```sh\ngo run . --simulator\n```", "```sh\n" + testCommand + "\n```"} {
		if !strings.Contains(readme, block) {
			t.Errorf("README.md lost the block\n%s", block)
		}
	}
	ci := readDoc(t, ".ci/run")
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(testCommand) + `$`).MatchString(ci) {
		t.Errorf(".ci/run does not run the README's test command %q", testCommand)
	}
}
