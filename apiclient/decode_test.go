package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
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
		AgentCount:          f64(2), CalledCount: f64(4), AnswerCount: f64(3), UncalledCount: f64(1), CallAgentCount: f64(3),
	}); got != want {
		t.Errorf("Statistic = %+v", got)
	}
	wantProp(d.TodayStatistic.CtiLinkTaskProperty)
	if got, want := d.TodayStatistic, (TaskStatistic{
		CtiLinkTaskProperty: d.TodayStatistic.CtiLinkTaskProperty,
		AgentCount:          f64(3), CalledCount: f64(3), AnswerCount: f64(3), UncalledCount: f64(0), CallAgentCount: f64(3),
	}); got != want {
		t.Errorf("TodayStatistic = %+v", got)
	}
	if want := (ChannelInfo{
		ChannelCount: f64(0), EnterpriseChannelCount: f64(2), BridgedCount: f64(0), AnswerCount: f64(0),
		WaitAgentCount: f64(0), WaitAnswerCount: f64(0), IvrCount: f64(0),
	}); d.ChannelInfo != want {
		t.Errorf("ChannelInfo = %+v", d.ChannelInfo)
	}
	if want := (AgentInfo{
		TotalCount: f64(2), OnlineCount: f64(2), AvailableCount: f64(2),
		RingingCount: f64(4), BridgeCount: f64(6), WrapupCount: f64(4),
	}); d.AgentInfo != want {
		t.Errorf("AgentInfo = %+v", d.AgentInfo)
	}
	wantAgents := []AgentStatistic{{
		Cno: "1111", Name: "name2", AgentStatus: "stateIdle",
		CalledCount: f64(0), BridgeCount: f64(0), NoBridgeCount: f64(0),
		TodayAnsweredCount: f64(3), EnterpriseTodayAnsweredCount: f64(3),
		CallLimit: f64(-1), EnterpriseCallLimit: f64(-1),
		AvgBridgeTime: f64(116), AgentAvgIdleTime: f64(0), BridgeIn2sRate: f64(0),
	}}
	if fmt.Sprint(d.AgentStatisticList) != fmt.Sprint(wantAgents) {
		t.Errorf("AgentStatisticList =\n %+v\nwant\n %+v", d.AgentStatisticList, wantAgents)
	}
	wantRemoved := []AgentStatistic{{
		Cno: "1111", Name: "name", AgentStatus: "stateIdle",
		CalledCount: f64(5), BridgeCount: f64(3), NoBridgeCount: f64(3),
		TodayAnsweredCount: f64(3), EnterpriseTodayAnsweredCount: f64(3),
		CallLimit: f64(-1), EnterpriseCallLimit: f64(-1),
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
	if d.Statistic.CalledCount != f64(4) || d.Statistic.AnswerCount != f64(3) || d.Statistic.AgentCount != f64(2) {
		t.Errorf("Statistic = %+v", d.Statistic)
	}
	if d.TodayStatistic.CtiLinkTaskProperty.Status != i64(2) || d.TodayStatistic.CalledCount.Valid {
		t.Errorf("TodayStatistic = %+v", d.TodayStatistic)
	}
	if d.ChannelInfo.ChannelCount != f64(5) || d.AgentInfo.AvailableCount != f64(1) {
		t.Errorf("ChannelInfo/AgentInfo = %+v %+v", d.ChannelInfo, d.AgentInfo)
	}
	a := d.AgentStatisticList[0]
	if a.Cno != "1111" || a.CallLimit != f64(-1) || a.AvgBridgeTime != f64(39.5) || a.BridgeIn2sRate != f64(0.75) || a.AgentAvgIdleTime != f64(13) {
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

// TestDecodeShapeErrors: a body that is not the answer's shape fails the
// whole answer as bad_response; nothing in it can be trusted.
func TestDecodeShapeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // substrings of the error
	}{
		{"data not object", `{"Code":"OK","Data":[]}`, []string{"array"}},
		{"data a string", `{"Code":"OK","Data":"none"}`, []string{"string"}},
		{"block not object", `{"Code":"OK","Data":{"ChannelInfo":"n/a"}}`, []string{"ChannelInfo"}},
		{"list not array", `{"Code":"OK","Data":{"AgentStatisticList":{"Cno":"1"}}}`, []string{"AgentStatisticList"}},
		{"code not string", `{"Code":true,"Data":{}}`, []string{"Code"}},
		{"syntax", `{"Code":"OK","Data":{`, []string{"unexpected end of JSON input"}},
		{"truncated in a value", `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"7.`, []string{"unexpected end of JSON input"}},
		{"no data", `{"Code":"OK"}`, []string{"no Data"}},
		{"null data", `{"Code":"OK","Data":null}`, []string{"no Data"}},
		{"no code", `{"Data":{}}`, []string{"no Code"}},
		{"html", `<html><body>502 Bad Gateway</body></html>`, []string{"invalid character '<'"}},
		{"empty", ``, []string{"unexpected end of JSON input"}},
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
		})
	}
}

// TestDecodeUnreadableFieldIsAbsent: a value that cannot be read leaves
// its field absent, is reported by wire path, and the rest of the answer
// decodes. Before this rule one such value failed the whole task.
func TestDecodeUnreadableFieldIsAbsent(t *testing.T) {
	for _, tc := range []struct {
		name, data string // the Data object
		field, got string
	}{
		{"bool count", `{"AgentInfo":{"TotalCount":true}}`, "AgentInfo.TotalCount", "bool"},
		{"word count", `{"AgentInfo":{"TotalCount":"many"}}`, "AgentInfo.TotalCount", "string"},
		{"object count", `{"ChannelInfo":{"IvrCount":{"a":1}}}`, "ChannelInfo.IvrCount", "object"},
		{"array count", `{"Statistic":{"CalledCount":[1]}}`, "Statistic.CalledCount", "array"},
		{"hex string", `{"AgentInfo":{"TotalCount":"0x10"}}`, "AgentInfo.TotalCount", "string"},
		{"NaN string", `{"AgentStatisticList":[{"AvgBridgeTime":"NaN"}]}`, "AgentStatisticList.AvgBridgeTime", "string"},
		{"Inf string", `{"AgentStatisticList":[{"BridgeIn2sRate":"Infinity"}]}`, "AgentStatisticList.BridgeIn2sRate", "string"},
		{"float overflow", `{"AgentStatisticList":[{"AvgBridgeTime":1e400}]}`, "AgentStatisticList.AvgBridgeTime", "number"},
		{"fraction as id", `{"Statistic":{"CtiLinkTaskProperty":{"Id":12.5}}}`, "Statistic.CtiLinkTaskProperty.Id", "non-integral or out-of-range number"},
		{"id overflow", `{"Statistic":{"CtiLinkTaskProperty":{"Id":"9223372036854775808"}}}`, "Statistic.CtiLinkTaskProperty.Id", "non-integral or out-of-range number"},
		{"fraction as status", `{"TodayStatistic":{"CtiLinkTaskProperty":{"Status":"1.5"}}}`, "TodayStatistic.CtiLinkTaskProperty.Status", "non-integral or out-of-range number"},
		{"array as text", `{"AgentStatisticList":[{"Cno":["1"]}]}`, "AgentStatisticList.Cno", "array"},
		{"bool as text", `{"RemovedAgentStatisticList":[{"Name":false}]}`, "RemovedAgentStatisticList.Name", "bool"},
		{"bad time", `{"Statistic":{"CtiLinkTaskProperty":{"StartTime":"2026/04/20 10:00"}}}`, "Statistic.CtiLinkTaskProperty.StartTime", "string"},
		{"number time", `{"Statistic":{"CtiLinkTaskProperty":{"OverTime":1776650400}}}`, "Statistic.CtiLinkTaskProperty.OverTime", "number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeCloudMonitorTask([]byte(`{"Code":"OK","Data":`+tc.data+`}`), nil)
			if err != nil {
				t.Fatalf("one unreadable value failed the answer: %v", err)
			}
			want := []UnreadableField{{Field: tc.field, Count: 1, Got: tc.got}}
			if fmt.Sprint(r.Data.Unreadable) != fmt.Sprint(want) {
				t.Errorf("Unreadable = %+v, want %+v", r.Data.Unreadable, want)
			}
			// The field is absent, like null: the zero of its type, no mark left.
			if a := mustJSON(t, r.Data); a != mustJSON(t, &MonitorData{
				AgentStatisticList:        emptyRows(r.Data.AgentStatisticList),
				RemovedAgentStatisticList: emptyRows(r.Data.RemovedAgentStatisticList),
			}) || !allUnmarked(r.Data) {
				t.Errorf("unreadable value not absent: %s", a)
			}
		})
	}
}

func emptyRows(rows []AgentStatistic) []AgentStatistic {
	if rows == nil {
		return nil
	}
	return make([]AgentStatistic, len(rows))
}

// allUnmarked reports whether no mark survived the decode: every Int64,
// Float64 and Time has bad == 0, and no Text holds a mark.
func allUnmarked(d *MonitorData) bool {
	s := fmt.Sprintf("%#v", *d)
	return !regexp.MustCompile(`bad:0x[1-9a-f]`).MatchString(s) && !strings.Contains(s, `"\xff`)
}

// TestDecodeUnreadableKeepsTheRest: several odd values in one answer,
// the vendor example otherwise; every other field decodes as before, the
// odd ones are counted per field (rows of a list add up), and a fraction in
// a count is a value, not an error.
func TestDecodeUnreadableKeepsTheRest(t *testing.T) {
	s := string(readExample(t))
	for _, rep := range [][2]string{
		{`"BridgedCount": 0`, `"BridgedCount": true`},
		{`"WaitAgentCount": 0`, `"WaitAgentCount": "7.9"`},
		{`"IvrCount": 0`, `"IvrCount": 2.5`},
		{`"CallLimit": -1`, `"CallLimit": "abc"`}, // in both agent lists
		{`"Name": "name2"`, `"Name": {"first": "n"}`},
	} {
		if !strings.Contains(s, rep[0]) {
			t.Fatalf("test premise: example has no %s", rep[0])
		}
		s = strings.ReplaceAll(s, rep[0], rep[1])
	}
	r, err := DecodeCloudMonitorTask([]byte(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []UnreadableField{
		{Field: "AgentStatisticList.CallLimit", Count: 1, Got: "string"},
		{Field: "AgentStatisticList.Name", Count: 1, Got: "object"},
		{Field: "ChannelInfo.BridgedCount", Count: 1, Got: "bool"},
		{Field: "RemovedAgentStatisticList.CallLimit", Count: 1, Got: "string"},
	}
	if fmt.Sprint(r.Data.Unreadable) != fmt.Sprint(want) {
		t.Errorf("Unreadable =\n %+v\nwant\n %+v", r.Data.Unreadable, want)
	}
	c := r.Data.ChannelInfo
	if c.BridgedCount.Valid || c.WaitAgentCount != f64(7.9) || c.IvrCount != f64(2.5) || c.EnterpriseChannelCount != f64(2) {
		t.Errorf("ChannelInfo = %+v", c)
	}
	a := r.Data.AgentStatisticList[0]
	if a.CallLimit.Valid || a.Name != "" || a.Cno != "1111" || a.EnterpriseCallLimit != f64(-1) || a.TodayAnsweredCount != f64(3) {
		t.Errorf("agent = %+v", a)
	}
	if r.Data.Statistic.CalledCount != f64(4) || r.Data.AgentInfo.BridgeCount != f64(6) || !allUnmarked(r.Data) {
		t.Errorf("rest of the answer changed: %+v", r.Data)
	}
	// Many rows with the same odd field: one entry, counted.
	rows := strings.Repeat(`{"Cno":"1","BridgeCount":"x"},`, 49) + `{"Cno":"2","BridgeCount":"y"}`
	r, err = DecodeCloudMonitorTask([]byte(`{"Code":"OK","Data":{"AgentStatisticList":[`+rows+`]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []UnreadableField{{Field: "AgentStatisticList.BridgeCount", Count: 50, Got: "string"}}; fmt.Sprint(r.Data.Unreadable) != fmt.Sprint(want) {
		t.Errorf("Unreadable = %+v", r.Data.Unreadable)
	}
	// A clean answer has none.
	if r, err := DecodeCloudMonitorTask(readExample(t), nil); err != nil || r.Data.Unreadable != nil {
		t.Errorf("clean answer: %v %+v", err, r.Data.Unreadable)
	}
}

// TestMonitorDataFields: the field names an UnreadableField can carry are
// the wire paths, a fixed set of every leaf below Data.
func TestMonitorDataFields(t *testing.T) {
	got := MonitorDataFields()
	for _, want := range []string{
		"AgentInfo.TotalCount", "ChannelInfo.BridgedCount", "Statistic.CtiLinkTaskProperty.Id",
		"TodayStatistic.CtiLinkTaskProperty.OverTime", "TodayStatistic.CallAgentCount",
		"AgentStatisticList.Cno", "RemovedAgentStatisticList.BridgeIn2sRate",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("%s missing from %v", want, got)
		}
	}
	// 2 × (6 properties + 5 counts) + 7 channel + 6 agent counts + 2 × 13 agent fields.
	if len(got) != 2*(6+5)+7+6+2*13 || !slices.IsSorted(got) {
		t.Errorf("%d fields: %v", len(got), got)
	}
	if slices.Contains(got, "Unreadable") {
		t.Error("Unreadable itself listed")
	}
}

// TestStrictEnvelope: the envelope never takes an unreadable value for a
// Code; such an error body is bad_response, not an API error named "".
func TestStrictEnvelope(t *testing.T) {
	_, err := DecodeCloudMonitorTask([]byte(`{"Code":{"x":1},"Message":"m"}`), nil)
	if ErrorCode(err) != "bad_response" {
		t.Errorf("err = %v (%s)", err, ErrorCode(err))
	}
	_, err = DecodeCloudMonitorTask([]byte(`{"Code":"Throttling.User","Message":true}`), nil)
	if ErrorCode(err) != "bad_response" {
		t.Errorf("err = %v (%s)", err, ErrorCode(err))
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
	// Other fields of a row may be unreadable; its Id may not.
	r, err = DecodeCloudQueryTask([]byte(strings.NewReplacer(`"Status":1`, `"Status":true`, `"CreateTime":""`, `"CreateTime":5`).Replace(body)), nil)
	if err != nil || len(r.Data.TaskProperties) != 2 || r.Data.TaskProperties[0].Status.Valid || r.Data.TaskProperties[0].ID != i64(19) ||
		fmt.Sprint(r.Data.Unreadable) != fmt.Sprint([]UnreadableField{{"TaskProperties.CreateTime", 1, "number"}, {"TaskProperties.Status", 1, "bool"}}) {
		t.Errorf("unreadable Status and CreateTime: %+v %v", r, err)
	}
	for _, id := range []string{`"Id":19.5`, `"Id":"x"`, `"Id":{}`} {
		r, err = DecodeCloudQueryTask([]byte(strings.Replace(body, `"Id":19`, id, 1)), nil)
		if ErrorCode(err) != "bad_response" || r != nil || !strings.Contains(fmt.Sprint(err), "task Id") {
			t.Errorf("%s: %+v %v", id, r, err)
		}
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
		// ok: read; !ok: absent and marked, never an error.
		if err != nil || (v.bad == kindNone) != tc.ok || v.Valid != tc.want.Valid || v.Value != tc.want.Value {
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
		{`7.9`, f64(7.9), true}, {`"7.9"`, f64(7.9), true}, {`"-0.25e1"`, f64(-2.5), true},
		{`"Inf"`, Float64{}, false}, {`"0x1p4"`, Float64{}, false}, {`false`, Float64{}, false}, {`{}`, Float64{}, false},
		{`"abc"`, Float64{}, false}, {`[1]`, Float64{}, false}, {`1e400`, Float64{}, false},
	} {
		v := Float64{Value: 99, Valid: true}
		err := v.UnmarshalJSON([]byte(tc.in))
		if err != nil || (v.bad == kindNone) != tc.ok || v.Valid != tc.want.Valid || v.Value != tc.want.Value {
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
		if err != nil || (textMark(v) == kindNone) != tc.ok || (tc.ok && v != tc.want) {
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
		if err != nil || (v.bad == kindNone) != tc.ok || v.Valid != tc.valid {
			t.Errorf("Time(%s) = %+v, %v; want valid=%v ok=%v", tc.in, v, err, tc.valid, tc.ok)
		}
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	body := `{"Code":"OK","NewTopLevel":{"x":[1,2]},"Data":{"Brand new":1,"AgentInfo":{"TotalCount":2,"Extra":"y"}}}`
	r, err := DecodeCloudMonitorTask([]byte(body), nil)
	if err != nil || r.Data.AgentInfo.TotalCount != f64(2) {
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
		[]byte(`{"Code":"OK","Data":{"AgentInfo":{"TotalCount":true},"ChannelInfo":{"IvrCount":"7.9","BridgedCount":{"a":[1]}},"Statistic":{"CtiLinkTaskProperty":{"Id":1.5,"StartTime":3,"Name":[]}}}}`),
		[]byte(strings.ReplaceAll(s, `"CallLimit": -1`, `"CallLimit": "abc"`)),
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
		if !allUnmarked(r.Data) {
			t.Fatalf("a mark survived: %#v", *r.Data)
		}
		checkUnreadable(t, r.Data.Unreadable, MonitorDataFields())
		checkValues(t, reflect.ValueOf(*r.Data), "Data")
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

// checkUnreadable: fields from the fixed set, each once, sorted, counted.
func checkUnreadable(t *testing.T, us []UnreadableField, fields []string) {
	t.Helper()
	for i, u := range us {
		if !slices.Contains(fields, u.Field) || u.Count < 1 || !slices.Contains(kindNames[2:], u.Got) || u.Got == "null" {
			t.Fatalf("Unreadable[%d] = %+v", i, u)
		}
		if i > 0 && us[i-1].Field >= u.Field {
			t.Fatalf("Unreadable not sorted or repeated: %+v", us)
		}
	}
}

// checkValues: every number a gauge may show is finite, and an absent one
// is zero, so nothing the decoder lets through can be NaN, ±Inf or a stale
// value on a dashboard.
func checkValues(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch x := v.Interface().(type) {
	case Float64:
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) || (!x.Valid && x.Value != 0) {
			t.Fatalf("%s = %+v", path, x)
		}
		return
	case Int64:
		if !x.Valid && x.Value != 0 {
			t.Fatalf("%s = %+v", path, x)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkValues(t, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkValues(t, v.Index(i), path)
		}
	}
}

// FuzzDecodeCloudQueryTask: as FuzzDecodeCloudMonitorTask, for a page of
// the task listing.
func FuzzDecodeCloudQueryTask(f *testing.F) {
	page := `{"RequestId":"R","Code":"OK","Message":"OK","Data":{"TaskProperties":[
		{"Id":19,"Name":"t19","Status":1,"StatusDescription":"运行中","Type":1,"EnterpriseId":"7000002","CreateTime":"2026-04-20 09:00:00","Concurrency":"5"},
		{"Id":"20","Name":"t20","Status":"3","Type":"2","EnterpriseId":7000002,"CreateTime":""}]}}`
	for _, s := range []string{
		page,
		strings.ReplaceAll(page, `"Id":"20"`, `"Id":20.5`),
		strings.ReplaceAll(page, `"CreateTime":""`, `"CreateTime":true`),
		page[:len(page)/2],
		`{"Code":"OK"}`, `{"Code":"OK","Data":{"TaskProperties":{}}}`,
		`{"RequestId":"R","Code":"Forbidden.RAM","Message":"m"}`, `<html>`,
	} {
		f.Add([]byte(s))
	}
	fields := leafPaths(pagePlan(), nil)
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeCloudQueryTask(body, loc)
		if err != nil {
			if r != nil {
				t.Fatal("response and error")
			}
			if code := ErrorCode(err); code == "OK" || code == "" || len(code) > maxCodeLen {
				t.Fatalf("ErrorCode = %q for %v", code, err)
			}
			return
		}
		if r.Code != "OK" || r.Data == nil {
			t.Fatalf("success with Code %q Data %v", r.Code, r.Data)
		}
		checkUnreadable(t, r.Data.Unreadable, fields)
		for _, u := range r.Data.Unreadable {
			if u.Field == "TaskProperties.Id" {
				t.Fatalf("page with an unreadable Id accepted: %+v", u)
			}
		}
		s := fmt.Sprintf("%#v", *r.Data)
		if regexp.MustCompile(`bad:0x[1-9a-f]`).MatchString(s) || strings.Contains(s, `"\xff`) {
			t.Fatalf("a mark survived: %s", s)
		}
		for _, tp := range r.Data.TaskProperties {
			if tp.CreateTime.Valid && tp.CreateTime.Time.Location() != loc {
				t.Fatalf("time in %v", tp.CreateTime.Time.Location())
			}
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

// TestUnreadableNeverQuotesTheValue: what the decoder reports about an
// unreadable value is its field and its kind, never the value, which may be
// anything a broken gateway echoes (a token, a customer's number).
func TestUnreadableNeverQuotesTheValue(t *testing.T) {
	const secret = "SECRET-8dF3kQ"
	body := `{"Code":"OK","Data":{"AgentInfo":{"TotalCount":"` + secret + `"},"AgentStatisticList":[{"Name":{"k":"` + secret + `"}}]}}`
	r, err := DecodeCloudMonitorTask([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Unreadable) != 2 {
		t.Fatalf("Unreadable = %+v", r.Data.Unreadable)
	}
	for _, u := range r.Data.Unreadable {
		if !slices.Contains(kindNames[:], u.Got) || strings.Contains(fmt.Sprintf("%+v", u), secret) {
			t.Errorf("%+v", u)
		}
	}
	if strings.Contains(fmt.Sprintf("%+v", *r.Data), secret) {
		t.Errorf("the value survived decoding: %+v", *r.Data)
	}
}

// BenchmarkDecodeCloudMonitorTask50AgentsUnreadable: as above with one
// unreadable value in every agent row, the worst case for the walk that
// collects them (a clean answer skips it).
func BenchmarkDecodeCloudMonitorTask50AgentsUnreadable(b *testing.B) {
	body := []byte(strings.ReplaceAll(string(agentsBody(50)), `"CallLimit":-1`, `"CallLimit":"n/a"`))
	loc := shanghai(b)
	if r, err := DecodeCloudMonitorTask(body, loc); err != nil || len(r.Data.Unreadable) != 1 || r.Data.Unreadable[0].Count != 50 {
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
