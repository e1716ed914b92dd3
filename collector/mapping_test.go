package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// bodyAPI decodes a fixed JSON body per task, as the real client does, so
// these tests pin the whole path from the wire to the exposition.
type bodyAPI map[Task]string

func (b bodyAPI) CloudMonitorTask(_ context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	return apiclient.DecodeCloudMonitorTask([]byte(b[Task{EnterpriseID: e, TaskID: t}]), time.UTC)
}

// answerWith is a minimal answer: the two CtiLinkTaskProperty objects (JSON
// members without braces) and extra members of Data.
func answerWith(stat, today, extra string) string {
	s := `{"Code":"OK","Data":{"Statistic":{"CtiLinkTaskProperty":{` + stat + `}},"TodayStatistic":{"CtiLinkTaskProperty":{` + today + `}}`
	if extra != "" {
		s += "," + extra
	}
	return s + "}}"
}

func scrapeOne(t *testing.T, body string, o Options) map[string]float64 {
	t.Helper()
	api := bodyAPI{{EnterpriseID: 7, TaskID: 19}: body}
	got := seriesOfTask(gather(t, New(context.Background(), api, []Task{{EnterpriseID: 7, TaskID: 19}}, o)), "7", "19")
	if got["dyvms_task_scrape_success{}"] != 1 {
		t.Fatalf("task failed: %v", got)
	}
	return got
}

// checkSeries: every series of want with its value, none of absent.
func checkSeries(t *testing.T, got, want map[string]float64, absent []string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for _, k := range absent {
		if _, ok := got[k]; ok {
			t.Errorf("%s is exported but must be absent", k)
		}
	}
}

func countSeries(got map[string]float64, prefix string) int {
	n := 0
	for k := range got {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// statusOf returns the one state of dyvms_task_status that is 1, failing
// unless exactly one is.
func statusOf(t *testing.T, got map[string]float64) string {
	t.Helper()
	var on []string
	n := 0
	for k, v := range got {
		if st, ok := strings.CutPrefix(k, "dyvms_task_status{status="); ok {
			n++
			if v == 1 {
				on = append(on, strings.TrimSuffix(st, "}"))
			} else if v != 0 {
				t.Errorf("%s = %v", k, v)
			}
		}
	}
	if n != len(taskStates) || len(on) != 1 {
		t.Fatalf("%d states, %v set: %v", n, on, got)
	}
	return on[0]
}

// TestTaskStatusTable: every value of Status in both wire forms, values the
// exporter does not know, and the fallback from Statistic to TodayStatistic.
func TestTaskStatusTable(t *testing.T) {
	for _, tc := range []struct {
		stat, today string // Status members, or "" for none
		want        string
	}{
		{`"Status":0`, ``, "initial"},
		{`"Status":"0"`, ``, "initial"},
		{`"Status":1`, ``, "running"},
		{`"Status":"1"`, ``, "running"},
		{`"Status":2`, ``, "paused"},
		{`"Status":"2"`, ``, "paused"},
		{`"Status":3`, ``, "finished"},
		{`"Status":"3"`, ``, "finished"},
		{`"Status":3.0`, ``, "finished"},
		{`"Status":" 1 "`, ``, "running"},
		{`"Status":4`, ``, "unknown"},
		{`"Status":"7"`, ``, "unknown"},
		{`"Status":255`, ``, "unknown"},
		{`"Status":260`, ``, "unknown"}, // 260 mod 256 = 4: no truncation to a byte
		{`"Status":-1`, ``, "unknown"},
		{`"Status":"-3"`, ``, "unknown"},
		{`"Status":-9223372036854775808`, ``, "unknown"},
		{``, ``, "unknown"},
		{`"Status":null`, `"Status":""`, "unknown"},
		{`"Status":"abc"`, ``, "unknown"},
		{`"Status":1.5`, ``, "unknown"},
		// Absent or unreadable in Statistic: TodayStatistic's, in either form.
		{``, `"Status":0`, "initial"},
		{``, `"Status":"2"`, "paused"},
		{`"Status":""`, `"Status":3`, "finished"},
		{`"Status":true`, `"Status":"1"`, "running"},
		// Both present: Statistic's, even when TodayStatistic's is another.
		{`"Status":0`, `"Status":1`, "initial"},
		{`"Status":"3"`, `"Status":2`, "finished"},
		{`"Status":9`, `"Status":1`, "unknown"},
	} {
		t.Run(tc.stat+"|"+tc.today, func(t *testing.T) {
			got := scrapeOne(t, answerWith(tc.stat, tc.today, ""), Options{})
			if st := statusOf(t, got); st != tc.want {
				t.Errorf("status %s", st)
			}
		})
	}
}

// TestStatisticFallbacks: each CtiLinkTaskProperty field the exporter
// shows is taken from Statistic and, when absent there, from
// TodayStatistic; the counts of the two blocks never stand in for each
// other (they are different metrics).
func TestStatisticFallbacks(t *testing.T) {
	const (
		t1 = `"2026-04-20 10:00:00"` // Unix 1776679200 in UTC
		t2 = `"2026-04-20 11:00:00"` // 1776682800
	)
	info := func(name, desc string) string {
		return "dyvms_task_info{status_description=" + desc + ",task_name=" + name + "}"
	}
	for _, tc := range []struct {
		name        string
		stat, today string
		want        map[string]float64 // series that must be there
		absent      []string
	}{
		{"over time only in today", `"OverTime":""`, `"OverTime":` + t2,
			map[string]float64{"dyvms_task_end_timestamp_seconds{}": 1776682800}, []string{"dyvms_task_start_timestamp_seconds{}"}},
		{"over time in both", `"OverTime":` + t1, `"OverTime":` + t2,
			map[string]float64{"dyvms_task_end_timestamp_seconds{}": 1776679200}, nil},
		{"over time in neither", `"OverTime":null`, `"OverTime":"0000-00-00 00:00:00"`,
			nil, []string{"dyvms_task_end_timestamp_seconds{}"}},
		{"over time unreadable in statistic", `"OverTime":5`, `"OverTime":` + t2,
			map[string]float64{"dyvms_task_end_timestamp_seconds{}": 1776682800}, nil},
		{"start time only in today", ``, `"StartTime":` + t1,
			map[string]float64{"dyvms_task_start_timestamp_seconds{}": 1776679200}, []string{"dyvms_task_end_timestamp_seconds{}"}},
		{"start time only in statistic", `"StartTime":` + t2, ``,
			map[string]float64{"dyvms_task_start_timestamp_seconds{}": 1776682800}, nil},
		{"start time in both", `"StartTime":` + t2, `"StartTime":` + t1,
			map[string]float64{"dyvms_task_start_timestamp_seconds{}": 1776682800}, nil},
		{"name and description only in today", `"Name":"","StatusDescription":null`, `"Name":"n2","StatusDescription":"d2"`,
			map[string]float64{info("n2", "d2"): 1}, nil},
		{"name only in today, description in both", `"StatusDescription":"d1"`, `"Name":"n2","StatusDescription":"d2"`,
			map[string]float64{info("n2", "d1"): 1}, nil},
		{"description only in today", `"Name":"n1"`, `"StatusDescription":"d2"`,
			map[string]float64{info("n1", "d2"): 1}, nil},
		{"both in both", `"Name":"n1","StatusDescription":"d1"`, `"Name":"n2","StatusDescription":"d2"`,
			map[string]float64{info("n1", "d1"): 1}, nil},
		{"neither", ``, ``,
			map[string]float64{info("", ""): 1}, nil},
		{"name unreadable in statistic", `"Name":{"x":1}`, `"Name":"n2"`,
			map[string]float64{info("n2", ""): 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scrapeOne(t, answerWith(tc.stat, tc.today, ""), Options{})
			checkSeries(t, got, tc.want, tc.absent)
			if n := countSeries(got, "dyvms_task_info{"); n != 1 {
				t.Errorf("%d task_info series", n)
			}
		})
	}
	// Counts do not fall back: an absent Statistic count stays absent.
	body := `{"Code":"OK","Data":{"Statistic":{"AgentCount":4},"TodayStatistic":{"CalledCount":5,"AgentCount":6}}}`
	got := scrapeOne(t, body, Options{})
	if _, ok := got["dyvms_task_called{}"]; ok || got["dyvms_task_today_called{}"] != 5 || got["dyvms_task_agents{}"] != 4 || got["dyvms_task_today_agents{}"] != 6 {
		t.Errorf("counts: %v", got)
	}
	if _, ok := got["dyvms_task_today_answered{}"]; ok {
		t.Error("today_answered present")
	}
}

// TestOddFieldKeepsTheTask is the regression test for one odd value
// failing its whole task: a fraction in a count is exported as it is; a
// value that cannot be read is left out and counted by field; the rest of
// the task is exported and the reporter is told once per scrape.
func TestOddFieldKeepsTheTask(t *testing.T) {
	body := `{"Code":"OK","Data":{
		"Statistic":{"CtiLinkTaskProperty":{"Status":1,"Name":"t"},"CalledCount":"7.9","AnswerCount":true,"UncalledCount":3},
		"ChannelInfo":{"ChannelCount":5,"BridgedCount":"abc","IvrCount":{"n":1}},
		"AgentStatisticList":[{"Cno":"1","CallLimit":"n/a","BridgeCount":2.5},{"Cno":"2","CallLimit":[],"BridgeCount":1}]}}`
	var mu sync.Mutex
	var reported [][]apiclient.UnreadableField
	got := scrapeOne(t, body, Options{OnUnreadable: func(task Task, f []apiclient.UnreadableField) {
		mu.Lock()
		defer mu.Unlock()
		if task != (Task{EnterpriseID: 7, TaskID: 19}) {
			t.Errorf("reported for %v", task)
		}
		reported = append(reported, f)
	}})
	want := map[string]float64{
		"dyvms_task_called{}":                                              7.9,
		"dyvms_task_uncalled{}":                                            3,
		"dyvms_task_channels{}":                                            5,
		"dyvms_agent_bridged{cno=1,removed=false}":                         2.5,
		"dyvms_agent_bridged{cno=2,removed=false}":                         1,
		"dyvms_task_unreadable_fields{field=Statistic.AnswerCount}":        1,
		"dyvms_task_unreadable_fields{field=ChannelInfo.BridgedCount}":     1,
		"dyvms_task_unreadable_fields{field=ChannelInfo.IvrCount}":         1,
		"dyvms_task_unreadable_fields{field=AgentStatisticList.CallLimit}": 2,
		"dyvms_task_status{status=running}":                                1,
	}
	checkSeries(t, got, want, []string{"dyvms_task_answered{}", "dyvms_task_channels_bridged{}", "dyvms_task_channels_ivr{}", "dyvms_agent_call_limit{cno=1,removed=false}"})
	if n := countSeries(got, "dyvms_task_unreadable_fields{"); n != 4 {
		t.Errorf("%d unreadable_fields series, want 4", n)
	}
	if len(reported) != 1 || len(reported[0]) != 4 {
		t.Errorf("reported %+v", reported)
	}
	// A clean answer has no such series, and reports nothing.
	reported = nil
	got = scrapeOne(t, answerWith(`"Status":1`, ``, `"ChannelInfo":{"ChannelCount":1}`), Options{OnUnreadable: func(Task, []apiclient.UnreadableField) { reported = append(reported, nil) }})
	if n := countSeries(got, "dyvms_task_unreadable_fields{"); n != 0 {
		t.Errorf("clean answer exports %d dyvms_task_unreadable_fields", n)
	}
	if reported != nil {
		t.Error("clean answer reported")
	}
}

// TestUnreadableFieldsAreIndexable: every field the decoder can report
// has a label value (sample.state is a byte).
func TestUnreadableFieldsAreIndexable(t *testing.T) {
	if len(unreadableFields) == 0 || len(unreadableFields) > 256 {
		t.Fatalf("%d fields", len(unreadableFields))
	}
	f := &families[famUnreadable]
	for i, name := range unreadableFields {
		if f.stateText[i] != `,field="`+name+`"` {
			t.Errorf("stateText[%d] = %s", i, f.stateText[i])
		}
	}
}

// TestUnreadableLogOnce: one warning per task and field however many
// scrapes repeat it (later ones at debug), and a bounded memory of what was
// logged.
func TestUnreadableLogOnce(t *testing.T) {
	var buf bytes.Buffer
	u := NewUnreadableLog(log.NewLogfmtLogger(&buf), 3)
	a := []apiclient.UnreadableField{{Field: "ChannelInfo.BridgedCount", Count: 1, Got: "bool"}}
	b := []apiclient.UnreadableField{{Field: "AgentStatisticList.CallLimit", Count: 2, Got: "string"}}
	for range 5 {
		u.Report(Task{EnterpriseID: 1, TaskID: 1}, a)
	}
	u.Report(Task{EnterpriseID: 1, TaskID: 1}, b)
	u.Report(Task{EnterpriseID: 1, TaskID: 2}, a)
	u.Report(Task{EnterpriseID: 1, TaskID: 2}, a)
	warns := strings.Count(buf.String(), "level=warn")
	if warns != 3 || strings.Count(buf.String(), "level=debug") != 5 {
		t.Errorf("%d warnings, want 3 (one per task and field):\n%s", warns, buf.String())
	}
	for _, want := range []string{`enterprise_id=1 task_id=1 field=ChannelInfo.BridgedCount got=bool count=1`, `field=AgentStatisticList.CallLimit got=string count=2`, `enterprise_id=1 task_id=2 field=`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
	if n := u.remembered(); n != 3 {
		t.Errorf("remembers %d pairs, want 3", n)
	}
	// Full: the next new pair empties the set, which never exceeds its bound.
	for i := range 100 {
		u.Report(Task{EnterpriseID: 2, TaskID: int64(i)}, a)
		if n := u.remembered(); n > 3 {
			t.Fatalf("remembers %d pairs, bound 3", n)
		}
	}
	buf.Reset()
	u.Report(Task{EnterpriseID: 2, TaskID: 99}, a) // still remembered: the last one added
	if strings.Contains(buf.String(), "level=warn") {
		t.Errorf("logged again right away: %s", buf.String())
	}
	d := NewUnreadableLog(nil, 0)
	for i := range DefaultUnreadableLogSize + 1 {
		d.Report(Task{EnterpriseID: 3, TaskID: int64(i)}, a)
		if i == DefaultUnreadableLogSize-1 && d.remembered() != DefaultUnreadableLogSize {
			t.Errorf("default size: remembers %d pairs, want %d", d.remembered(), DefaultUnreadableLogSize)
		}
	}
	if d.remembered() != 1 {
		t.Errorf("default size: %d pairs after one past the bound, want 1", d.remembered())
	}
}

// TestHandlerReportsUnreadableOnce: through the /metrics handler, every
// scrape exports dyvms_task_unreadable_fields and the log warns once per
// task and field.
func TestHandlerReportsUnreadableOnce(t *testing.T) {
	api := bodyAPI{{EnterpriseID: 7, TaskID: 19}: `{"Code":"OK","Data":{"ChannelInfo":{"ChannelCount":4,"BridgedCount":true},"AgentStatisticList":[{"Cno":"1","CallLimit":"n/a"}]}}`}
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := log.LoggerFunc(func(kv ...any) error {
		mu.Lock()
		defer mu.Unlock()
		return log.NewLogfmtLogger(&buf).Log(kv...)
	})
	h := Handler(func() Scrape { return Scrape{API: api, Tasks: []Task{{EnterpriseID: 7, TaskID: 19}}} }, prometheus.NewRegistry(),
		HandlerOptions{Logger: logger, OnUnreadable: NewUnreadableLog(logger, 0).Report})
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range []string{
			`dyvms_task_unreadable_fields{enterprise_id="7",task_id="19",field="ChannelInfo.BridgedCount"} 1`,
			`dyvms_task_unreadable_fields{enterprise_id="7",task_id="19",field="AgentStatisticList.CallLimit"} 1`,
			`dyvms_task_channels{enterprise_id="7",task_id="19"} 4`,
			`dyvms_task_scrape_success{enterprise_id="7",task_id="19"} 1`,
		} {
			if !strings.Contains(rec.Body.String(), want+"\n") {
				t.Errorf("scrape lacks %s", want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "level=warn"); n != 2 {
		t.Errorf("%d warnings over 3 scrapes, want one per field:\n%s", n, buf.String())
	}
}
