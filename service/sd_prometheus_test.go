package service

// Real Prometheus servers sharding the exporter's tasks: the promise of /sd
// and /probe is that N servers with hashmod relabelling each scrape a
// disjoint part of the tasks and together all of them. Only a real
// Prometheus can tell whether the SD answer, the __param_ labels and
// honor_labels add up to that.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// prometheusBinary finds prometheus; without it the test skips on a
// developer machine and fails in CI (CI=true installs it).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	return testutil.Tool(t, "prometheus", "Debian: apt-get install -y prometheus")
}

// shardConfig is the documented sharding job (the YAML block that begins
// with "# Shard 0 of 2", in docs/sharding.md)
// for one shard of 2, pointed at sdURL and sped up to 1 s scrapes. Testing
// the documented text keeps the documentation from drifting into a
// configuration that does not shard.
func shardConfig(t *testing.T, sdURL string, shard int) string {
	t.Helper()
	const marker = "# Shard 0 of 2."
	var doc string
	for _, f := range []string{"../docs/sharding.md"} {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), marker) {
			doc = string(b)
			break
		}
	}
	if doc == "" {
		t.Fatalf("no YAML block beginning with %q in docs/sharding.md", marker)
	}
	block := doc[strings.Index(doc, marker):]
	block = block[:strings.Index(block, "```")]
	block, _, _ = strings.Cut(block, "rule_files:") // the rule files are not here
	for _, r := range [][2]string{
		{"http://dyvms-exporter.example:10681/sd", sdURL},
		{"scrape_interval: 30s", "scrape_interval: 1s"},
		{"scrape_timeout: 20s", "scrape_timeout: 1s"},
		{"refresh_interval: 1m", "refresh_interval: 5s"},
		{`regex: "0"`, fmt.Sprintf("regex: %q", fmt.Sprint(shard))},
	} {
		if strings.Count(block, r[0]) != 1 {
			t.Fatalf("the documented shard job should contain %q once:\n%s", r[0], block)
		}
		block = strings.Replace(block, r[0], r[1], 1)
	}
	return block
}

type promServer struct {
	url  string
	logs *testutil.SyncBuffer
}

// startPrometheus runs one Prometheus on a free loopback port with its own
// storage; t.Cleanup stops it, also when the test fails, and prints its log
// if the test failed.
func startPrometheus(t *testing.T, bin, name, config string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	p := &promServer{url: "http://" + addr, logs: &testutil.SyncBuffer{}}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=debug",
	)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, p.url, p.logs.String())
		}
	})
	testutil.Eventually(t, 30*time.Second, 100*time.Millisecond, name+" ready", func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, p.logs.String())
		default:
		}
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return p
}

func (p *promServer) getJSON(path string, v any) error {
	resp, err := http.Get(p.url + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// scrapedTargets is how many active targets the server has and how many
// of them were scraped successfully at least once.
func (p *promServer) scrapedTargets() (active, up int, err error) {
	var r struct {
		Data struct {
			ActiveTargets []struct {
				Health     string `json:"health"`
				LastScrape string `json:"lastScrape"`
				LastError  string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := p.getJSON("/api/v1/targets?state=active", &r); err != nil {
		return 0, 0, err
	}
	for _, tg := range r.Data.ActiveTargets {
		if tg.Health == "up" {
			up++
		}
	}
	return len(r.Data.ActiveTargets), up, nil
}

// series queries an instant vector and returns each sample's labels.
func (p *promServer) series(query string) ([]map[string]string, error) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := p.getJSON("/api/v1/query?query="+url.QueryEscape(query), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: status %s", query, r.Status)
	}
	out := make([]map[string]string, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		out = append(out, s.Metric)
	}
	return out, nil
}

func TestPrometheusShardsProbeTargets(t *testing.T) {
	bin := prometheusBinary(t)
	start := time.Now()

	// 4 static tasks of 8000001 and the 4 discovered of 8000002: 8 targets.
	e := newTestEnv(t, `
discovery:
  - {enterprise_id: 8000002, types: [1]}
tasks:
  - {enterprise_id: 8000001, task_id: 1}
  - {enterprise_id: 8000001, task_id: 2}
  - {enterprise_id: 8000001, task_id: 3}
  - {enterprise_id: 8000001, task_id: 4}
`, HTTPOptions{})
	e.refresh()
	var all []string
	for _, k := range e.svc.Scrape().Tasks {
		all = append(all, fmt.Sprintf("%d/%d", k.EnterpriseID, k.TaskID))
	}
	slices.Sort(all)
	if len(all) != 8 {
		t.Fatalf("tasks %v, want 8", all)
	}
	exporter := httptest.NewServer(e.handler) // 127.0.0.1:<free port>
	t.Cleanup(exporter.Close)

	var proms []*promServer
	for shard := range 2 {
		proms = append(proms, startPrometheus(t, bin, fmt.Sprintf("prometheus shard %d", shard), shardConfig(t, exporter.URL+"/sd", shard)))
	}

	// Wait until every shard has discovered its part and scraped each
	// target of it; the parts must add up to all 8.
	testutil.Eventually(t, 40*time.Second, 100*time.Millisecond, "both shards to scrape all their targets", func() (bool, string) {
		total := 0
		var detail []string
		for i, p := range proms {
			active, up, err := p.scrapedTargets()
			if err != nil {
				return false, err.Error()
			}
			if active == 0 || up != active {
				return false, fmt.Sprintf("shard %d: %d of %d targets up", i, up, active)
			}
			total += active
			detail = append(detail, fmt.Sprintf("shard %d: %d", i, active))
		}
		return total == len(all), strings.Join(detail, ", ")
	})

	var union []string
	seen := map[string]int{}
	for i, p := range proms {
		var got []map[string]string
		testutil.Eventually(t, 10*time.Second, 100*time.Millisecond, fmt.Sprintf("shard %d's samples", i), func() (bool, string) {
			active, _, err := p.scrapedTargets()
			if err != nil {
				return false, err.Error()
			}
			got, err = p.series("dyvms_task_scrape_success")
			if err != nil {
				return false, err.Error()
			}
			return len(got) == active, fmt.Sprintf("%d series for %d targets", len(got), active)
		})
		var mine []string
		for _, m := range got {
			for k := range m {
				if strings.HasPrefix(k, "exported_") {
					t.Errorf("shard %d: label %s: the probe job must honour the exporter's labels", i, k)
				}
			}
			if m["__name__"] != "dyvms_task_scrape_success" || m["job"] != "dyvms_tasks" || m["instance"] != strings.TrimPrefix(exporter.URL, "http://") {
				t.Errorf("shard %d: series %v", i, m)
			}
			k := m["enterprise_id"] + "/" + m["task_id"]
			mine = append(mine, k)
			if prev, dup := seen[k]; dup {
				t.Errorf("task %s scraped by shard %d and shard %d", k, prev, i)
			}
			seen[k] = i
			union = append(union, k)
		}
		slices.Sort(mine)
		t.Logf("shard %d scrapes %v", i, mine)
		// Each target's up carries the task's labels, so the shards' up
		// series do not collide on (job, instance).
		ups, err := p.series(`up{job="dyvms_tasks"} == 1`)
		if err != nil || len(ups) != len(got) {
			t.Errorf("shard %d: %d up series (err %v), want %d", i, len(ups), err, len(got))
		}
	}
	slices.Sort(union)
	if !slices.Equal(union, all) {
		t.Errorf("union of the shards %v, want every task %v", union, all)
	}
	t.Logf("sharding test took %v", time.Since(start).Round(time.Millisecond))
}
