package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVersionAndHelpOnStdout: --help and --version go to stdout and exit 0
// (`--help | less` shows the flags), and a plain `go build -buildvcs=true`
// in a checkout names the VERSION file, the commit, whether the tree had
// changes, and the commit time.
func TestVersionAndHelpOnStdout(t *testing.T) {
	bin := exporterBinary(t)
	for _, flag := range []string{"--help", "--version"} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, flag)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v (want exit 0)", flag, err)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s wrote to stderr: %s", flag, stderr.String())
		}
		want := map[string]string{"--help": "--config.file", "--version": "dyvms_exporter, version"}[flag]
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%s stdout lacks %q:\n%s", flag, want, stdout.String())
		}
		if flag != "--version" {
			continue
		}
		git := func(args ...string) string {
			out, err := exec.Command("git", args...).Output()
			if err != nil {
				t.Fatalf("git %v: %v", args, err)
			}
			return strings.TrimSpace(string(out))
		}
		out := stdout.String()
		// Go stamps the VCS state only where .git is a directory: in a
		// `git worktree` checkout (.git is a file) it records none, and
		// the build says "unknown". CI and a user's clone have the
		// directory.
		rev, date := "unknown", "unknown"
		if fi, err := os.Stat(filepath.Join(git("rev-parse", "--show-toplevel"), ".git")); err == nil && fi.IsDir() {
			rev = git("rev-parse", "HEAD")
			if git("status", "--porcelain") != "" {
				rev += "-modified"
			}
			date = git("log", "-1", "--format=%cd", "--date=iso-strict-local")
			if ct, err := time.Parse(time.RFC3339, date); err == nil {
				date = ct.UTC().Format(time.RFC3339)
			}
		} else {
			t.Logf("a git worktree: Go stamps no VCS state, expecting revision and date unknown")
		}
		wantLine := "dyvms_exporter, version " + strings.TrimSpace(versionFile) + "-devel (branch: unknown, revision: " + rev + ")"
		if !strings.Contains(out, wantLine) {
			t.Errorf("--version of a plain build: want %q in\n%s", wantLine, out)
		}
		if m := regexp.MustCompile(`build date:\s+(\S+)`).FindStringSubmatch(out); m == nil || m[1] != date {
			t.Errorf("--version build date: want the commit time %s in\n%s", date, out)
		}
	}
}
