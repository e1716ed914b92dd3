package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "--quiet")
	run("add", "--all")
	run("commit", "--quiet", "-m", "one")
	return dir
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// Check refuses, with a message that says what to do, every checkout that
// is not exactly a tagged release commit.
func TestCheckRefuses(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := gitRepo(t, map[string]string{"VERSION": "0.1.0\n", "a.txt": "a\n"})
	o := Defaults()
	o.Repo = dir
	want := func(what, substr string) {
		t.Helper()
		_, err := Check(o)
		if err == nil || !strings.Contains(err.Error(), substr) {
			t.Errorf("%s: got %v, want an error containing %q", what, err, substr)
		}
	}
	want("no tag", "has no tag: tag it v0.1.0")
	o.Tag = "v0.1.0"
	want("a tag that does not exist", "tag v0.1.0 does not exist")
	gitCmd(t, dir, "tag", "v0.1.0")
	o.Tag = "v0.2.0"
	want("a tag that does not match VERSION", "tag v0.2.0 does not match VERSION 0.1.0")
	o.Tag = "0.1.0"
	want("a tag without v", "tag 0.1.0 does not match VERSION 0.1.0")
	o.Tag = ""
	if s, err := Check(o); err != nil || s.Version != "0.1.0" || s.Tag != "v0.1.0" || len(s.Revision) != 40 || s.CommitTime.IsZero() {
		t.Errorf("the tag at HEAD: %+v, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want("a modified file", "refusing to release a modified tree")
	want("a modified file is named", "a.txt")
	gitCmd(t, dir, "checkout", "--", "a.txt")
	if err := os.WriteFile(filepath.Join(dir, "new.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want("an untracked file", "new.txt")
	if err := os.Remove(filepath.Join(dir, "new.txt")); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, dir, "commit", "--quiet", "--allow-empty", "-m", "two")
	want("HEAD past the tag", "has no tag")
	o.Tag = "v0.1.0"
	want("a tag on another commit", "tag v0.1.0 is on")
	o.Tag = ""
	if err := os.WriteFile(filepath.Join(dir, "VERSION"), []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, dir, "commit", "--quiet", "-am", "three")
	want("a VERSION that is no version", `VERSION says "one"`)
}

// Archives are the same bytes for the same input, whenever they are made,
// with every entry owned by 0 and dated at the commit.
func TestArchiveIsReproducible(t *testing.T) {
	files := []file{{name: "dyvms_exporter", mode: 0o755, data: []byte("binary")}, {name: "LICENSE", mode: 0o644, data: []byte("licence")}}
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var a, b bytes.Buffer
	if err := writeTarGz(&a, "top", files, mtime); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a clock that leaked in would now differ
	if err := writeTarGz(&b, "top", files, mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same files differ")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header carries %v %q", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Errorf("%s: mtime %v uid %d gid %d uname %q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
	}
	if got := strings.Join(names, " "); got != "top/ top/LICENSE top/dyvms_exporter" {
		t.Errorf("entries %s", got)
	}
}

// NOTICE names every module linked into the exporter, at the version
// linked: a new dependency cannot ship without its licence being looked at.
func TestNoticeListsEveryLinkedModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Version}}{{end}}", "../..").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	notice, err := os.ReadFile("../../NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, version, _ := strings.Cut(line, " ")
		if path == modulePath || seen[path] {
			continue
		}
		seen[path] = true
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `\s+` + regexp.QuoteMeta(version) + `\s+(Apache-2.0|MIT|BSD-[23]-Clause|ISC)`).Match(notice) {
			t.Errorf("NOTICE does not list %s %s with a permissive licence: check its licence and add it", path, version)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("go list found only %d modules", len(seen))
	}
}
