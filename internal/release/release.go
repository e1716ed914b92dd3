// Package release builds and publishes a release of dyvms_exporter from a
// clean git checkout whose tag matches the VERSION file: reproducible
// archives with a checksums file, a multi-architecture OCI image (scratch
// layout, OCI labels, an SPDX SBOM inside) and the packaged Helm chart,
// then pushes image and chart to an OCI registry.
//
// It needs no container daemon: the image is assembled from the
// cross-compiled binaries with go-containerregistry and pushed over the
// registry API; the chart is packaged and pushed with helm. The same code
// runs in the tag workflow against ghcr.io and in the release test against
// a registry on loopback, so the test exercises what a release does.
//
// Everything is checked and built before the first push: a refused or
// failed run leaves the registry untouched.
//
// Why go-containerregistry rather than goreleaser or ko: there is no
// Docker daemon here or on CI; ko builds images without one but neither
// archives nor charts, and goreleaser's image and publishing steps lean on
// a daemon or on ko and a large tool outside the module. The library that
// ko and crane are built on is a module dependency like any other: the
// release is one Go program, and the test runs it in process against the
// same library's registry on loopback.
package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options are what cmd/dyvms-release's flags set.
type Options struct {
	Repo           string   // git checkout to release (its root)
	Tag            string   // the release tag, "v" + VERSION; "" to take the tag at HEAD
	Dist           string   // output directory
	Platforms      []string // archive platforms, GOOS/GOARCH
	ImagePlatforms []string // image platforms (linux/...), a subset of Platforms
	Registry       string   // host[:port] of the OCI registry
	ImageRepo      string   // image repository within Registry
	ChartRepo      string   // chart namespace within Registry (oci://Registry/ChartRepo/<chart>)
	ChartDir       string   // the chart, relative to Repo
	Helm           string   // helm binary
	PlainHTTP      bool     // talk HTTP to the registry (a loopback test registry)
	Push           bool     // push image and chart; without it only dist/ is written
	ArchivesOnly   bool     // stop after the archives and checksums
	CACerts        string   // CA bundle copied into the image
	ZoneInfo       string   // zone database directory copied into the image
	Log            io.Writer
}

// Defaults are the project's published coordinates.
func Defaults() Options {
	return Options{
		Repo:           ".",
		Dist:           "dist",
		Platforms:      []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"},
		ImagePlatforms: []string{"linux/amd64", "linux/arm64"},
		Registry:       "ghcr.io",
		ImageRepo:      "dyvms-community/dyvms_exporter",
		ChartRepo:      "dyvms-community/charts",
		ChartDir:       "charts/dyvms-exporter",
		Helm:           "helm",
		CACerts:        "/etc/ssl/certs/ca-certificates.crt",
		ZoneInfo:       "/usr/share/zoneinfo",
		Log:            io.Discard,
	}
}

// Binary is the exporter's file name; Project prefixes the archives.
const (
	Binary     = "dyvms_exporter"
	Project    = "dyvms_exporter"
	SourceURL  = "https://github.com/dyvms-community/dyvms_exporter"
	Licence    = "Apache-2.0"
	modulePath = "github.com/dyvms-community/dyvms_exporter"
)

// Source is the commit being released.
type Source struct {
	Version    string    // VERSION, e.g. 0.1.0
	Tag        string    // v0.1.0
	Revision   string    // full commit hash
	Branch     string    // git's name for HEAD ("HEAD" on a detached tag checkout)
	CommitTime time.Time // the fixed time of every file and of the build date
}

// Result says what a run produced.
type Result struct {
	Source      Source
	Archives    []string // paths under Dist
	Checksums   string   // path of the checksums file
	ImageRef    string   // registry/repo:version
	ImageDigest string   // digest of the pushed (or built) index
	Chart       string   // path of the packaged chart
	ChartRef    string   // oci://registry/chartrepo/name
}

// Check validates the checkout before anything is built: a clean tree and
// a tag that names VERSION and points at HEAD. Every refusal says why and
// what to do.
func Check(o Options) (Source, error) {
	var s Source
	if _, err := git(o.Repo, "rev-parse", "--git-dir"); err != nil {
		return s, fmt.Errorf("%s is not a git checkout: a release is built from a commit (%v)", o.Repo, err)
	}
	status, err := git(o.Repo, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return s, err
	}
	if status != "" {
		lines := strings.Split(status, "\n")
		if len(lines) > 10 {
			lines = append(lines[:10], fmt.Sprintf("... and %d more", len(lines)-10))
		}
		return s, fmt.Errorf("refusing to release a modified tree: commit or stash these changes first (git status):\n  %s", strings.Join(lines, "\n  "))
	}
	raw, err := os.ReadFile(filepath.Join(o.Repo, "VERSION"))
	if err != nil {
		return s, fmt.Errorf("reading the VERSION file: %w", err)
	}
	s.Version = strings.TrimSpace(string(raw))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(s.Version) {
		return s, fmt.Errorf("VERSION says %q: want a semantic version such as 0.1.0", s.Version)
	}
	if s.Revision, err = git(o.Repo, "rev-parse", "HEAD"); err != nil {
		return s, err
	}
	s.Tag = o.Tag
	if s.Tag == "" {
		s.Tag, _ = git(o.Repo, "describe", "--tags", "--exact-match", "HEAD")
		if s.Tag == "" {
			return s, fmt.Errorf("HEAD (%s) has no tag: tag it v%s (git tag -a v%s) or pass --tag", short(s.Revision), s.Version, s.Version)
		}
	}
	if s.Tag != "v"+s.Version {
		return s, fmt.Errorf("tag %s does not match VERSION %s: the release tag must be v%s (change VERSION in a commit, or tag that commit v%s)", s.Tag, s.Version, s.Version, s.Version)
	}
	tagged, err := git(o.Repo, "rev-parse", s.Tag+"^{commit}")
	if err != nil {
		return s, fmt.Errorf("tag %s does not exist in %s: create it on the commit to release (git tag -a %s)", s.Tag, o.Repo, s.Tag)
	}
	if tagged != s.Revision {
		return s, fmt.Errorf("tag %s is on %s, but HEAD is %s: check out the tag to release it", s.Tag, short(tagged), short(s.Revision))
	}
	if s.Branch, err = git(o.Repo, "rev-parse", "--abbrev-ref", "HEAD"); err != nil {
		return s, err
	}
	ct, err := git(o.Repo, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return s, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("commit time %q: %w", ct, err)
	}
	s.CommitTime = time.Unix(sec, 0).UTC()
	return s, nil
}

// Run checks, builds and (with Push) publishes a release.
func Run(o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	if err := checkOptions(o); err != nil {
		return nil, err
	}
	src, err := Check(o)
	if err != nil {
		return nil, err
	}
	res := &Result{Source: src}
	logf("releasing %s (%s, %s, committed %s)", src.Version, src.Tag, src.Revision, src.CommitTime.Format(time.RFC3339))
	if o.Push {
		// Fail on a missing helm before minutes of building.
		if _, err := exec.LookPath(o.Helm); err != nil {
			return nil, fmt.Errorf("helm (%s) is needed to package and push the chart: %w", o.Helm, err)
		}
	}
	if err := os.MkdirAll(o.Dist, 0o755); err != nil {
		return nil, err
	}
	dist, err := filepath.Abs(o.Dist)
	if err != nil {
		return nil, err
	}

	bins := map[string]string{}
	sboms := map[string][]byte{}
	for _, p := range o.Platforms {
		t0 := time.Now()
		bin, err := build(o.Repo, filepath.Join(dist, "build", strings.ReplaceAll(p, "/", "-")), p, src)
		if err != nil {
			return nil, err
		}
		bins[p] = bin
		if sboms[p], err = SBOM(bin, src, p); err != nil {
			return nil, err
		}
		logf("built %s in %v", p, time.Since(t0).Round(time.Millisecond))
	}
	for _, p := range o.Platforms {
		a, err := writeArchive(o.Repo, dist, p, bins[p], sboms[p], src)
		if err != nil {
			return nil, err
		}
		res.Archives = append(res.Archives, a)
	}
	if res.Checksums, err = writeChecksums(dist, src, res.Archives); err != nil {
		return nil, err
	}
	logf("archives and %s written", filepath.Base(res.Checksums))
	if o.ArchivesOnly {
		return res, nil
	}

	idx, err := buildIndex(o, src, bins, sboms)
	if err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	res.ImageDigest = d.String()
	res.ImageRef = o.Registry + "/" + o.ImageRepo + ":" + src.Version
	logf("image index %s (%s)", d, strings.Join(o.ImagePlatforms, ", "))

	chartName := filepath.Base(o.ChartDir)
	res.ChartRef = "oci://" + o.Registry + "/" + o.ChartRepo
	if _, err := exec.LookPath(o.Helm); err == nil {
		out, err := runCmd(o.Repo, nil, o.Helm, "package", o.ChartDir, "--version", src.Version, "--app-version", src.Version, "--destination", dist)
		if err != nil {
			return nil, fmt.Errorf("helm package: %v\n%s", err, out)
		}
		res.Chart = filepath.Join(dist, chartName+"-"+src.Version+".tgz")
		logf("chart %s", filepath.Base(res.Chart))
	} else {
		logf("no helm (%s): the chart is not packaged", o.Helm)
	}
	if !o.Push {
		return res, nil
	}

	if err := pushIndex(o, res.ImageRef, idx); err != nil {
		return nil, fmt.Errorf("pushing the image %s: %w", res.ImageRef, err)
	}
	logf("pushed %s@%s", res.ImageRef, res.ImageDigest)
	args := []string{"push", res.Chart, res.ChartRef}
	if o.PlainHTTP {
		args = append(args, "--plain-http")
	}
	if err := helmLogin(o); err != nil {
		return nil, err
	}
	if out, err := runCmd(o.Repo, nil, o.Helm, args...); err != nil {
		return nil, fmt.Errorf("helm push: %v\n%s", err, out)
	}
	logf("pushed %s/%s:%s", res.ChartRef, chartName, src.Version)
	return res, nil
}

func checkOptions(o Options) error {
	if len(o.Platforms) == 0 {
		return errors.New("no platforms to build")
	}
	have := map[string]bool{}
	for _, p := range o.Platforms {
		if !regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`).MatchString(p) {
			return fmt.Errorf("platform %q: want GOOS/GOARCH", p)
		}
		have[p] = true
	}
	for _, p := range o.ImagePlatforms {
		if !have[p] || !strings.HasPrefix(p, "linux/") {
			return fmt.Errorf("image platform %q must be a linux platform among --platforms", p)
		}
	}
	if !o.ArchivesOnly && len(o.ImagePlatforms) == 0 {
		return errors.New("no image platforms")
	}
	return nil
}

// build cross-compiles the exporter for one platform: static, -trimpath,
// the version variables of prometheus/common/version set, and the VCS
// state recorded (-buildvcs=true, whatever GOFLAGS says) so that the SBOM
// and `go version -m` name the commit too.
func build(repo, dir, platform string, s Source) (string, error) {
	goos, goarch, _ := strings.Cut(platform, "/")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, Binary)
	if goos == "windows" {
		out += ".exe"
	}
	const v = "github.com/prometheus/common/version"
	ldflags := strings.Join([]string{
		"-s", "-w",
		"-X", v + ".Version=" + s.Version,
		"-X", v + ".Revision=" + s.Revision,
		"-X", v + ".Branch=" + s.Branch,
		"-X", v + ".BuildUser=dyvms-release",
		"-X", v + ".BuildDate=" + s.CommitTime.Format(time.RFC3339),
	}, " ")
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if o, err := runCmd(repo, env, "go", "build", "-trimpath", "-buildvcs=true", "-ldflags", ldflags, "-o", out, "."); err != nil {
		return "", fmt.Errorf("go build for %s: %v\n%s", platform, err, o)
	}
	return out, nil
}

func git(dir string, args ...string) (string, error) {
	out, err := runCmd(dir, nil, "git", args...)
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func runCmd(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// helmLogin logs helm in with the same credentials as the image push when
// they come from the environment (the tag workflow); otherwise helm uses
// its own registry configuration.
func helmLogin(o Options) error {
	u, p := os.Getenv("DYVMS_REGISTRY_USERNAME"), os.Getenv("DYVMS_REGISTRY_PASSWORD")
	if u == "" || p == "" {
		return nil
	}
	cmd := exec.Command(o.Helm, "registry", "login", o.Registry, "--username", u, "--password-stdin")
	cmd.Stdin = strings.NewReader(p)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("helm registry login %s: %v\n%s", o.Registry, err, out)
	}
	return nil
}
