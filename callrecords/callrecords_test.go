package callrecords

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

func i64(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }

func TestOutcomeTable(t *testing.T) {
	const s = 1741600000
	none := apiclient.Int64{}
	for _, tc := range []struct {
		name string
		r    apiclient.CallRecord
		want []string // outcomes counted, short names
		wait int64    // -1: no wait observed
	}{
		{"not answered", apiclient.CallRecord{StatusCode: i64(40), StartTime: i64(s), EndTime: i64(s + 30), AnswerTime: i64(0)},
			[]string{"dialled", "not_answered"}, -1},
		{"live, agent within 1 s", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(1), RealAnswerTime: i64(s + 5), BridgeTime: i64(s + 6)},
			[]string{"dialled", "live_answered", "connected"}, 1},
		{"live, agent after exactly 2 s", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(1), RealAnswerTime: i64(s + 5), BridgeTime: i64(s + 7)},
			[]string{"dialled", "live_answered", "connected"}, 2},
		{"live, agent after 3 s", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(1), RealAnswerTime: i64(s + 5), BridgeTime: i64(s + 8)},
			[]string{"dialled", "live_answered", "connected", "abandoned"}, 3},
		{"live, never connected", apiclient.CallRecord{StatusCode: i64(41), IsRealAnswer: i64(1), RealAnswerTime: i64(s + 5), BridgeTime: i64(0)},
			[]string{"dialled", "live_answered", "abandoned"}, -1},
		{"live by RealAnswerTime, IsRealAnswer empty", apiclient.CallRecord{RealAnswerTime: i64(s + 5), AnswerTime: i64(s + 5), BridgeTime: none},
			[]string{"dialled", "live_answered", "abandoned"}, -1},
		{"machine, connected late", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(0), AnswerTime: i64(s + 5), BridgeTime: i64(s + 20)},
			[]string{"dialled", "machine_answered", "connected"}, -1},
		{"unknown answer, not connected", apiclient.CallRecord{StatusCode: i64(41), AnswerTime: i64(s + 5)},
			[]string{"dialled", "machine_answered"}, -1},
		{"connected by StatusCode only: wait unknown, not abandoned", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(1), RealAnswerTime: i64(s + 5)},
			[]string{"dialled", "live_answered", "connected"}, -1},
		{"live by IsRealAnswer alone", apiclient.CallRecord{StatusCode: i64(40), IsRealAnswer: i64(1)},
			[]string{"dialled", "live_answered", "abandoned"}, -1},
		{"AnswerTime when RealAnswerTime is empty", apiclient.CallRecord{StatusCode: i64(43), IsRealAnswer: i64(1), AnswerTime: i64(s + 5), BridgeTime: i64(s + 9)},
			[]string{"dialled", "live_answered", "connected", "abandoned"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := readCall(&tc.r)
			var got []string
			for _, o := range outcomes {
				if o.counts(c) {
					got = append(got, strings.TrimSuffix(strings.TrimPrefix(o.name, "dyvms_calls_"), "_total"))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("outcomes %v, want %v", got, tc.want)
			}
			w, ok := c.wait()
			if !ok {
				w = -1
			}
			if w != tc.wait {
				t.Errorf("wait %d, want %d", w, tc.wait)
			}
		})
	}
}

// The table of call outcomes in docs/call-outcomes.md is the code's, word
// for word, and that page and docs/metrics.md name exactly the families the
// poller's registry gathers.
func TestDocumentedOutcomeTableIsTheCodes(t *testing.T) {
	page, err := os.ReadFile("../docs/call-outcomes.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(page)
	row := regexp.MustCompile("^\\| `(dyvms_calls_[a-z_]+_total)` \\| (.+) \\|$")
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			got[m[1]] = m[2]
		}
	}
	for _, o := range outcomes {
		if got[o.name] != o.rule {
			t.Errorf("docs/call-outcomes.md row for %s:\n got %q\nwant %q", o.name, got[o.name], o.rule)
		}
		delete(got, o.name)
	}
	for name := range got {
		t.Errorf("docs/call-outcomes.md lists %s, which the code does not count", name)
	}
	// And every family the poller exports is in the poller's own page.
	doc, err := os.ReadFile("../docs/call-records-poller.md")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, simConfig())
	m, reg := w.poller(t, testEntry, Options{Tasks: func(int64) []int64 { return []int64{19} }})
	w.run(t, m, 3, time.Minute)
	m.m.errors.WithLabelValues("1", "default", "x")
	m.m.invalid.WithLabelValues("1", "no_id")
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range fams {
		if !strings.Contains(section, "`"+f.GetName()) && !strings.Contains(string(doc), "| `"+f.GetName()) {
			t.Errorf("%s is exported but in neither docs/call-outcomes.md nor docs/call-records-poller.md", f.GetName())
		}
		exported[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				exported[f.GetName()+s] = true
			}
		}
	}
	// docs/metrics.md lists every family of the poller, and no other
	// dyvms_call* family, in its tables.
	metricsPage, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(metricsPage), "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`(dyvms_calls?_[a-z0-9_]+)").FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = true
		}
	}
	for _, f := range fams {
		if !listed[f.GetName()] {
			t.Errorf("%s is exported but not in the tables of docs/metrics.md", f.GetName())
		}
		delete(listed, f.GetName())
	}
	for name := range listed {
		t.Errorf("docs/metrics.md lists %s, which the poller does not export", name)
	}
	// The names the rule and dashboard checks take for granted.
	for _, n := range promqlcheck.CallRecordMetrics {
		if !exported[n] {
			t.Errorf("promqlcheck.CallRecordMetrics lists %s, which the poller does not export", n)
		}
	}
}

// Against the simulator with every fault a record store can have (late
// records within the lateness, the same record on two pages, throttled and
// malformed answers), the counters equal a clean reading of the same
// records afterwards: each call counted once, none missed.
func TestPollerCountsEveryCallOnce(t *testing.T) {
	cfg := simConfig()
	cfg.Faults.Rules = []simulator.FaultRule{
		{Kind: simulator.FaultLateRecord, Probability: 0.05, Delay: simulator.Duration(5 * time.Minute)},
		{Kind: simulator.FaultDuplicateRecord},
		{Kind: simulator.FaultThrottle, Probability: 0.1, TimeLeft: simulator.Duration(time.Millisecond)},
		{Kind: simulator.FaultMalformed, Probability: 0.05},
	}
	w := newWorld(t, cfg)
	e := testEntry
	start := w.clock.Now()
	m, reg := w.poller(t, e, Options{})
	// Small pages, so that a poll has several and duplicate_record bites.
	m.pageLimit = 50
	errs := w.run(t, m, 40, e.Interval)
	if len(errs) == 0 {
		t.Fatal("no poll failed: the faults did not apply")
	}
	// Let the late records show up: polls without faults, past the delay.
	if err := w.sim.SetFaults(simulator.Faults{Rules: cfg.Faults.Rules[:2]}); err != nil {
		t.Fatal(err)
	}
	w.run(t, m, 8, e.Interval)
	fams := gather(t, reg)
	upper := fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]
	since := fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]
	if since != float64(start.Add(-e.Settle).Unix()+1) || upper != float64(w.clock.Now().Add(-e.Settle).Unix()) {
		t.Fatalf("counting since %v, watermark %v", since, upper)
	}
	want := w.truth(t, int64(since), int64(upper))
	for _, task := range []int64{19, 20} {
		got, exp := counted(fams, task), counted(want, task)
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("task %d counted\n %v\nwant\n %v", task, got, exp)
		}
		if exp["dyvms_calls_dialled_total"] < 100 || exp["dyvms_calls_abandoned_total"] == 0 {
			t.Errorf("task %d: too few calls to mean anything: %v", task, exp)
		}
	}
	if fams["dyvms_call_records_late_total"][entKey()] == 0 || fams["dyvms_call_records_duplicates_total"][entKey()] == 0 {
		t.Errorf("late %v, duplicates %v: the faults left no trace", fams["dyvms_call_records_late_total"], fams["dyvms_call_records_duplicates_total"])
	}
	for _, code := range []string{"Throttling.User", "bad_response"} {
		if fams["dyvms_call_records_errors_total"]["account=default,code="+code+","+entKey()] == 0 {
			t.Errorf("no error counted with code %s: %v", code, fams["dyvms_call_records_errors_total"])
		}
	}
	// The de-duplication memory holds the lateness window, no more.
	if tr := fams["dyvms_call_records_tracked"][entKey()]; tr == 0 || tr > want["dyvms_calls_dialled_total"][taskKey(19)]+want["dyvms_calls_dialled_total"][taskKey(20)] {
		t.Errorf("tracked %v", tr)
	}
}

// A record later than the lateness is never seen: no window reaches back
// to it. The test shows the cost honestly: it is missing from the counts.
func TestRecordsLaterThanTheLatenessAreMissed(t *testing.T) {
	cfg := simConfig()
	cfg.Faults.Rules = []simulator.FaultRule{{Kind: simulator.FaultLateRecord, Probability: 0.1, Delay: simulator.Duration(20 * time.Minute)}}
	w := newWorld(t, cfg)
	m, reg := w.poller(t, testEntry, Options{})
	w.run(t, m, 45, time.Minute)
	fams := gather(t, reg)
	since, upper := int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()])
	// Read back only up to 25 minutes ago, where every late record is out.
	w.clock.Advance(30 * time.Minute)
	want := w.truth(t, since, upper)
	got := counted(fams, 19)["dyvms_calls_dialled_total"]
	exp := counted(want, 19)["dyvms_calls_dialled_total"]
	if got >= exp || got < exp*0.8 {
		t.Fatalf("counted %v of %v calls; the 10%% that came 20 minutes late should be missing", got, exp)
	}
	if late := fams["dyvms_call_records_late_total"][entKey()]; late != 0 {
		t.Fatalf("late %v: records past the lateness cannot be seen", late)
	}
}

// failingReader fails while fail is set (every page, or from page
// failFrom of a window on), and records the windows asked (their first
// pages) and every page asked.
type failingReader struct {
	mu       sync.Mutex
	next     Reader
	fail     bool
	failFrom int64 // fail pages whose Start is at least this
	windows  [][2]int64
	pages    []apiclient.CdrQuery
}

func (f *failingReader) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	f.mu.Lock()
	if q.Start == 0 {
		f.windows = append(f.windows, [2]int64{q.StartTime.Unix(), q.EndTime.Unix()})
	}
	f.pages = append(f.pages, q)
	fail := f.fail && q.Start >= f.failFrom
	f.mu.Unlock()
	if fail {
		return nil, &apiclient.Error{Operation: "CloudQueryPredictiveCallCdr", Code: "ServiceUnavailable", HTTPStatus: 503}
	}
	return f.next.CloudQueryPredictiveCallCdrPage(ctx, q)
}

func TestWatermarkMovesOnlyPastWhatWasReadCompletely(t *testing.T) {
	w := newWorld(t, simConfig())
	e := testEntry
	m, reg := w.poller(t, e, Options{})
	fr := &failingReader{next: w.client}
	m.reader = fr
	w.run(t, m, 3, time.Minute)
	good := gather(t, reg)["dyvms_call_records_watermark_timestamp_seconds"][entKey()]

	// Failing polls (their records are returned with the error, as a
	// partial read is): the watermark stays and the window grows.
	fr.mu.Lock()
	fr.fail = true
	fr.mu.Unlock()
	w.run(t, m, 3, time.Minute)
	fams := gather(t, reg)
	if got := fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]; got != good {
		t.Fatalf("watermark %v after failures, want %v", got, good)
	}
	// The failed window is asked again, the same window, where it failed.
	lateness := int64(e.Lateness / time.Second)
	for _, win := range fr.windows[3:] {
		if win != fr.windows[3] || win[0] != max(int64(good)-lateness, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()])) {
			t.Fatalf("windows %v after the failures: want the one that failed, from the watermark less the lateness", fr.windows[3:])
		}
	}
	if lag := fams["dyvms_call_records_lag_seconds"][entKey()]; lag < 3*60 {
		t.Fatalf("lag %v s after 3 failed minutes", lag)
	}
	// Recovery: everything counted once.
	fr.mu.Lock()
	fr.fail = false
	fr.mu.Unlock()
	w.run(t, m, 2, time.Minute)
	fams = gather(t, reg)
	want := w.truth(t, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]))
	if got, exp := counted(fams, 19), counted(want, 19); fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("after recovery\n %v\nwant\n %v", got, exp)
	}
	if fams["dyvms_call_records_errors_total"]["account=default,code=ServiceUnavailable,"+entKey()] != 3 {
		t.Fatalf("errors %v", fams["dyvms_call_records_errors_total"])
	}
}

// A restart: the new process counts from its own start (less settle), says
// so, and its counters are the calls since then; two exporters started
// together count the same.
func TestRestartAndHA(t *testing.T) {
	w := newWorld(t, simConfig())
	a, regA := w.poller(t, testEntry, Options{})
	b, regB := w.poller(t, testEntry, Options{}) // the HA twin
	w.run(t, a, 10, time.Minute)
	// The twin polls on its own schedule: here once, now, over the whole
	// time, where a polled every minute.
	if err := b.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	fa, fb := gather(t, regA), gather(t, regB)
	if ca, cb := counted(fa, 19), counted(fb, 19); fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Fatalf("HA pair disagrees:\n %v\n %v", ca, cb)
	}

	// Restart: a fresh Manager (nothing is stored) at this moment.
	restart := w.clock.Now()
	c, regC := w.poller(t, testEntry, Options{Tasks: func(int64) []int64 { return []int64{19, 20, 33} }})
	fc := gather(t, regC)
	if since := fc["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]; since != float64(restart.Add(-testEntry.Settle).Unix()+1) {
		t.Fatalf("counting since %v, want the restart less settle", since)
	}
	// Before its first poll: every known task at 0 (a task with no call yet, 33, too).
	for _, task := range []int64{19, 20, 33} {
		for name, v := range counted(fc, task) {
			if v != 0 {
				t.Fatalf("task %d: %s = %v before the first poll", task, name, v)
			}
		}
		if _, ok := fc["dyvms_calls_abandoned_total"][taskKey(task)]; !ok {
			t.Fatalf("task %d has no series before its first call", task)
		}
	}
	if lastOK := fc["dyvms_call_records_last_success_timestamp_seconds"][entKey()]; lastOK != 0 {
		t.Fatalf("last success %v before the first poll", lastOK)
	}
	w.run(t, c, 5, time.Minute)
	fc = gather(t, regC)
	want := w.truth(t, restart.Add(-testEntry.Settle).Unix()+1, w.clock.Now().Add(-testEntry.Settle).Unix())
	if got, exp := counted(fc, 19), counted(want, 19); fmt.Sprint(got) != fmt.Sprint(exp) || exp["dyvms_calls_dialled_total"] == 0 {
		t.Fatalf("after the restart\n %v\nwant the calls since it\n %v", got, exp)
	}
	if fc["dyvms_call_records_last_success_timestamp_seconds"][entKey()] != float64(w.clock.Now().Unix()) {
		t.Fatalf("last success %v", fc["dyvms_call_records_last_success_timestamp_seconds"])
	}
}

func TestDeduplicationMemoryIsBounded(t *testing.T) {
	w := newWorld(t, simConfig())
	e := testEntry
	e.MaxTracked = 100
	m, reg := w.poller(t, e, Options{})
	w.run(t, m, 20, time.Minute)
	fams := gather(t, reg)
	if tr := fams["dyvms_call_records_tracked"][entKey()]; tr > 100 || tr == 0 {
		t.Fatalf("tracked %v, bound 100", tr)
	}
	if fams["dyvms_call_records_forgotten_total"][entKey()] == 0 {
		t.Fatal("nothing forgotten: the bound did not bite")
	}
	// Forgetting never counts twice: every call counted is a real one of
	// the time counted, and none twice (dialled <= the calls since start).
	since := int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()])
	want := w.truth(t, w.clock.Now().Add(-21*time.Minute).Unix(), w.clock.Now().Add(-e.Settle).Unix())
	got, exp := counted(fams, 19)["dyvms_calls_dialled_total"], counted(want, 19)["dyvms_calls_dialled_total"]
	if got > exp || got < exp/2 {
		t.Fatalf("counted %v of %v calls (counting since %d)", got, exp, since)
	}
	if fams["dyvms_call_records_duplicates_total"][entKey()] == 0 {
		t.Fatal("no duplicates seen: the windows did not overlap")
	}
}

// The records' personal fields (the simulator fills them; here a canary
// number is put in every one) reach no metric and no log line, also when
// an answer cannot be read.
func TestNoPersonalDataInMetricsOrLogs(t *testing.T) {
	const canary = "13912345678"
	record := func(i int) string {
		return fmt.Sprintf(`{"UniqueId":"u%d","TaskId":"19","StartTime":"1741600000","RealAnswerTime":"1741600005","IsRealAnswer":"1",`+
			`"BridgeTime":"1741600009","EndTime":"1741600100","StatusCode":"43","CustomerNumber":"%[2]s","Clid":"%[2]s","DisplayNumber":"%[2]s",`+
			`"CalleeNumber":"%[2]s","XNumber":"%[2]s","CustomerCity":"%[2]s","AgentName":"%[2]s","RequestUniqueId":"%[2]s",`+
			`"UserField":{"p":"%[2]s"},"RecordFile":[{"Url":"https://x.invalid/%[2]s.mp3"}]}`, i, canary)
	}
	bodies := []string{
		`{"Code":"OK","RequestId":"R","Data":{"List":[` + record(1) + `,` + record(2) + `]}}`,
		`{"List":{"CustomerNumber":"` + canary + `"},"Code"="OK","Data":{"List":[` + record(3) + `]}}`, // malformed
		`{"Code":"OK","Data":{"List":[{"CustomerNumber":"` + canary + `","EndTime":{"bad":1}}]}}`,
	}
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := bodies[n%len(bodies)]
		n++
		mu.Unlock()
		fmt.Fprint(w, b)
	}))
	defer srv.Close()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	clock := simulator.NewFakeClock(time.Unix(1741600000, 0)) // before the records end
	c, err := apiclient.New(apiclient.Options{Endpoint: srv.URL, Now: clock.Now,
		Credentials: apiclient.StaticCredentials{AccessKeyID: "id", AccessKeySecret: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: clock.Now, Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs))})
	m.Update(c, []config.CallRecords{{EnterpriseID: ent, Interval: time.Minute, Lateness: time.Hour, Settle: time.Second, MaxTracked: 1000}})
	var errs []error
	for range 6 {
		clock.Advance(time.Minute)
		if err := m.Poll(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	// The malformed answer fails twice; the one with an unreadable field
	// fails too, or (with tolerant decoding) yields a record without an id.
	if len(errs) < 2 || !strings.Contains(logs.String(), "reading call records failed") {
		t.Fatalf("%d failed polls (want at least 2), logs:\n%s", len(errs), logs.String())
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), canary) {
			t.Fatalf("error shows the canary: %v", err)
		}
	}
	if strings.Contains(logs.String(), canary) {
		t.Fatalf("the log shows the canary:\n%s", logs.String())
	}
	exp, err := testutil.CollectAndFormat(m.m, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(exp, []byte(canary)) {
		t.Fatalf("the exposition shows the canary:\n%s", exp)
	}
	// The two calls of the readable answer, once: the unreadable answers
	// count nothing.
	if v := gather(t, reg)["dyvms_calls_connected_total"][taskKey(19)]; v != 2 {
		t.Fatalf("connected %v, want the 2 distinct calls", v)
	}
}

func TestEntriesFollowTheConfiguration(t *testing.T) {
	w := newWorld(t, simConfig())
	m, reg := w.poller(t, testEntry, Options{})
	w.run(t, m, 3, time.Minute)
	if v := gather(t, reg)["dyvms_calls_dialled_total"][taskKey(19)]; v == 0 {
		t.Fatal("nothing counted")
	}
	// A reload with the same entry keeps the counts; without it they go.
	m.Update(w.client, []config.CallRecords{testEntry})
	if v := gather(t, reg)["dyvms_calls_dialled_total"][taskKey(19)]; v == 0 {
		t.Fatal("a reload lost the counts")
	}
	m.Update(w.client, nil)
	for name, s := range gather(t, reg) {
		for k := range s {
			if strings.Contains(k, fmt.Sprint(ent)) {
				t.Fatalf("%s{%s} left after the entry was removed", name, k)
			}
		}
	}
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m2 := New(Options{}); !errors.Is(m2.Poll(context.Background()), nil) {
		t.Fatal("an empty manager failed to poll")
	}
}

// The API cost of the README ("Call outcomes"), measured: an enterprise
// whose one task makes about 10,000 calls a day, the default entry, one
// simulated hour of polls.
func TestAPICostPerHour(t *testing.T) {
	cfg := simConfig()
	n := func(v int) *int { return &v }
	cfg.Enterprises[0].Tasks = []simulator.Task{{ID: 19, Agents: n(6), Concurrency: 5, Numbers: n(1_000_000), StartedAgo: simulator.Duration(time.Hour)}}
	w := newWorld(t, cfg)
	e := config.DefaultCallRecords
	e.EnterpriseID = ent
	m, reg := w.poller(t, e, Options{})
	w.run(t, m, 15, time.Minute) // the first window fills the lateness
	before := gather(t, reg)
	w.sim.ResetStats()
	w.run(t, m, 60, time.Minute)
	after := gather(t, reg)
	requests := w.sim.Stats().Actions["CloudQueryPredictiveCallCdr"]
	calls := after["dyvms_calls_dialled_total"][taskKey(19)] - before["dyvms_calls_dialled_total"][taskKey(19)]
	read := after["dyvms_call_records_read_total"][entKey()] - before["dyvms_call_records_read_total"][entKey()]
	t.Logf("%.0f calls in the hour (%.0f a day): %d requests, %.0f records read (each %.1f times)", calls, calls*24, requests, read, read/calls)
	if calls*24 < 7000 || calls*24 > 13000 {
		t.Fatalf("%.0f calls a day: the test wants about 10,000", calls*24)
	}
	if requests != 60 {
		t.Fatalf("%d requests in an hour, want one page per poll: 60", requests)
	}
	if r := read / calls; r < 14 || r > 18 {
		t.Fatalf("each record read %.1f times, want about lateness/interval + 1 = 16", r)
	}
}

// After an outage the backlog is read an hour at a time, poll after poll,
// and every call of it is counted once.
func TestCatchUpAfterAnOutage(t *testing.T) {
	w := newWorld(t, simConfig())
	m, reg := w.poller(t, testEntry, Options{})
	fr := &failingReader{next: w.client}
	m.reader = fr
	w.run(t, m, 2, time.Minute)
	fr.mu.Lock()
	fr.fail = true
	fr.mu.Unlock()
	w.run(t, m, 6, 30*time.Minute) // three hours without a good answer
	fr.mu.Lock()
	fr.fail, fr.windows = false, nil
	fr.mu.Unlock()
	w.clock.Advance(time.Minute)
	for range 10 { // polls due at once while behind, without the clock moving
		if err := m.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	fr.mu.Lock()
	windows := fr.windows
	fr.mu.Unlock()
	if len(windows) < 4 {
		t.Fatalf("%d windows to catch up three hours, want at least 4 of at most an hour", len(windows))
	}
	for _, win := range windows[:3] {
		if span := win[1] - win[0]; span > int64((MaxCatchUp+testEntry.Lateness)/time.Second) {
			t.Fatalf("window %v spans %d s, more than an hour past the watermark", win, span)
		}
	}
	fams := gather(t, reg)
	upper := int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()])
	if want := w.clock.Now().Add(-testEntry.Settle).Unix(); upper != want {
		t.Fatalf("watermark %d after catching up, want %d", upper, want)
	}
	want := w.truth(t, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), upper)
	if got, exp := counted(fams, 19), counted(want, 19); fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("after catching up\n %v\nwant\n %v", got, exp)
	}
}
