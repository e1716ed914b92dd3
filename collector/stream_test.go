package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

func TestCRC32Combine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	for range 200 {
		a := rnd.IntN(len(data))
		b := a + rnd.IntN(len(data)-a+1)
		want := crc32.ChecksumIEEE(data[:b])
		got := crc32Combine(crc32.ChecksumIEEE(data[:a]), crc32.ChecksumIEEE(data[a:b]), int64(b-a))
		if got != want {
			t.Fatalf("combine at %d/%d: %08x, want %08x", a, b, got, want)
		}
	}
}

// shuffledAPI answers every task after a random delay, so tasks finish in
// an order unrelated to the configuration's; a few fail.
type shuffledAPI struct{ seed uint64 }

func (s shuffledAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	rnd := rand.New(rand.NewPCG(s.seed, uint64(e*1000+t)))
	select {
	case <-time.After(time.Duration(rnd.IntN(3000)) * time.Microsecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if rnd.IntN(7) == 0 {
		return nil, errors.New("boom")
	}
	a := smallAnswer()
	a.Data.Statistic.CtiLinkTaskProperty.Name = apiclient.Text("task \"" + strconv.FormatInt(t, 10) + "\"\n")
	if rnd.IntN(3) == 0 {
		a.Data.AgentStatisticList = nil // some tasks without agents
	}
	return a, nil
}

// fetchBoth serves one gzip and one plain scrape through Handler and
// returns the decompressed gzip answer, the plain one, and the raw gzip.
func fetchBoth(t *testing.T, src Source) (string, string, []byte) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "dyvms_test_total", Help: "A process-wide metric."})
	c.Add(3)
	reg.MustRegister(c)
	h := Handler(src, reg, HandlerOptions{})
	get := func(gz bool) (*httptest.ResponseRecorder, []byte) {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec, rec.Body.Bytes()
	}
	zrec, raw := get(true)
	if zrec.Header().Get("Content-Encoding") != "gzip" || zrec.Header().Get("Content-Length") != strconv.Itoa(len(raw)) {
		t.Fatalf("headers %v for %d bytes", zrec.Header(), len(raw))
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false) // one member must hold everything
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip answer: %v", err)
	}
	if err := zr.Reset(bytes.NewReader(raw[len(raw)-0:])); err != io.EOF {
		t.Fatalf("reset on the end: %v", err)
	}
	// Nothing after the first member: re-read it with multistream on.
	zr2, _ := gzip.NewReader(bytes.NewReader(raw))
	all, err := io.ReadAll(zr2)
	if err != nil || !bytes.Equal(all, text) {
		t.Fatalf("the answer is more than one gzip member (%v)", err)
	}
	_, plain := get(false)
	return string(text), string(plain), raw
}

var durationValue = regexp.MustCompile(`(?m)^(dyvms_task_scrape_duration_seconds\{[^}]*\}) \S+$`)

// TestGzipAnswerIsThePlainText: whatever order tasks finish in, the
// compressed answer decompresses to the plain answer byte for byte (scrape
// durations aside), in every mode.
func TestGzipAnswerIsThePlainText(t *testing.T) {
	tasks := make([]Task, 60)
	for i := range tasks {
		tasks[i] = Task{EnterpriseID: int64(1 + i%3), TaskID: int64(i)}
	}
	for i, sel := range []Selection{
		{},
		{AgentStatus: AgentStatusCurrent},
		{NoAgents: true},
		{Exclude: []string{"dyvms_task_scrape_duration_seconds", "dyvms_agent_info", "dyvms_task_end_timestamp_seconds"}},
	} {
		for _, n := range []int{len(tasks), 1} {
			src := func() Scrape {
				return Scrape{API: shuffledAPI{seed: uint64(i)}, Tasks: tasks[:n], Concurrency: 8, Metrics: sel}
			}
			text, plain, _ := fetchBoth(t, src)
			checkExposition(t, text)
			masked, maskedPlain := durationValue.ReplaceAllString(text, "$1 D"), durationValue.ReplaceAllString(plain, "$1 D")
			if masked != maskedPlain {
				t.Fatalf("%+v, %d tasks: the gzip answer differs from the plain one\ngzip:\n%s\nplain:\n%s", sel, n, masked, maskedPlain)
			}
		}
	}
}

// checkExposition asserts what Prometheus, promtool and expfmt need: every
// family contiguous, HELP and TYPE once each and before its samples.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(strings.NewReader(text)); err != nil {
		t.Fatalf("expfmt: %v", err)
	}
	done := map[string]bool{}
	current := ""
	help := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var name string
		switch {
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			name = strings.Fields(line)[2]
			help[line[:7]+name]++
			if help[line[:7]+name] > 1 {
				t.Fatalf("%s line for %s twice", line[:6], name)
			}
		default:
			name = line[:strings.IndexAny(line, "{ ")]
		}
		if name != current {
			if done[name] {
				t.Fatalf("family %s is not contiguous", name)
			}
			if current != "" {
				done[current] = true
			}
			current = name
		}
	}
}

// TestGzipAnswerPassesPromtool: promtool check metrics reads a large
// compressed answer, decompressed by Go's gzip (what Prometheus uses).
func TestGzipAnswerPassesPromtool(t *testing.T) {
	promtool := testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")
	tasks := make([]Task, 30)
	for i := range tasks {
		tasks[i] = Task{EnterpriseID: 7, TaskID: int64(i + 1)}
	}
	for _, sel := range []Selection{{}, {AgentStatus: AgentStatusCurrent}} {
		text, _, _ := fetchBoth(t, func() Scrape { return Scrape{API: shuffledAPI{seed: 9}, Tasks: tasks, Concurrency: 4, Metrics: sel} })
		path := filepath.Join(t.TempDir(), "answer.prom")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(path)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = f
		out, err := cmd.CombinedOutput()
		f.Close()
		if err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

// TestHandlerGzipUnderDeadline: tasks cut off by the deadline still make a
// valid answer with their failure.
func TestHandlerGzipUnderDeadline(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer()}, block: map[Task]bool{{EnterpriseID: 1, TaskID: 2}: true, {EnterpriseID: 1, TaskID: 3}: true}}
	h := Handler(func() Scrape {
		return Scrape{API: api, Tasks: []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}, {EnterpriseID: 1, TaskID: 3}}, Concurrency: 3}
	}, prometheus.NewRegistry(), HandlerOptions{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.2")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	checkExposition(t, string(text))
	for _, want := range []string{`dyvms_task_scrape_success{enterprise_id="1",task_id="1"} 1`, `dyvms_task_scrape_success{enterprise_id="1",task_id="2"} 0`, `dyvms_task_scrape_success{enterprise_id="1",task_id="3"} 0`} {
		if !strings.Contains(string(text), want+"\n") {
			t.Errorf("answer lacks %s", want)
		}
	}
}
