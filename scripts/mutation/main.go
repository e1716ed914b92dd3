// Command mutation is the repository's mutation check: it applies each
// one-line mutation of a list (mutants.txt) to a copy of the module, runs
// the tests of the package that owns the mutated file, and reports which
// mutants the tests killed (a test failed) and which survived. A survivor
// is a plausible bug no test would catch: write the test, never delete
// the mutant.
//
//	go run ./scripts/mutation                 # every mutant
//	go run ./scripts/mutation -run pacer/     # those of files under pacer/
//	go run ./scripts/mutation -min 95         # exit 1 below a 95 % kill rate
//
// Each line of the list is "file<TAB>old<TAB>new": the text old, which
// must occur exactly once in file, is replaced by new. Lines starting with
// # and empty lines are ignored. The tests run with -short, -count=1 and
// -failfast and a time limit per mutant; a mutant that makes them hang
// past it counts as killed (the suite noticed); one that does not build
// tests nothing: it is not counted, and the run fails until it is
// rewritten.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type mutant struct {
	line          int
	file, old, nw string
}

func main() {
	list := flag.String("list", "scripts/mutation/mutants.txt", "the list of mutants")
	run := flag.String("run", "", "only the mutants of files whose path contains this")
	minRate := flag.Float64("min", 0, "fail (exit 1) when the kill rate in percent is below this")
	timeout := flag.Duration("timeout", 4*time.Minute, "time limit of one mutant's tests")
	dry := flag.Bool("check", false, "only check that every mutant applies (its text occurs once)")
	flag.Parse()
	mutants, err := readList(*list)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *dry {
		bad := 0
		for _, m := range mutants {
			b, err := os.ReadFile(filepath.Join(root, m.file))
			if n := bytes.Count(b, []byte(m.old)); err != nil || n != 1 {
				fmt.Printf("%s:%d: %s: %q occurs %d times (%v)\n", *list, m.line, m.file, m.old, n, err)
				bad++
			}
		}
		fmt.Printf("%d mutants, %d do not apply\n", len(mutants), bad)
		if bad > 0 {
			os.Exit(1)
		}
		return
	}
	work, err := os.MkdirTemp("", "dyvms-mutation-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer os.RemoveAll(work)
	if err := copyModule(root, work); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var killed, total int
	var survivors, unbuildable []string
	for _, m := range mutants {
		if *run != "" && !strings.Contains(m.file, *run) {
			continue
		}
		total++
		outcome, detail, err := try(work, m, *timeout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s:%d: %v\n", *list, m.line, err)
			os.Exit(2)
		}
		name := fmt.Sprintf("%s:%d %s: %q -> %q", *list, m.line, m.file, m.old, m.nw)
		switch outcome {
		case "survived":
			survivors = append(survivors, name)
		case "unbuildable":
			// It tests nothing: it counts neither way, and the run fails
			// until the mutant is rewritten.
			unbuildable = append(unbuildable, name+"\n    "+detail)
			total--
		default:
			killed++
		}
		fmt.Printf("%-11s %s %s\n", outcome, name, detail)
	}
	if total == 0 {
		fmt.Println("no mutants")
		return
	}
	rate := 100 * float64(killed) / float64(total)
	fmt.Printf("\n%d mutants, %d killed, %d survived: kill rate %.1f %% (%d did not build)\n", total, killed, len(survivors), rate, len(unbuildable))
	for _, s := range survivors {
		fmt.Println("SURVIVED", s)
	}
	for _, s := range unbuildable {
		fmt.Println("DID NOT BUILD (fix the mutant)", s)
	}
	if rate < *minRate || len(unbuildable) > 0 {
		os.Exit(1)
	}
}

func readList(path string) ([]mutant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mutant
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, "\t")
		if len(parts) != 3 || parts[1] == "" || parts[1] == parts[2] {
			return nil, fmt.Errorf("%s:%d: want file<TAB>old<TAB>new with old non-empty and different from new", path, n)
		}
		out = append(out, mutant{line: n, file: parts[0], old: unescape(parts[1]), nw: unescape(parts[2])})
	}
	return out, sc.Err()
}

// unescape turns \t and \n in the list into a tab and a newline.
func unescape(s string) string { return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s) }

// copyModule copies the Go module at root (without .git) to dst.
func copyModule(root, dst string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

// try applies m in work, runs the owning package's tests and restores the
// file.
func try(work string, m mutant, timeout time.Duration) (outcome, detail string, err error) {
	path := filepath.Join(work, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	if n := bytes.Count(orig, []byte(m.old)); n != 1 {
		return "", "", fmt.Errorf("%s: %q occurs %d times, want exactly once", m.file, m.old, n)
	}
	if err := os.WriteFile(path, bytes.Replace(orig, []byte(m.old), []byte(m.nw), 1), 0o644); err != nil {
		return "", "", err
	}
	defer os.WriteFile(path, orig, 0o644)

	pkg := "./" + filepath.ToSlash(filepath.Dir(m.file))
	if vet := exec.Command("go", "build", pkg); true {
		vet.Dir = work
		if out, err := vet.CombinedOutput(); err != nil {
			return "unbuildable", firstLine(out), nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-short", "-count=1", "-failfast", pkg)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start).Round(100 * time.Millisecond)
	switch {
	case ctx.Err() != nil:
		return "killed", fmt.Sprintf("(timed out after %v)", took), nil
	case err == nil:
		return "survived", fmt.Sprintf("(%v)", took), nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "", "", err
	}
	return "killed", fmt.Sprintf("(%v) %s", took, failingTest(out)), nil
}

func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

// failingTest is the first "--- FAIL" line, or the first line of a build
// failure of the tests.
func failingTest(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
			return strings.TrimSpace(l)
		}
	}
	return firstLine(out)
}
