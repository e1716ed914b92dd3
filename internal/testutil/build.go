package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var builds struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string // by build flags
	errs map[string]error
}

// BuildExporter builds the exporter (the module's main package) as a user
// would, with -race when the tests run with it, once per test process for
// each set of extra flags (-trimpath, say), and returns the binary's path.
// Every test that runs the real binary gets it here: one build per test
// binary instead of one per test or per package helper. Call RemoveBuilds
// from TestMain when the package's tests are done.
func BuildExporter(t testing.TB, flags ...string) string {
	t.Helper()
	return BuildExporterWith(t, BuildOptions{Flags: flags, Race: raceEnabled})
}

// BuildOptions are the ways a test needs the binary built differently:
// the container image's static Linux binary (CGO_ENABLED=0, no -race,
// -trimpath), say.
type BuildOptions struct {
	Flags []string // extra flags of go build
	Env   []string // added to the environment of go build
	Race  bool     // build with -race
}

// BuildExporterWith is BuildExporter with options; builds are shared by
// every test of the process asking for the same ones.
func BuildExporterWith(t testing.TB, o BuildOptions) string {
	t.Helper()
	key := fmt.Sprintf("%q %q %v", o.Flags, o.Env, o.Race)
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if bin, ok := builds.bins[key]; ok {
		return bin
	}
	if err, ok := builds.errs[key]; ok {
		t.Fatal(err)
	}
	bin, err := build(o)
	if builds.bins == nil {
		builds.bins, builds.errs = map[string]string{}, map[string]error{}
	}
	if err != nil {
		builds.errs[key] = err
		t.Fatal(err)
	}
	builds.bins[key] = bin
	return bin
}

func build(o BuildOptions) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the Go toolchain is not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %v", err)
	}
	root := strings.TrimSpace(string(out))
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "dyvms-exporter-build-"); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(builds.dir, fmt.Sprintf("dyvms_exporter-%d", len(builds.bins)))
	// -buildvcs=true as the README's build command: the binary carries its
	// revision even where GOFLAGS=-buildvcs=false.
	args := append([]string{"build", "-buildvcs=true", "-o", bin}, o.Flags...)
	if o.Race {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), o.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// RemoveBuilds deletes what BuildExporter built; call it from TestMain
// after m.Run.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.bins, builds.errs = "", nil, nil
}
