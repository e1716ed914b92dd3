//go:build linux

package e2e

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// scrapeRecorder stands between Prometheus and the exporter and records,
// for every scrape, what Prometheus asked for (Accept) and what the
// exporter answered (Content-Type): the negotiation Prometheus 3 changed
// (it offers OpenMetrics first and UTF-8 names), seen on the wire. It
// passes everything else through untouched (gzip, the scrape timeout
// header).
type scrapeRecorder struct {
	mu           sync.Mutex
	accepts      map[string]int
	contentTypes map[string]int
	statuses     map[int]int
}

// startScrapeRecorder serves a recording reverse proxy to target
// (host:port) on loopback and returns its address.
func startScrapeRecorder(t *testing.T, target string) (string, *scrapeRecorder) {
	t.Helper()
	rec := &scrapeRecorder{accepts: map[string]int{}, contentTypes: map[string]int{}, statuses: map[int]int{}}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	proxy.ModifyResponse = func(resp *http.Response) error {
		rec.mu.Lock()
		rec.accepts[resp.Request.Header.Get("Accept")]++
		rec.contentTypes[resp.Header.Get("Content-Type")]++
		rec.statuses[resp.StatusCode]++
		rec.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec
}

func (r *scrapeRecorder) snapshot() (accepts, contentTypes map[string]int, statuses map[int]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	st := make(map[int]int, len(r.statuses))
	for k, v := range r.statuses {
		st[k] = v
	}
	return cp(r.accepts), cp(r.contentTypes), st
}

// checkScrapeProtocol asserts what the scrapes negotiated and what
// Prometheus made of the answer: it asked for OpenMetrics first (and, from
// Prometheus 3 on, UTF-8 names), the exporter answered the text format
// 0.0.4 every time, the target is healthy, the metadata Prometheus stores
// has each family's type from the exposition, and every name of the
// exposition is stored as is (no escaping).
func checkScrapeProtocol(t *testing.T, g generation, rec *scrapeRecorder, prom promAPI, metricsURL string) {
	t.Helper()
	accepts, contentTypes, statuses := rec.snapshot()
	if len(accepts) == 0 {
		t.Fatal("no scrape went through the recorder")
	}
	for accept := range accepts {
		offers := strings.Split(accept, ",")
		first, _, err := mime.ParseMediaType(offers[0])
		if err != nil || first != "application/openmetrics-text" {
			t.Errorf("Prometheus %d asks for %q first; expected OpenMetrics (Accept: %s)", g.major, first, accept)
		}
		text := false
		for _, o := range offers {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(o))
			text = text || (err == nil && mt == "text/plain" && params["version"] == "0.0.4") || mt == "*/*"
		}
		if !text {
			t.Errorf("Prometheus %d does not accept text/plain 0.0.4, which the exporter answers (Accept: %s)", g.major, accept)
		}
		if utf8 := strings.Contains(accept, "escaping=allow-utf-8"); utf8 != (g.major >= 3) {
			t.Errorf("Prometheus %d offers UTF-8 names: %v (Accept: %s)", g.major, utf8, accept)
		}
	}
	for ct := range contentTypes {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "text/plain" || params["version"] != "0.0.4" {
			t.Errorf("the exporter answered Content-Type %q, want the text format 0.0.4", ct)
		}
	}
	for code, n := range statuses {
		if code != http.StatusOK {
			t.Errorf("%d scrapes answered %d", n, code)
		}
	}
	t.Logf("Prometheus %d scrapes: Accept %v; the exporter answered %v", g.major, accepts, contentTypes)

	// The target as Prometheus sees it.
	var targets struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := prom.get("/api/v1/targets", url.Values{"state": {"active"}}, &targets); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets.ActiveTargets {
		if tg.Labels["job"] == jobName && (tg.Health != "up" || tg.LastError != "") {
			t.Errorf("target %v: health %s, last error %q", tg.Labels, tg.Health, tg.LastError)
		}
	}

	// Types: what the exposition says against what Prometheus stored.
	types := expositionTypes(t, metricsURL)
	var meta []struct {
		Metric string `json:"metric"`
		Type   string `json:"type"`
	}
	if err := prom.get("/api/v1/targets/metadata", url.Values{"match_target": {fmt.Sprintf(`{job=%q}`, jobName)}}, &meta); err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, m := range meta {
		stored[m.Metric] = m.Type
	}
	var mismatched []string
	for name, typ := range types {
		if stored[name] != typ {
			mismatched = append(mismatched, fmt.Sprintf("%s: exposition %s, Prometheus %q", name, typ, stored[name]))
		}
	}
	sort.Strings(mismatched)
	if len(mismatched) > 0 {
		t.Errorf("Prometheus %d stored other types than the exposition's:\n\t%s", g.major, strings.Join(mismatched, "\n\t"))
	}

	// Names: every sample name of the exposition is a stored series name.
	names := scrapeNames(t, metricsURL)
	res, err := prom.query(fmt.Sprintf(`group by (__name__) ({job=%q})`, jobName))
	if err != nil {
		t.Fatal(err)
	}
	inProm := map[string]bool{}
	for _, s := range res {
		inProm[s.Metric["__name__"]] = true
	}
	var missing []string
	for n := range names {
		if !inProm[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Prometheus %d stores none of these exposition names (escaped?): %v", g.major, missing)
	}
	t.Logf("%d metric families typed as exposed, %d sample names stored as exposed", len(types), len(names))
}

// expositionTypes reads the # TYPE lines of one scrape of u.
func expositionTypes(t *testing.T, u string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(scrapeBody(t, u), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = f[3]
		}
	}
	return out
}

// scrapeBody returns the body of one scrape of u (200 OK, uncompressed).
func scrapeBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", u, resp.Status, err)
	}
	return string(body)
}

// checkNoAnnotations evaluates every dashboard query and every rule
// expression once and fails on any warning or info Prometheus attaches to
// the answer. Prometheus 3 adds infos, e.g. for rate() of a series whose
// name does not say counter, which Grafana shows on the panel.
func checkNoAnnotations(t *testing.T, g generation, prom promAPI, queries []dashQuery, rules map[string]string) {
	t.Helper()
	var noted []string
	check := func(where, expr string) {
		_, notes, err := prom.queryAnnotated(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, n := range notes {
			noted = append(noted, fmt.Sprintf("%s: %s\n\t\t%s", where, n, expr))
		}
	}
	for _, q := range queries {
		check("grafana/dashboards/"+q.key, q.expr)
	}
	for _, k := range promqlcheck.Sorted(keys(rules)) {
		check("rules/"+k, rules[k])
	}
	if len(noted) > 0 {
		t.Errorf("Prometheus %d annotates %d answers:\n\t%s", g.major, len(noted), strings.Join(noted, "\n\t"))
	}
}

// checkRecordedSeries waits until every recording rule of
// rules/dyvms.rules.yml but those of later has produced at least one
// series: the rules are healthy (checked before) and also find data on
// this generation. The call-centre rules are fed by the call centre's
// enterprises entry (callcentre_test.go); those since midnight need a
// minute of history and are checked at the end of the run
// (checkSinceMidnight).
func checkRecordedSeries(t *testing.T, g generation, prom promAPI, root string, later map[string]bool) {
	t.Helper()
	rf, err := promqlcheck.ReadRuleFile(filepath.Join(root, "rules", "dyvms.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cc := callCentreRules(t, *rf)
	var records []string
	callCentre := 0
	for _, gr := range rf.Groups {
		for _, r := range gr.Rules {
			if r.Record == "" || later[r.Record] {
				continue
			}
			records = append(records, r.Record)
			if cc[r.Record] {
				callCentre++
			}
		}
	}
	testutil.Eventually(t, 30*time.Second, 500*time.Millisecond, fmt.Sprintf("every recording rule has data on Prometheus %d", g.major), func() (bool, string) {
		var empty []string
		for _, rec := range records {
			res, err := prom.query(rec)
			if err != nil {
				t.Fatalf("%s: %v", rec, err)
			}
			if len(res) == 0 {
				empty = append(empty, rec)
			}
		}
		return len(empty) == 0, fmt.Sprintf("no series yet: %v", empty)
	})
	t.Logf("%d recording rules, each with data (%d of them call-centre rules; %d since midnight checked at the end)", len(records), callCentre, len(later))
}
