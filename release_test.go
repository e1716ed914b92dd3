package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dyvms-community/dyvms_exporter/internal/release"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// TestRelease runs the release pipeline the tag workflow runs
// (internal/release, as cmd/dyvms-release calls it) on a clean commit of
// this tree tagged v<VERSION>, against a real OCI registry on loopback
// (go-containerregistry's registry, in process), then does what a user
// does: pulls the chart, renders it with default image values but the
// registry host (and the one task the chart requires), resolves the rendered image to an index for linux/amd64 and
// linux/arm64, pulls the amd64 image with buildah and runs it: --version
// names the release and its commit, --simulator serves /metrics.
//
// Before that, a modified tree and a tag that does not match VERSION are
// refused with a clear message and the registry stays empty; after it, a
// second build gives the same archive bytes and the same image digest.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, pushes, pulls and runs a whole release")
	}
	// The Helm .ci/tools.sh builds (HELM_VERSION there).
	helm := testutil.ToolFromEnv(t, "DYVMS_HELM", testutil.CachedToolPath("helm", "v3.22.0", "helm"), "source .ci/tools.sh && build_ci_tools")
	b := &buildah{t: t, bin: testutil.Tool(t, "buildah", "Debian: apt-get install -y buildah")}
	testutil.Tool(t, "git", "Debian: apt-get install -y git")
	started := time.Now()
	work := t.TempDir()

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	catalog := func() []string {
		resp, err := http.Get(srv.URL + "/v2/_catalog")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c struct{ Repositories []string }
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c.Repositories
	}

	repo := filepath.Join(work, "repo")
	version := snapshotRepo(t, repo)
	tag := "v" + version
	opts := release.Defaults()
	opts.Repo = repo
	opts.Dist = filepath.Join(work, "dist")
	opts.Platforms = []string{"linux/amd64", "linux/arm64"}
	opts.Registry = host
	opts.PlainHTTP = true
	opts.Push = true
	opts.Helm = helm
	opts.Tag = tag
	var logs bytes.Buffer
	opts.Log = &logs

	// Bad input: refused before anything is built or pushed.
	bad := opts
	bad.Tag = "v0.0.99"
	if _, err := release.Run(bad); err == nil || !strings.Contains(err.Error(), "tag v0.0.99 does not match VERSION "+version) {
		t.Errorf("a tag that does not match VERSION: got %v", err)
	}
	if err := os.WriteFile(filepath.Join(repo, "config.yml"), []byte("# changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Run(opts); err == nil || !strings.Contains(err.Error(), "refusing to release a modified tree") || !strings.Contains(err.Error(), "config.yml") {
		t.Errorf("a modified tree: got %v", err)
	}
	gitIn(t, repo, "checkout", "--", "config.yml")
	if got := catalog(); len(got) != 0 {
		t.Fatalf("a refused release pushed %v", got)
	}
	if _, err := os.Stat(opts.Dist); err == nil {
		t.Errorf("a refused release wrote %s", opts.Dist)
	}

	res, err := release.Run(opts)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, logs.String())
	}
	t.Logf("release %s built and pushed in %v:\n%s", version, time.Since(started).Round(time.Second), logs.String())
	revision := gitIn(t, repo, "rev-parse", "HEAD")

	// The archives: named the Prometheus way, with what they promise, and
	// listed in the checksums file.
	sums, err := os.ReadFile(res.Checksums)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range opts.Platforms {
		name := release.ArchiveName(version, p) + ".tar.gz"
		if !regexp.MustCompile(`(?m)^[0-9a-f]{64}  ` + regexp.QuoteMeta(name) + `$`).Match(sums) {
			t.Errorf("%s is not in %s:\n%s", name, filepath.Base(res.Checksums), sums)
		}
		out, err := exec.Command("tar", "-tzvf", filepath.Join(opts.Dist, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("tar -t %s: %v\n%s", name, err, out)
		}
		top := release.ArchiveName(version, p)
		for _, f := range []string{"dyvms_exporter", "LICENSE", "NOTICE", "config.yml"} {
			if !regexp.MustCompile(`(?m) ` + regexp.QuoteMeta(top+"/"+f) + `$`).Match(out) {
				t.Errorf("%s lacks %s:\n%s", name, f, out)
			}
		}
	}
	check := exec.Command("sha256sum", "--check", "--strict", filepath.Base(res.Checksums))
	check.Dir = opts.Dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum --check in %s: %v\n%s", opts.Dist, err, out)
	} else if strings.Count(string(out), ": OK") != 2*len(opts.Platforms) {
		t.Errorf("sha256sum --check: %s", out)
	}

	// Reproducible: the same commit gives the same bytes.
	again := opts
	again.Dist = filepath.Join(work, "dist-again")
	again.Push = false
	res2, err := release.Run(again)
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	sums2, _ := os.ReadFile(res2.Checksums)
	if !bytes.Equal(sums, sums2) {
		t.Errorf("two builds of the same commit differ:\n%s\n%s", sums, sums2)
	}
	if res2.ImageDigest != res.ImageDigest {
		t.Errorf("two builds of the same commit give the image indexes %s and %s", res.ImageDigest, res2.ImageDigest)
	}

	// As a user: pull the chart and render it with default values, the
	// registry host aside.
	chartDir := filepath.Join(work, "pulled")
	if err := os.Mkdir(chartDir, 0o755); err != nil {
		t.Fatal(err)
	}
	chartRef := res.ChartRef + "/" + filepath.Base(opts.ChartDir)
	if out, err := exec.Command(helm, "pull", chartRef, "--version", version, "--plain-http", "--destination", chartDir).CombinedOutput(); err != nil {
		t.Fatalf("helm pull %s: %v\n%s", chartRef, err, out)
	}
	tgz := filepath.Join(chartDir, filepath.Base(opts.ChartDir)+"-"+version+".tgz")
	// The chart ships no workload (it refuses to render without one): one
	// task, the least a user must give; the image values stay default.
	out, err := exec.Command(helm, "template", "dyvms", tgz, "--set", "image.registry="+host,
		"--set", "config.tasks[0].enterprise_id=1", "--set", "config.tasks[0].task_id=1").CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^\s+image:\s*"?([^"\s]+)"?\s*$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the rendered chart has no image:\n%s", out)
	}
	image := string(m[1])
	if want := host + "/" + opts.ImageRepo + ":" + version; image != want && !strings.HasPrefix(image, want+"@") {
		t.Fatalf("the chart's default image renders as %q, want %s", image, want)
	}
	platforms, err := release.RemotePlatforms(image, true)
	if err != nil {
		t.Fatalf("resolving %s: %v", image, err)
	}
	if strings.Join(platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("%s is an index of %v, want linux/amd64 and linux/arm64", image, platforms)
	}

	// Pull the amd64 image and run it.
	b.storage = []string{"--storage-driver=vfs", "--root=" + filepath.Join(work, "storage"), "--runroot=" + filepath.Join(work, "run")}
	t.Cleanup(func() {
		_, _ = b.cmd("rm", "--all").CombinedOutput()
		_, _ = b.cmd("rmi", "--all", "--force").CombinedOutput()
	})
	ctr := strings.TrimSpace(b.run("from", "--quiet", "--tls-verify=false", "--platform=linux/amd64", "docker://"+image))
	var inspect struct {
		OCIv1 struct {
			Architecture string `json:"architecture"`
			Config       struct {
				User         string
				Entrypoint   []string
				Cmd          []string
				ExposedPorts map[string]struct{}
				Labels       map[string]string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(b.run("inspect", "--type=container", ctr)), &inspect); err != nil {
		t.Fatal(err)
	}
	cfg := inspect.OCIv1.Config
	if inspect.OCIv1.Architecture != "amd64" {
		t.Errorf("pulled %s, want amd64", inspect.OCIv1.Architecture)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.revision": revision,
		"org.opencontainers.image.source":   release.SourceURL,
		"org.opencontainers.image.licenses": "Apache-2.0",
	} {
		if cfg.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], want)
		}
	}
	// The same runtime contract as the Dockerfile's final stage.
	df := dockerfileRuntime(t)
	if cfg.User != df["USER"] || `["`+strings.Join(cfg.Entrypoint, `", "`)+`"]` != df["ENTRYPOINT"] ||
		`["`+strings.Join(cfg.Cmd, `", "`)+`"]` != df["CMD"] || len(cfg.ExposedPorts) != 1 || cfg.ExposedPorts[df["EXPOSE"]+"/tcp"] != struct{}{} {
		t.Errorf("image config user %q entrypoint %q cmd %q ports %v; the Dockerfile says %v", cfg.User, cfg.Entrypoint, cfg.Cmd, cfg.ExposedPorts, df)
	}
	// Today's scratch layout, the licence and the SBOM.
	mnt := strings.TrimSpace(b.run("mount", ctr))
	for path, want := range map[string]os.FileMode{
		"bin/dyvms_exporter":                          0o755,
		"etc/ssl/certs/ca-certificates.crt":           0o644,
		"usr/share/zoneinfo/Asia/Shanghai":            0o644,
		"etc/dyvms_exporter/config.yml":               0o644,
		"usr/share/doc/dyvms_exporter/LICENSE":        0o644,
		"usr/share/doc/dyvms_exporter/NOTICE":         0o644,
		"usr/share/doc/dyvms_exporter/sbom.spdx.json": 0o644,
		"tmp": os.ModeDir | os.ModeSticky | 0o777,
	} {
		fi, err := os.Stat(filepath.Join(mnt, path))
		if err != nil {
			t.Errorf("the image lacks /%s: %v", path, err)
		} else if fi.Mode() != want {
			t.Errorf("/%s in the image has mode %v, want %v", path, fi.Mode(), want)
		}
	}
	var sbom struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name    string `json:"name"`
			Version string `json:"versionInfo"`
		} `json:"packages"`
	}
	if data, err := os.ReadFile(filepath.Join(mnt, "usr/share/doc/dyvms_exporter/sbom.spdx.json")); err == nil {
		if err := json.Unmarshal(data, &sbom); err != nil {
			t.Errorf("the image's SBOM: %v", err)
		}
		found := map[string]string{}
		for _, p := range sbom.Packages {
			found[p.Name] = p.Version
		}
		if sbom.SPDXVersion != "SPDX-2.3" || found["dyvms_exporter"] != version || found["github.com/prometheus/client_golang"] == "" || found["github.com/alibabacloud-go/tea"] == "" {
			t.Errorf("the image's SBOM (%s) lacks the exporter %s or its modules: %v", sbom.SPDXVersion, version, found)
		}
	}
	b.run("umount", ctr)
	inImage := func(args ...string) string {
		return b.runInContainer(append([]string{"run", "--isolation=chroot", ctr, "--"}, append(cfg.Entrypoint, args...)...)...)
	}
	want := "dyvms_exporter, version " + version + " (branch: HEAD, revision: " + revision + ")"
	if got := inImage("--version"); !strings.Contains(got, want) {
		t.Errorf("--version in the image: want %q in\n%s", want, got)
	}
	if got := inImage(append([]string{"--config.check"}, cfg.Cmd...)...); !strings.Contains(got, "configuration is valid") {
		t.Errorf("--config.check in the image: %s", got)
	}
	body := simulatorMetrics(t, b, ctr, cfg.Entrypoint)
	if !regexp.MustCompile(`(?m)^dyvms_exporter_build_info\{.*revision="` + revision + `".*version="` + regexp.QuoteMeta(version) + `"\} 1$`).MatchString(body) {
		t.Errorf("/metrics of the released image has no build_info naming %s %s", version, revision)
	}
	if !regexp.MustCompile(`(?m)^dyvms_task_scrape_success\{.*\} 1$`).MatchString(body) {
		t.Errorf("/metrics of --simulator in the released image read no task successfully")
	}
	t.Logf("release test: %v in all", time.Since(started).Round(time.Second))
}

// snapshotRepo copies this working tree (tracked and untracked files that
// are not ignored, as they are on disk) into dir as one commit, tags it
// v<VERSION> and returns VERSION: a clean, tagged checkout, whatever state
// the developer's own tree is in.
func snapshotRepo(t *testing.T, dir string) string {
	t.Helper()
	list, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		fi, err := os.Lstat(name)
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			link, err := os.Readlink(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(link, dst); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "--quiet")
	gitIn(t, dir, "add", "--all")
	gitIn(t, dir, "commit", "--quiet", "--message", "release test snapshot")
	v, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(v))
	gitIn(t, dir, "tag", "--annotate", "--message", "release test", "v"+version)
	// As the tag workflow's checkout: the tag, detached.
	gitIn(t, dir, "checkout", "--quiet", "--detach", "v"+version)
	return version
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=release test", "-c", "user.email=release-test@localhost", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// dockerfileRuntime is the final stage's USER, EXPOSE, ENTRYPOINT and CMD.
func dockerfileRuntime(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages, problems := parseDockerfile(string(data))
	if len(problems) > 0 || len(stages) == 0 {
		t.Fatalf("Dockerfile: %v", problems)
	}
	out := map[string]string{}
	for _, in := range stages[len(stages)-1] {
		switch in.cmd {
		case "USER", "EXPOSE", "ENTRYPOINT", "CMD":
			out[in.cmd] = in.args
		}
	}
	return out
}
