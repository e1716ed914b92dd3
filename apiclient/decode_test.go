package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func i64(v int64) Int64     { return Int64{Value: v, Valid: true} }
func f64(v float64) Float64 { return Float64{Value: v, Valid: true} }

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/cloudmonitortask_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeVendorExample pins every field of the example on the vendor's
// CloudMonitorTask page, quirks included.
func TestDecodeVendorExample(t *testing.T) {
	r, err := DecodeCloudMonitorTask(readExample(t), shanghai(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestID != "7BF47617-7851-48F7-A3A1-2021342A78E2" || r.Code != "OK" || r.Message != "OK" {
		t.Errorf("envelope = %q %q %q", r.RequestID, r.Code, r.Message)
	}
	if string(r.AccessDeniedDetail) != `"无"` {
		t.Errorf("AccessDeniedDetail = %s", r.AccessDeniedDetail)
	}
	d := r.Data

	start := time.Date(2026, 4, 20, 10, 0, 0, 0, shanghai(t))
	over := time.Date(2026, 4, 20, 11, 0, 0, 0, shanghai(t))
	if start.Unix() != 1776650400 {
		t.Fatalf("test premise: %v is Unix %d", start, start.Unix())
	}
	wantProp := func(p TaskProperty) {
		t.Helper()
		// Statistic has Status 2, TodayStatistic "2": both must read as 2.
		if p.ID != i64(12314) || p.Name != "testTask" || p.Status != i64(2) || p.StatusDescription != "号码呼完" {
			t.Errorf("CtiLinkTaskProperty = %+v", p)
		}
		if !p.StartTime.Valid || p.StartTime.Time.Unix() != 1776650400 || !p.StartTime.Time.Equal(start) {
			t.Errorf("StartTime = %v", p.StartTime)
		}
		if !p.OverTime.Valid || p.OverTime.Time.Unix() != 1776654000 || !p.OverTime.Time.Equal(over) {
			t.Errorf("OverTime = %v", p.OverTime)
		}
		if name, off := p.StartTime.Time.Zone(); off != 8*3600 || p.StartTime.Time.Location().String() != "Asia/Shanghai" {
			t.Errorf("StartTime zone = %s %d (%s)", name, off, p.StartTime.Time.Location())
		}
		if p.StartTime.Time.Hour() != 10 {
			t.Errorf("wall clock moved: %v", p.StartTime.Time)
		}
	}

	wantProp(d.Statistic.CtiLinkTaskProperty)
	if got, want := d.Statistic, (TaskStatistic{
		CtiLinkTaskProperty: d.Statistic.CtiLinkTaskProperty,
		AgentCount:          i64(2), CalledCount: i64(4), AnswerCount: i64(3), UncalledCount: i64(1), CallAgentCount: i64(3),
	}); got != want {
		t.Errorf("Statistic = %+v", got)
	}
	wantProp(d.TodayStatistic.CtiLinkTaskProperty)
	if got, want := d.TodayStatistic, (TaskStatistic{
		CtiLinkTaskProperty: d.TodayStatistic.CtiLinkTaskProperty,
		AgentCount:          i64(3), CalledCount: i64(3), AnswerCount: i64(3), UncalledCount: i64(0), CallAgentCount: i64(3),
	}); got != want {
		t.Errorf("TodayStatistic = %+v", got)
	}
	if want := (ChannelInfo{
		ChannelCount: i64(0), EnterpriseChannelCount: i64(2), BridgedCount: i64(0), AnswerCount: i64(0),
		WaitAgentCount: i64(0), WaitAnswerCount: i64(0), IvrCount: i64(0),
	}); d.ChannelInfo != want {
		t.Errorf("ChannelInfo = %+v", d.ChannelInfo)
	}
	if want := (AgentInfo{
		TotalCount: i64(2), OnlineCount: i64(2), AvailableCount: i64(2),
		RingingCount: i64(4), BridgeCount: i64(6), WrapupCount: i64(4),
	}); d.AgentInfo != want {
		t.Errorf("AgentInfo = %+v", d.AgentInfo)
	}
	wantAgents := []AgentStatistic{{
		Cno: "1111", Name: "name2", AgentStatus: "stateIdle",
		CalledCount: i64(0), BridgeCount: i64(0), NoBridgeCount: i64(0),
		TodayAnsweredCount: i64(3), EnterpriseTodayAnsweredCount: i64(3),
		CallLimit: i64(-1), EnterpriseCallLimit: i64(-1),
		AvgBridgeTime: f64(116), AgentAvgIdleTime: f64(0), BridgeIn2sRate: f64(0),
	}}
	if fmt.Sprint(d.AgentStatisticList) != fmt.Sprint(wantAgents) {
		t.Errorf("AgentStatisticList =\n %+v\nwant\n %+v", d.AgentStatisticList, wantAgents)
	}
	wantRemoved := []AgentStatistic{{
		Cno: "1111", Name: "name", AgentStatus: "stateIdle",
		CalledCount: i64(5), BridgeCount: i64(3), NoBridgeCount: i64(3),
		TodayAnsweredCount: i64(3), EnterpriseTodayAnsweredCount: i64(3),
		CallLimit: i64(-1), EnterpriseCallLimit: i64(-1),
		AvgBridgeTime: f64(39), AgentAvgIdleTime: f64(13), BridgeIn2sRate: f64(3.55),
	}}
	if len(d.RemovedAgentStatisticList) != 1 || d.RemovedAgentStatisticList[0] != wantRemoved[0] {
		t.Errorf("RemovedAgentStatisticList =\n %+v\nwant\n %+v", d.RemovedAgentStatisticList, wantRemoved)
	}
	if len(d.AgentStatisticList) != 1 || d.AgentStatisticList[0] != wantAgents[0] {
		t.Errorf("AgentStatisticList differs")
	}
}

func TestDecodeLocation(t *testing.T) {
	body := readExample(t)
	// nil means Asia/Shanghai.
	r, err := DecodeCloudMonitorTask(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Data.Statistic.CtiLinkTaskProperty.StartTime.Time.Unix(); got != 1776650400 {
		t.Errorf("default location: Unix %d", got)
	}
	// Another location keeps the wall clock and changes the instant.
	r, err = DecodeCloudMonitorTask(body, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Data.Statistic.CtiLinkTaskProperty.StartTime.Time
	if st.Unix() != 1776650400+8*3600 || st.Location() != time.UTC || st.Hour() != 10 {
		t.Errorf("UTC: %v", st)
	}
}

func TestDecodeNumbersAsStringsEverywhere(t *testing.T) {
	body := `{"RequestId":"r","Code":"OK","Message":"OK","Data":{
		"Statistic":{"CtiLinkTaskProperty":{"Id":"12314","Name":"t","Status":" 3 ","StatusDescription":"x","StartTime":"2026-04-20 10:00:00","OverTime":""},
			"AgentCount":"2","CalledCount":"4.0","AnswerCount":"3e0","UncalledCount":"1","CallAgentCount":"3"},
		"TodayStatistic":{"CtiLinkTaskProperty":{"Id":12314,"Status":2.0},"AgentCount":3},
		"ChannelInfo":{"ChannelCount":"5","EnterpriseChannelCount":"2","BridgedCount":"1","AnswerCount":"1","WaitAgentCount":"0","WaitAnswerCount":"0","IvrCount":"0"},
		"AgentInfo":{"TotalCount":"2","OnlineCount":"2","AvailableCount":"1","RingingCount":"0","BridgeCount":"1","WrapupCount":"0"},
		"AgentStatisticList":[{"Cno":1111,"Name":"a","AgentStatus":"stateInuse","CalledCount":"5","BridgeCount":"3","NoBridgeCount":"2",
			"TodayAnsweredCount":"3","EnterpriseTodayAnsweredCount":"3","CallLimit":"-1","EnterpriseCallLimit":"-1",
			"AvgBridgeTime":" 39.5 ","AgentAvgIdleTime":"13","BridgeIn2sRate":"0.75"}]
	}}`
	r, err := DecodeCloudMonitorTask([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Data
	p := d.Statistic.CtiLinkTaskProperty
	if p.ID != i64(12314) || p.Status != i64(3) || p.OverTime.Valid || !p.StartTime.Valid {
		t.Errorf("property = %+v", p)
	}
	if d.Statistic.CalledCount != i64(4) || d.Statistic.AnswerCount != i64(3) || d.Statistic.AgentCount != i64(2) {
		t.Errorf("Statistic = %+v", d.Statistic)
	}
	if d.TodayStatistic.CtiLinkTaskProperty.Status != i64(2) || d.TodayStatistic.CalledCount.Valid {
		t.Errorf("TodayStatistic = %+v", d.TodayStatistic)
	}
	if d.ChannelInfo.ChannelCount != i64(5) || d.AgentInfo.AvailableCount != i64(1) {
		t.Errorf("ChannelInfo/AgentInfo = %+v %+v", d.ChannelInfo, d.AgentInfo)
	}
	a := d.AgentStatisticList[0]
	if a.Cno != "1111" || a.CallLimit != i64(-1) || a.AvgBridgeTime != f64(39.5) || a.BridgeIn2sRate != f64(0.75) || a.AgentAvgIdleTime != f64(13) {
		t.Errorf("agent = %+v", a)
	}
	if d.RemovedAgentStatisticList != nil {
		t.Errorf("absent RemovedAgentStatisticList decoded as %+v", d.RemovedAgentStatisticList)
	}
}

func TestDecodeEmptyAndNullAreAbsent(t *testing.T) {
	body := `{"Code":"OK","Data":{
		"Statistic":{"CtiLinkTaskProperty":{"Id":null,"Name":null,"Status":"","StartTime":"","OverTime":null},
			"AgentCount":"","CalledCount":null,"AnswerCount":"  "},
		"AgentStatisticList":[{"Cno":null,"CallLimit":"","AvgBridgeTime":"","BridgeIn2sRate":null}],
		"AgentInfo":null
	}}`
	r, err := DecodeCloudMonitorTask([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	if (r.Data.Statistic != TaskStatistic{}) {
		t.Errorf("Statistic = %+v, want all absent", r.Data.Statistic)
	}
	if (r.Data.AgentStatisticList[0] != AgentStatistic{}) {
		t.Errorf("agent = %+v, want all absent", r.Data.AgentStatisticList[0])
	}
	if (r.Data.AgentInfo != AgentInfo{}) {
		t.Errorf("AgentInfo = %+v", r.Data.AgentInfo)
	}
}

func TestDecodeWrongTypesAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // substrings of the error
	}{
		{"bool count", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":true}}}`, []string{"bool true", "AgentInfo.TotalCount", "int64"}},
		{"word count", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"many"}}}`, []string{`string "many"`, "AgentInfo.TotalCount"}},
		{"fraction as int", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":2.5}}}`, []string{"number 2.5"}},
		{"int overflow", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"9223372036854775808"}}}`, []string{"9223372036854775808"}},
		{"NaN string", `{"Code":"OK","Data":{"AgentStatisticList":[{"AvgBridgeTime":"NaN"}]}}`, []string{`string "NaN"`, "AvgBridgeTime", "float64"}},
		{"Inf string", `{"Code":"OK","Data":{"AgentStatisticList":[{"BridgeIn2sRate":"Infinity"}]}}`, []string{"Infinity"}},
		{"hex string", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"0x10"}}}`, []string{"0x10"}},
		{"float overflow", `{"Code":"OK","Data":{"AgentStatisticList":[{"AvgBridgeTime":1e400}]}}`, []string{"1e400"}},
		{"object as number", `{"Code":"OK","Data":{"ChannelInfo":{"IvrCount":{"a":1}}}}`, []string{`object {"a":1}`}},
		{"array as text", `{"Code":"OK","Data":{"AgentStatisticList":[{"Cno":["1"]}]}}`, []string{"array", "Cno", "string"}},
		{"bad time", `{"Code":"OK","Data":{"Statistic":{"CtiLinkTaskProperty":{"StartTime":"2026/04/20 10:00"}}}}`, []string{`"2026/04/20 10:00"`, "StartTime"}},
		{"number time", `{"Code":"OK","Data":{"Statistic":{"CtiLinkTaskProperty":{"StartTime":1776650400}}}}`, []string{"number 1776650400"}},
		{"long value is cut", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"` + strings.Repeat("x", 500) + `"}}}`, []string{strings.Repeat("x", 40) + "…"}},
		{"data not object", `{"Code":"OK","Data":[]}`, []string{"array"}},
		{"syntax", `{"Code":"OK","Data":{`, []string{"unexpected end of JSON input"}},
		{"no data", `{"Code":"OK"}`, []string{"no Data"}},
		{"no code", `{"Data":{}}`, []string{"no Code"}},
		{"html", `<html><body>502 Bad Gateway</body></html>`, []string{"invalid character '<'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeCloudMonitorTask([]byte(tc.body), nil)
			if err == nil {
				t.Fatalf("no error; got %+v", r)
			}
			if r != nil {
				t.Error("response returned with an error")
			}
			if ErrorCode(err) != "bad_response" {
				t.Errorf("ErrorCode = %q", ErrorCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.Repeat("x", 41)) {
				t.Errorf("error quotes too much: %q", err)
			}
		})
	}
}

func TestDecodeNonOKCodeIsError(t *testing.T) {
	for _, body := range []string{
		`{"RequestId":"R1","HostId":"dyvmsapi.aliyuncs.com","Code":"Throttling.User","Message":"Request was denied due to user flow control.","Recommend":"https://api.aliyun.com/troubleshoot?q=Throttling.User"}`,
		// An error body whose other fields do not fit the success schema.
		`{"RequestId":"R1","HostId":"dyvmsapi.aliyuncs.com","Code":"Throttling.User","Message":"Request was denied due to user flow control.","Recommend":"https://api.aliyun.com/troubleshoot?q=Throttling.User","Data":"none","AccessDeniedDetail":{"AuthAction":"dyvms:CloudMonitorTask"}}`,
	} {
		_, err := DecodeCloudMonitorTask([]byte(body), nil)
		var ae *Error
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v (%T), want *Error", err, err)
		}
		want := Error{Operation: "CloudMonitorTask", Code: "Throttling.User", Message: "Request was denied due to user flow control.",
			RequestID: "R1", HostID: "dyvmsapi.aliyuncs.com", Recommend: "https://api.aliyun.com/troubleshoot?q=Throttling.User"}
		if *ae != want {
			t.Errorf("got %+v\nwant %+v", *ae, want)
		}
	}
}

func TestDecodeCloudQueryTaskPage(t *testing.T) {
	body := `{"RequestId":"R","Code":"OK","Message":"OK","Data":{"TaskProperties":[
		{"Id":19,"Name":"t19","Status":1,"StatusDescription":"运行中","Type":1,"EnterpriseId":"7000002","CreateTime":"2026-04-20 09:00:00","Concurrency":"5","Cnos":"1111,1112"},
		{"Id":"20","Name":"t20","Status":"3","Type":"2","EnterpriseId":7000002,"CreateTime":""}]}}`
	r, err := DecodeCloudQueryTask([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	tp := r.Data.TaskProperties
	if len(tp) != 2 {
		t.Fatalf("%d tasks", len(tp))
	}
	created := time.Date(2026, 4, 20, 9, 0, 0, 0, shanghai(t))
	if tp[0].ID != i64(19) || tp[0].Name != "t19" || tp[0].Status != i64(1) || tp[0].StatusDescription != "运行中" ||
		tp[0].Type != i64(1) || tp[0].EnterpriseID != i64(7000002) || tp[0].Concurrency != i64(5) ||
		!tp[0].CreateTime.Valid || !tp[0].CreateTime.Time.Equal(created) {
		t.Errorf("task 0 = %+v", tp[0])
	}
	if tp[1].ID != i64(20) || tp[1].Status != i64(3) || tp[1].Type != i64(2) || tp[1].EnterpriseID != i64(7000002) || tp[1].CreateTime.Valid {
		t.Errorf("task 1 = %+v", tp[1])
	}
	for _, empty := range []string{`{"Code":"OK"}`, `{"Code":"OK","Data":null}`, `{"Code":"OK","Data":{}}`, `{"Code":"OK","Data":{"TaskProperties":[]}}`} {
		r, err := DecodeCloudQueryTask([]byte(empty), nil)
		if err != nil || r.Data == nil || len(r.Data.TaskProperties) != 0 {
			t.Errorf("%s: %+v %v", empty, r, err)
		}
	}
}

func TestUnmarshalScalars(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Int64
		ok   bool
	}{
		{`3`, i64(3), true}, {`-1`, i64(-1), true}, {`"3"`, i64(3), true}, {`" 3 "`, i64(3), true},
		{`3.0`, i64(3), true}, {`"3.000"`, i64(3), true}, {`1e3`, i64(1000), true}, {`"+7"`, i64(7), true},
		{`"007"`, i64(7), true}, {`9223372036854775807`, i64(9223372036854775807), true},
		{`"9223372036854775807.0"`, i64(9223372036854775807), true}, {`-9223372036854775808`, i64(-9223372036854775808), true},
		{`null`, Int64{}, true}, {`""`, Int64{}, true}, {`"   "`, Int64{}, true},
		{`3.5`, Int64{}, false}, {`"3,5"`, Int64{}, false}, {`"1_000"`, Int64{}, false}, {`true`, Int64{}, false},
		{`"NaN"`, Int64{}, false}, {`9223372036854775808`, Int64{}, false}, {`1e19`, Int64{}, false}, {`"-"`, Int64{}, false},
		{`"."`, Int64{}, false}, {`"1e"`, Int64{}, false}, {`[]`, Int64{}, false}, {``, Int64{}, false}, {`"\u0033"`, i64(3), true},
	} {
		v := Int64{Value: 99, Valid: true} // null and "" must reset a previous value
		err := v.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && v != tc.want) {
			t.Errorf("Int64(%s) = %+v, %v; want %+v ok=%v", tc.in, v, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want Float64
		ok   bool
	}{
		{`3.55`, f64(3.55), true}, {`"39"`, f64(39), true}, {`"  0.5 "`, f64(0.5), true}, {`-1`, f64(-1), true},
		{`"1e-400"`, f64(0), true}, {`null`, Float64{}, true}, {`""`, Float64{}, true},
		{`"Inf"`, Float64{}, false}, {`"0x1p4"`, Float64{}, false}, {`false`, Float64{}, false}, {`{}`, Float64{}, false},
	} {
		v := Float64{Value: 99, Valid: true}
		err := v.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && v != tc.want) {
			t.Errorf("Float64(%s) = %+v, %v; want %+v ok=%v", tc.in, v, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want Text
		ok   bool
	}{
		{`"abc"`, "abc", true}, {`1111`, "1111", true}, {`-1.5e3`, "-1.5e3", true}, {`null`, "", true},
		{`""`, "", true}, {`" a "`, " a ", true}, {`"\u4efb\n"`, "任\n", true}, {`"名"`, "名", true},
		{"\"a\xffb\"", "a\ufffdb", true}, // invalid UTF-8 is replaced, as encoding/json does
		{`true`, "", false}, {`[]`, "", false}, {`{}`, "", false},
	} {
		v := Text("old")
		err := v.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && v != tc.want) {
			t.Errorf("Text(%s) = %q, %v; want %q ok=%v", tc.in, v, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in    string
		valid bool
		ok    bool
	}{
		{`"2026-04-20 10:00:00"`, true, true}, {`" 2026-04-20 10:00:00 "`, true, true}, {`"2026-04-20 10:00:00.5"`, true, true},
		{`""`, false, true}, {`null`, false, true}, {`"0000-00-00 00:00:00"`, false, true},
		{`"2026-04-20T10:00:00Z"`, false, false}, {`"2026-02-30 10:00:00"`, false, false}, {`0`, false, false},
	} {
		var v Time
		err := v.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || v.Valid != tc.valid {
			t.Errorf("Time(%s) = %+v, %v; want valid=%v ok=%v", tc.in, v, err, tc.valid, tc.ok)
		}
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	body := `{"Code":"OK","NewTopLevel":{"x":[1,2]},"Data":{"Brand new":1,"AgentInfo":{"TotalCount":2,"Extra":"y"}}}`
	r, err := DecodeCloudMonitorTask([]byte(body), nil)
	if err != nil || r.Data.AgentInfo.TotalCount != i64(2) {
		t.Fatalf("%+v %v", r, err)
	}
}

// fuzzSeeds are the vendor example and variants that exercise each branch.
func fuzzSeeds(t testing.TB) [][]byte {
	ex := readExample(t)
	s := string(ex)
	return [][]byte{
		ex,
		[]byte(strings.ReplaceAll(s, `"Status": 2,`, `"Status": "2",`)),
		[]byte(strings.ReplaceAll(s, `: 3,`, `: "3",`)),
		[]byte(strings.ReplaceAll(s, `"2026-04-20 11:00:00"`, `""`)),
		[]byte(strings.ReplaceAll(s, `"Cno": "1111"`, `"Cno": 1111`)),
		[]byte(strings.ReplaceAll(s, `-1`, `null`)),
		[]byte(s[:len(s)/2]),
		[]byte(`{"RequestId":"R","HostId":"h","Code":"Throttling.User","Message":"m","Recommend":"r"}`),
		[]byte(`{"Code":"OK","Data":{"AgentStatisticList":[{"AvgBridgeTime":"1e400","CallLimit":"9223372036854775807.0"}]}}`),
		[]byte(`<html>502</html>`),
		[]byte(``),
	}
}

// FuzzDecodeCloudMonitorTask: any body yields either a response or an
// error, never a panic, and the result is self-consistent.
func FuzzDecodeCloudMonitorTask(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeCloudMonitorTask(body, loc)
		if err != nil {
			if r != nil {
				t.Fatal("response and error")
			}
			code := ErrorCode(err)
			if code == "OK" || code == "" || len(code) > maxCodeLen {
				t.Fatalf("ErrorCode = %q for %v", code, err)
			}
			var ae *Error
			if errors.As(err, &ae) && (ae.Code == "" || ae.Code == "OK") {
				t.Fatalf("*Error with Code %q", ae.Code)
			}
			return
		}
		if r.Code != "OK" || r.Data == nil {
			t.Fatalf("success with Code %q Data %v", r.Code, r.Data)
		}
		for _, p := range []TaskProperty{r.Data.Statistic.CtiLinkTaskProperty, r.Data.TodayStatistic.CtiLinkTaskProperty} {
			for _, tm := range []Time{p.StartTime, p.OverTime} {
				if tm.Valid && tm.Time.Location() != loc {
					t.Fatalf("time in %v", tm.Time.Location())
				}
				if !tm.Valid && !tm.Time.IsZero() {
					t.Fatalf("invalid time with value %v", tm.Time)
				}
			}
		}
		// Decoding is deterministic.
		r2, err := DecodeCloudMonitorTask(body, loc)
		if err != nil {
			t.Fatalf("second decode: %v", err)
		}
		if a, b := mustJSON(t, r), mustJSON(t, r2); a != b {
			t.Fatalf("decodes differ:\n%s\n%s", a, b)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// agentsBody is a realistic answer with n agents, numbers in both forms.
func agentsBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"AccessDeniedDetail":"无","RequestId":"7BF47617-7851-48F7-A3A1-2021342A78E2","Message":"OK","Code":"OK","Data":{`)
	b.WriteString(`"TodayStatistic":{"CtiLinkTaskProperty":{"Status":"1","OverTime":"","StatusDescription":"运行中","StartTime":"2026-04-20 10:00:00","Id":12314,"Name":"testTask"},"AgentCount":50,"CalledCount":1234,"AnswerCount":800,"UncalledCount":4000,"CallAgentCount":700},`)
	b.WriteString(`"Statistic":{"CtiLinkTaskProperty":{"Status":1,"OverTime":"","StatusDescription":"运行中","StartTime":"2026-04-20 10:00:00","Id":12314,"Name":"testTask"},"AgentCount":50,"CalledCount":5234,"AnswerCount":3800,"UncalledCount":4000,"CallAgentCount":3700},`)
	b.WriteString(`"ChannelInfo":{"BridgedCount":20,"EnterpriseChannelCount":100,"ChannelCount":60,"WaitAgentCount":3,"AnswerCount":25,"IvrCount":1,"WaitAnswerCount":35},`)
	b.WriteString(`"AgentInfo":{"WrapupCount":4,"TotalCount":50,"RingingCount":4,"BridgeCount":20,"OnlineCount":45,"AvailableCount":17},`)
	b.WriteString(`"AgentStatisticList":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"TodayAnsweredCount":%d,"Cno":"%d","NoBridgeCount":%d,"EnterpriseCallLimit":-1,"Name":"座席%d","AvgBridgeTime":"%d","EnterpriseTodayAnsweredCount":%d,"AgentStatus":"stateInuse","AgentAvgIdleTime":%d,"BridgeCount":%d,"CalledCount":%d,"BridgeIn2sRate":0.%02d,"CallLimit":-1}`,
			i, 1000+i, i%7, i, 30+i, i, i%13, i*2, i*3, i)
	}
	b.WriteString(`],"RemovedAgentStatisticList":[]}}`)
	return []byte(b.String())
}

func BenchmarkDecodeCloudMonitorTask50Agents(b *testing.B) {
	body := agentsBody(50)
	loc := shanghai(b)
	if r, err := DecodeCloudMonitorTask(body, loc); err != nil || len(r.Data.AgentStatisticList) != 50 {
		b.Fatalf("bad benchmark body: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCloudMonitorTask(body, loc); err != nil {
			b.Fatal(err)
		}
	}
}
