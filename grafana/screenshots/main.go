// Command screenshots draws the Grafana dashboards with real data, without
// Grafana: it runs the exporter's demo (--simulator) under Debian's
// Prometheus with the repository's rules, lets data accumulate, runs every
// panel query of grafana/dashboards/*.json against that Prometheus, plots the
// answers with uPlot (from npm) in headless Chromium and writes one PNG per
// board, plus overview.png (the top of the overview board) for the README,
// into docs/images/.
//
//	go run ./grafana/screenshots              # about 15 minutes
//	go run ./grafana/screenshots -accumulate 2m -out /tmp/shots   # a quick look
//	go run ./grafana/screenshots -boards callcentre                # one board's picture
//
// Needs: prometheus (Debian: apt-get install prometheus), chromium
// (apt-get install chromium), a CJK font for the task names
// (apt-get install fonts-wqy-microhei) and npm, which installs uPlot into
// ${XDG_CACHE_HOME:-~/.cache}/dyvms-exporter-screenshots (outside the clone).
//
// The pictures show what each panel's query returns, laid out on the
// board's grid, in the board's time zone; they are not Grafana's rendering
// (fonts, colours and some panel options differ). The simulated call centre
// runs -speed times faster than real time, so the few minutes of the run
// hold more calls than real minutes would.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"gopkg.in/yaml.v3"
)

// uPlotVersion is the npm package drawn with; pinned so that the pictures
// change only when the boards or the data do.
const uPlotVersion = "1.6.32"

var (
	outDir     = flag.String("out", "docs/images", "where the PNGs go")
	accumulate = flag.Duration("accumulate", 12*time.Minute, "how long Prometheus collects before the queries run")
	speed      = flag.Float64("speed", 20, "how many times faster than real time the simulated call centre runs")
	scrape     = flag.Duration("scrape-interval", 2*time.Second, "Prometheus' scrape and rule evaluation interval")
	promBin    = flag.String("prometheus", "prometheus", "Prometheus binary")
	chromium   = flag.String("chromium", "/usr/bin/chromium", "Chromium binary")
	width      = flag.Int("width", 1600, "page width in pixels")
	keep       = flag.Bool("keep", false, "keep the temporary directory (pages, data, Prometheus' TSDB)")
	maxBytes   = flag.Int("max-bytes", 300<<10, "fail when a PNG is larger")
	boards     = flag.String("boards", "", "draw only these boards, by file name without dyvms- and .json, comma-separated (e.g. callcentre); default every one")
	promURL    = flag.String("prometheus-url", "", "draw from this running Prometheus (which scrapes the demo) instead of starting the demo and a Prometheus; -accumulate is then the range drawn")
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed render.js
var renderJS string

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	uplot, err := installUPlot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "dyvms-screenshots-")
	if err != nil {
		return err
	}
	if *keep {
		log.Printf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	if *promURL != "" {
		return draw(root, uplot, tmp, &promClient{base: strings.TrimSuffix(*promURL, "/")}, time.Now().Add(-*accumulate))
	}
	exporter := filepath.Join(tmp, "dyvms_exporter")
	log.Printf("building the exporter")
	if out, err := exec.Command("go", "build", "-o", exporter, root).CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	expAddr, err := freeAddr()
	if err != nil {
		return err
	}
	stopExporter, err := start(tmp, "exporter", exporter, "--simulator", "--simulator.speed="+strconv.FormatFloat(*speed, 'f', -1, 64),
		"--web.listen-address="+expAddr)
	if err != nil {
		return err
	}
	defer stopExporter()
	if err := waitHTTP("http://" + expAddr + "/-/ready"); err != nil {
		return err
	}

	promAddr, err := freeAddr()
	if err != nil {
		return err
	}
	promCfg, err := prometheusConfig(tmp, root, expAddr)
	if err != nil {
		return err
	}
	stopProm, err := start(tmp, "prometheus", *promBin, "--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(tmp, "tsdb"), "--web.listen-address="+promAddr)
	if err != nil {
		return err
	}
	defer stopProm()
	prom := &promClient{base: "http://" + promAddr}
	if err := waitHTTP(prom.base + "/-/ready"); err != nil {
		return err
	}
	began := time.Now()
	for left := *accumulate; left > 0; left -= time.Minute {
		log.Printf("collecting data, %v left", left.Round(time.Second))
		time.Sleep(min(left, time.Minute))
	}
	return draw(root, uplot, tmp, prom, began)
}

// draw writes the pictures of every board from began to now.
func draw(root, uplot, tmp string, prom *promClient, began time.Time) error {
	paths, err := filepath.Glob(filepath.Join(root, "grafana", "dashboards", "*.json"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("no dashboards (%v)", err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	end := time.Now()
	w := window{start: began.Add(30 * time.Second), end: end, step: stepFor(end.Sub(began))}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "dyvms-"), ".json")
		if *boards != "" && !slices.Contains(strings.Split(*boards, ","), name) {
			continue
		}
		data, err := boardData(prom, raw, w)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		page := filepath.Join(tmp, name+".html")
		if err := writePage(page, uplot, data); err != nil {
			return err
		}
		if err := shoot(tmp, page, filepath.Join(*outDir, "dashboard-"+name+".png"), *width, data.Height); err != nil {
			return err
		}
		if name == "overview" {
			// The README's picture: the top of the overview board, down to
			// the end of the panel readmeLastPanel.
			if err := shoot(tmp, page, filepath.Join(*outDir, "overview.png"), *width, data.cropAt); err != nil {
				return err
			}
		}
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the dyvms_exporter module")
	}
	return filepath.Dir(mod), nil
}

// installUPlot installs uPlot with npm into the user's cache (once) and
// returns the path of its browser build.
func installUPlot() (string, error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(cache, "dyvms-exporter-screenshots")
	js := filepath.Join(dir, "node_modules", "uplot", "dist", "uPlot.iife.min.js")
	pkg := filepath.Join(dir, "node_modules", "uplot", "package.json")
	if b, err := os.ReadFile(pkg); err == nil && bytes.Contains(b, []byte(`"version": "`+uPlotVersion+`"`)) {
		return js, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	log.Printf("npm install uplot@%s into %s", uPlotVersion, dir)
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "uplot@"+uPlotVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install uplot: %v\n%s", err, out)
	}
	return js, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs a process with its output in dir/name.log; the returned
// function stops it.
func start(dir, name, bin string, args ...string) (func(), error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	log.Printf("%s started (pid %d), log %s", name, cmd.Process.Pid, logf.Name())
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	}, nil
}

func waitHTTP(u string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within 60 s", u)
}

// prometheusConfig writes the Prometheus configuration and the repository's
// rule files with every group evaluated at the scrape interval (the rules'
// own 1m and 15m would leave the recorded series nearly empty in a run of
// minutes).
func prometheusConfig(dir, root, target string) (string, error) {
	var ruleFiles []string
	for _, f := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		raw, err := os.ReadFile(filepath.Join(root, "rules", f))
		if err != nil {
			return "", err
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", f, err)
		}
		groups, _ := doc["groups"].([]any)
		for _, g := range groups {
			if m, ok := g.(map[string]any); ok {
				if _, ok := m["interval"]; ok {
					m["interval"] = scrape.String()
				}
			}
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			return "", err
		}
		p := filepath.Join(dir, f)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			return "", err
		}
		ruleFiles = append(ruleFiles, p)
	}
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": scrape.String(), "scrape_timeout": scrape.String(), "evaluation_interval": scrape.String()},
		"rule_files": ruleFiles,
		"scrape_configs": []any{map[string]any{
			"job_name":       "dyvms",
			"static_configs": []any{map[string]any{"targets": []string{target}}},
		}},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "prometheus.yml")
	return p, os.WriteFile(p, out, 0o644)
}

// window is the time range the boards are drawn for.
type window struct {
	start, end time.Time
	step       time.Duration
}

// stepFor gives about 240 points across the range, never below 2 s.
func stepFor(d time.Duration) time.Duration {
	return max(2*time.Second, (d / 240).Round(time.Second))
}

type promClient struct{ base string }

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"` // range
	Value  [2]any            `json:"value"`  // instant
}

func (c *promClient) get(path string, q url.Values) ([]promSeries, error) {
	resp, err := http.Get(c.base + path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %v: %.200s", path, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s %s: %s", path, q.Get("query"), r.Error)
	}
	return r.Data.Result, nil
}

func (c *promClient) instant(expr string, at time.Time) ([]promSeries, error) {
	return c.get("/api/v1/query", url.Values{"query": {expr}, "time": {unix(at)}})
}

func (c *promClient) rangeQuery(expr string, w window) ([]promSeries, error) {
	return c.get("/api/v1/query_range", url.Values{"query": {expr}, "start": {unix(w.start)}, "end": {unix(w.end)},
		"step": {strconv.FormatFloat(w.step.Seconds(), 'f', -1, 64)}})
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// The dashboard JSON, as far as drawing it needs; panels travel to the page
// as they are.
type board struct {
	Title      string `json:"title"`
	Timezone   string `json:"timezone"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
			Regex string          `json:"regex"`
			Multi bool            `json:"multi"`
		} `json:"list"`
	} `json:"templating"`
	Panels []json.RawMessage `json:"panels"`
}

// readmeLastPanel is the last panel of the overview board in the README's
// picture (overview.png).
const readmeLastPanel = "Answer rate today"

type panelHead struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		Instant      bool   `json:"instant"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

// pageData is what render.js draws.
type pageData struct {
	Title     string         `json:"title"`
	Subtitle  string         `json:"subtitle"`
	Timezone  string         `json:"timezone"`
	Start     float64        `json:"start"`
	End       float64        `json:"end"`
	Step      float64        `json:"step"`
	RowHeight int            `json:"rowHeight"`
	Height    int            `json:"-"`
	cropAt    int            // the page's height down to readmeLastPanel
	Panels    []panelData    `json:"panels"`
	Variables map[string]any `json:"variables"`
}

type panelData struct {
	Panel  json.RawMessage `json:"panel"`
	Frames []frame         `json:"frames"`
	Error  string          `json:"error,omitempty"`
}

// frame is one query's answer: series with their legend and labels.
type frame struct {
	RefID  string   `json:"refId"`
	Series []series `json:"series"`
}

type series struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Times  []float64         `json:"t"`
	Values []*float64        `json:"v"`
}

const (
	rowHeight    = 30 // pixels per grid unit, as Grafana draws them
	headerHeight = 80 // the page's title, data note and variables
)

// boardData runs every query of a board.
func boardData(prom *promClient, raw []byte, w window) (*pageData, error) {
	var b board
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	rateInterval := max(4**scrape, 30*time.Second)
	values := map[string]string{
		"datasource": "prometheus", "cluster": ".*", "job": ".+", "instance": ".+", "enterprise_id": ".+", "task_id": ".+", "queue": ".+",
		"__rate_interval": promDuration(rateInterval), "__interval": promDuration(w.step),
		"__range": promDuration(w.end.Sub(w.start)),
	}
	shown := map[string]any{}
	// A single-select task variable (the task board) takes its first
	// option, as Grafana does when the board opens.
	for _, v := range b.Templating.List {
		if v.Name != "task_id" || v.Multi {
			continue
		}
		q, _, ok := promqlcheck.VariablePromQL(promqlcheck.VariableQuery(v.Query))
		if !ok {
			return nil, fmt.Errorf("variable %s: unknown query form", v.Name)
		}
		sub, _ := promqlcheck.SubstituteWith(q, values)
		res, err := prom.instant(sub, w.end)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		if len(res) == 0 {
			return nil, fmt.Errorf("variable %s: no task", v.Name)
		}
		values["task_id"] = regexp.QuoteMeta(res[0].Metric["task_id"])
		shown["Task"] = res[0].Metric["task_display"]
	}
	d := &pageData{
		Title: b.Title, Timezone: b.Timezone, Start: float64(w.start.UnixMilli()) / 1000, End: float64(w.end.UnixMilli()) / 1000,
		Step: w.step.Seconds(), RowHeight: rowHeight, Variables: shown,
		Subtitle: fmt.Sprintf("the demo's simulated call centre (%gx real time), %s of data, drawn from Prometheus answers by grafana/screenshots (not Grafana)",
			*speed, w.end.Sub(w.start).Round(time.Minute)),
	}
	bottom := 0
	for _, raw := range b.Panels {
		var h panelHead
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, err
		}
		bottom = max(bottom, h.GridPos.Y+h.GridPos.H)
		if h.Title == readmeLastPanel && h.Type == "timeseries" {
			d.cropAt = headerHeight + (h.GridPos.Y+h.GridPos.H)*rowHeight + 6
		}
		pd := panelData{Panel: raw}
		for _, t := range h.Targets {
			expr, missing := promqlcheck.SubstituteWith(t.Expr, values)
			if len(missing) > 0 {
				return nil, fmt.Errorf("no value for %v in %s", missing, t.Expr)
			}
			var res []promSeries
			var err error
			if t.Instant {
				res, err = prom.instant(expr, w.end)
			} else {
				res, err = prom.rangeQuery(expr, w)
			}
			if err != nil {
				pd.Error = err.Error()
				break
			}
			pd.Frames = append(pd.Frames, toFrame(t.RefID, t.LegendFormat, res))
		}
		d.Panels = append(d.Panels, pd)
	}
	d.Height = headerHeight + bottom*rowHeight + 10
	if d.cropAt == 0 {
		d.cropAt = d.Height
	}
	return d, nil
}

func promDuration(d time.Duration) string {
	return strconv.Itoa(int(d.Seconds())) + "s"
}

func toFrame(ref, legend string, res []promSeries) frame {
	f := frame{RefID: ref, Series: []series{}}
	for _, r := range res {
		s := series{Name: legendName(legend, r.Metric), Labels: r.Metric}
		points := r.Values
		if len(points) == 0 && r.Value[0] != nil {
			points = [][2]any{r.Value}
		}
		for _, p := range points {
			t, _ := p[0].(float64)
			str, _ := p[1].(string)
			s.Times = append(s.Times, t)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil || v != v { // NaN: no point
				s.Values = append(s.Values, nil)
				continue
			}
			s.Values = append(s.Values, &v)
		}
		f.Series = append(f.Series, s)
	}
	sort.SliceStable(f.Series, func(i, j int) bool { return f.Series[i].Name < f.Series[j].Name })
	return f
}

var legendRE = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legendName fills a Grafana legend format ("{{task_id}} dialled") from a
// series' labels; without a format it is the series' label set.
func legendName(format string, labels map[string]string) string {
	if format != "" {
		return legendRE.ReplaceAllStringFunc(format, func(m string) string {
			return labels[legendRE.FindStringSubmatch(m)[1]]
		})
	}
	var parts []string
	for k, v := range labels {
		if k != "__name__" {
			parts = append(parts, k+`="`+v+`"`)
		}
	}
	sort.Strings(parts)
	return labels["__name__"] + "{" + strings.Join(parts, ", ") + "}"
}

func writePage(path, uplot string, d *pageData) error {
	css, err := os.ReadFile(strings.TrimSuffix(uplot, "uPlot.iife.min.js") + "uPlot.min.css")
	if err != nil {
		return err
	}
	js, err := os.ReadFile(uplot)
	if err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{
		"Title":  d.Title,
		"CSS":    template.CSS(css),
		"UPlot":  template.JS(js),
		"Render": template.JS(renderJS),
		"Data":   template.JS(data),
		"Width":  *width,
	})
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// shoot takes a screenshot of page with headless Chromium.
func shoot(tmp, page, png string, w, h int) error {
	profile, err := os.MkdirTemp(tmp, "chromium-")
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(png)
	if err != nil {
		return err
	}
	cmd := exec.Command(*chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+profile, fmt.Sprintf("--window-size=%d,%d", w, h), "--virtual-time-budget=5000",
		"--screenshot="+abs, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chromium: %v\n%s", err, out)
	}
	if err := shrinkPNG(abs); err != nil {
		return fmt.Errorf("%s: %w", png, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return err
	}
	log.Printf("%s: %d x %d, %d KiB", png, w, h, st.Size()>>10)
	if st.Size() > int64(*maxBytes) {
		return fmt.Errorf("%s is %d bytes, more than -max-bytes %d", png, st.Size(), *maxBytes)
	}
	return nil
}
