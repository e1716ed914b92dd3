package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// buildahRun runs buildah with the test's own storage (vfs, so no kernel
// overlay support is needed) and returns its combined output.
type buildah struct {
	t       *testing.T
	bin     string
	storage []string
}

func (b *buildah) cmd(args ...string) *exec.Cmd {
	c := exec.Command(b.bin, append(append([]string{}, b.storage...), args...)...)
	c.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
	return c
}

func (b *buildah) run(args ...string) string {
	b.t.Helper()
	out, err := b.cmd(args...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// runInContainer is run for `buildah run` of a command that always prints
// something: buildah (1.28, chroot isolation) now and then returns a
// quickly exiting process's success with none of its output (TestRelease
// saw --version print nothing once in six runs), so an empty answer is
// asked again, twice at most.
func (b *buildah) runInContainer(args ...string) string {
	b.t.Helper()
	for try := 1; ; try++ {
		out := b.run(args...)
		if out != "" || try == 3 {
			return out
		}
		b.t.Logf("buildah %s printed nothing; again", strings.Join(args, " "))
	}
}

// TestContainerImage builds the runtime image from the Dockerfile with
// buildah and runs it: --version, --config.check of the shipped
// configuration, and --simulator serving /metrics as uid 65534. The builder
// image cannot be pulled here, so the stage named "build" is replaced by a
// directory holding what it would produce (--build-context build=DIR): the
// runtime stage itself is taken from the Dockerfile unchanged, and every
// file it copies from the build stage must be one this test knows how to
// make.
func TestContainerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a container image")
	}
	b := &buildah{t: t, bin: testutil.Tool(t, "buildah", "Debian: apt-get install -y buildah")}
	work := t.TempDir()
	b.storage = []string{"--storage-driver=vfs", "--root=" + filepath.Join(work, "storage"), "--runroot=" + filepath.Join(work, "run")}
	started := time.Now()

	feed := filepath.Join(work, "build-stage")
	for _, src := range buildStageFiles(t) {
		dst := filepath.Join(feed, src)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		var cmd *exec.Cmd
		switch src {
		case "/out/dyvms_exporter":
			// The image's static Linux binary, from the tests' one builder.
			bin := testutil.BuildExporterWith(t, testutil.BuildOptions{Flags: []string{"-trimpath"}, Env: []string{"CGO_ENABLED=0", "GOOS=linux"}})
			cmd = exec.Command("cp", bin, dst)
		case "/out/doc":
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd = exec.Command("cp", "LICENSE", "NOTICE", dst)
		case "/out/etc/dyvms_exporter":
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd = exec.Command("cp", "config.yml", filepath.Join(dst, "config.yml"))
		case "/out/writable/":
			tmp := filepath.Join(dst, "tmp")
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tmp, 0o1777); err != nil {
				t.Fatal(err)
			}
			continue
		case "/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo":
			// What the Debian-based builder image has, from this Debian host.
			cmd = exec.Command("cp", "-a", src, dst)
		default:
			t.Fatalf("the runtime stage copies %s from the build stage; teach this test how to make it", src)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("making %s: %v\n%s", src, err, out)
		}
	}

	const image = "localhost/dyvms-exporter-smoke:test"
	dockerfile, err := filepath.Abs("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	emptyContext := filepath.Join(work, "context")
	if err := os.Mkdir(emptyContext, 0o755); err != nil {
		t.Fatal(err)
	}
	b.run("build", "--isolation=chroot", "--pull=never", "--build-context=build="+feed, "-f", dockerfile, "-t", image, emptyContext)
	t.Cleanup(func() { _, _ = b.cmd("rmi", "--all", "--force").CombinedOutput() })

	var inspect struct {
		OCIv1 struct {
			Config struct {
				User         string
				Entrypoint   []string
				Cmd          []string
				ExposedPorts map[string]struct{}
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(b.run("inspect", "--type=image", image)), &inspect); err != nil {
		t.Fatal(err)
	}
	cfg := inspect.OCIv1.Config
	if cfg.User != "65534:65534" || strings.Join(cfg.Entrypoint, " ") != "/bin/dyvms_exporter" || len(cfg.ExposedPorts) != 1 {
		t.Errorf("image config: user %q, entrypoint %q, ports %v", cfg.User, cfg.Entrypoint, cfg.ExposedPorts)
	}

	ctr := strings.TrimSpace(b.run("from", "--pull=never", image))
	t.Cleanup(func() { _, _ = b.cmd("rm", ctr).CombinedOutput() })
	inImage := func(args ...string) string {
		return b.runInContainer(append([]string{"run", "--isolation=chroot", ctr, "--"}, append(cfg.Entrypoint, args...)...)...)
	}
	if out := inImage("--version"); !strings.Contains(out, "dyvms_exporter, version") {
		t.Errorf("--version in the image: %s", out)
	}
	if out := inImage(append([]string{"--config.check"}, cfg.Cmd...)...); !strings.Contains(out, "configuration is valid") {
		t.Errorf("--config.check %v in the image: %s", cfg.Cmd, out)
	}

	body := simulatorMetrics(t, b, ctr, cfg.Entrypoint)
	if n := len(regexp.MustCompile(`(?m)^dyvms_task_scrape_success\{.*\} 1$`).FindAllString(body, -1)); n == 0 {
		t.Errorf("/metrics of --simulator in the image read no task successfully:\n%s", body)
	}
	t.Logf("container smoke test: image built and run in %v", time.Since(started).Round(time.Second))
}

// simulatorMetrics runs entrypoint --simulator in the container ctr, as the
// image's user, and returns its first successful /metrics answer; it
// checks that the exporter runs as uid 65534 and stops it on return.
func simulatorMetrics(t *testing.T, b *buildah, ctr string, entrypoint []string) string {
	t.Helper()
	cfg := struct{ Entrypoint []string }{entrypoint}
	// --simulator: the demo writes its configuration under /tmp, as the
	// image's user, and the exporter serves it on loopback.
	addr := testutil.FreeAddr(t)
	logs := &testutil.SyncBuffer{}
	sim := b.cmd(append([]string{"run", "--isolation=chroot", ctr, "--"}, append(cfg.Entrypoint, "--simulator", "--web.listen-address="+addr)...)...)
	sim.Stdout, sim.Stderr = logs, logs
	sim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	var exitErr error
	go func() { exitErr = sim.Wait(); close(stopped) }()
	defer func() {
		_ = syscall.Kill(-sim.Process.Pid, syscall.SIGTERM)
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-sim.Process.Pid, syscall.SIGKILL)
			<-stopped
		}
		if t.Failed() {
			t.Logf("exporter in the image:\n%s", logs.String())
		}
	}()
	var body string
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				body = buf.String()
				break
			}
		}
		select {
		case <-stopped:
			t.Fatalf("--simulator in the image exited: %v", exitErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("--simulator in the image never served /metrics")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if uid, err := uidListening(addr); err != nil {
		t.Error(err)
	} else if uid != "65534" {
		t.Errorf("the exporter in the image runs as uid %s, want 65534", uid)
	}
	return body
}

// buildStageFiles lists what the Dockerfile's runtime stage copies from
// the stage named "build".
func buildStageFiles(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages, problems := parseDockerfile(string(data))
	if len(problems) > 0 || len(stages) == 0 {
		t.Fatalf("Dockerfile: %v", problems)
	}
	var out []string
	for _, in := range stages[len(stages)-1] {
		f := strings.Fields(in.args)
		if in.cmd != "COPY" || len(f) < 3 {
			continue
		}
		if f[0] != "--from=build" {
			t.Fatalf("line %d: the runtime stage copies from somewhere else than the build stage: %s", in.line, in.args)
		}
		out = append(out, f[1:len(f)-1]...)
	}
	if len(out) == 0 {
		t.Fatal("the runtime stage copies nothing from the build stage")
	}
	return out
}

// uidListening finds the process whose command line names the listen
// address and returns its real uid.
func uidListening(addr string) (string, error) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("--web.listen-address="+addr)) || !bytes.HasPrefix(cmdline, []byte("/bin/dyvms_exporter\x00")) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(p, "status"))
		if err != nil {
			return "", err
		}
		if m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)`).FindSubmatch(status); m != nil {
			return string(m[1]), nil
		}
	}
	return "", fmt.Errorf("no /bin/dyvms_exporter process serving %s found", addr)
}
