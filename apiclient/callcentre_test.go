package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ibPersonalFields are the inbound record fields that hold personal data
// or numbering (shared/api/CallCentre.md), as the canary fills them.
var ibPersonalFields = map[string]string{
	"CustomerNumber": `"` + canary + `"`, "CustomerAreaCode": `"0571` + canary + `"`,
	"CustomerProvince": `"浙江省` + canary + `"`, "CustomerCity": `"杭州市` + canary + `"`,
	"CalleeNumber": `"` + canary + `"`, "NumberTrunk": `"` + canary + `"`, "NumberTrunkAreaCode": `"` + canary + `"`,
	"AgentName": `"` + canary + `"`, "Hotline": `"` + canary + `"`, "IvrName": `"` + canary + `"`,
	"UserField":  `{"phone":"` + canary + `","nested":{"n":` + canary + `}}`,
	"RecordFile": `[{"File":"` + canary + `.wav","Monitor_type":1,"Type":"record"}]`,
}

// ibRecordJSON is one inbound record as the vendor's SDK types it (times
// strings of Unix seconds, LeaveQueueCode a number), with extra fields
// merged over it.
func ibRecordJSON(seq int, extra map[string]string) string {
	f := map[string]string{
		"UniqueId": fmt.Sprintf(`"uniq_ib-1775024775.%d"`, seq), "Qno": `"1000"`, "Cno": `"1111"`,
		"StartTime": `"1775024775"`, "AnswerTime": `"1775024776"`, "BridgeTime": `"1775024787"`, "EndTime": `"1775024900"`,
		"BridgeDuration": `"113"`, "TotalDuration": `"125"`, "Status": `"座席接听"`, "StatusCode": `"1"`,
		"LeaveQueueCode": "1", "EndReason": `"1000"`, "CallType": `"呼入"`,
	}
	for k, v := range extra {
		f[k] = v
	}
	var parts []string
	for k, v := range f {
		parts = append(parts, strconv.Quote(k)+":"+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func ibBody(records ...string) string {
	return `{"RequestId":"R1","Code":"OK","Message":"OK","Data":{"List":[` + strings.Join(records, ",") + `]}}`
}

func TestDecodeInboundRecordScalarForms(t *testing.T) {
	body := ibBody(
		ibRecordJSON(1, nil),
		// Numbers as numbers, the other way round; no bridge; no queue.
		ibRecordJSON(2, map[string]string{"StartTime": "1775024775", "BridgeTime": `"0"`, "AnswerTime": `""`,
			"StatusCode": "14", "LeaveQueueCode": `"-1"`, "Qno": `"-1"`, "Cno": "null"}),
		// A StatusCode of the wrong type is absent and named, not a failed page.
		ibRecordJSON(3, map[string]string{"StatusCode": "true", "UniqueId": `{"x":1}`, "Qno": "566"}),
	)
	r, err := DecodeCloudQueryIbCdr([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data.List) != 3 {
		t.Fatalf("%d records", len(r.Data.List))
	}
	a, b, c := r.Data.List[0], r.Data.List[1], r.Data.List[2]
	if a.StartTime != i64(1775024775) || a.BridgeTime != i64(1775024787) || a.StatusCode != i64(1) ||
		a.LeaveQueueCode != i64(1) || a.Key() != "uniq_ib-1775024775.1" || a.Cno != "1111" {
		t.Fatalf("record 1 = %+v", a)
	}
	if q, ok := a.Queued(); !ok || q != "1000" {
		t.Errorf("record 1 queue %q %v", q, ok)
	}
	if b.StartTime != i64(1775024775) || b.StatusCode != i64(14) || b.LeaveQueueCode != i64(-1) || b.AnswerTime.Valid {
		t.Fatalf("record 2 = %+v", b)
	}
	if _, ok := At(b.BridgeTime); ok {
		t.Errorf("BridgeTime %+v is a moment, want none", b.BridgeTime)
	}
	if _, ok := b.Queued(); ok {
		t.Errorf("Qno -1 is a queue")
	}
	if c.StatusCode.Valid || c.Key() != "" {
		t.Fatalf("record 3 = %+v: an unreadable StatusCode and UniqueId must be absent", c)
	}
	if q, ok := c.Queued(); !ok || q != "566" {
		t.Errorf("numeric Qno read as %q %v", q, ok)
	}
	want := `[{Data:List.StatusCode Count:1 Got:bool} {Data:List.UniqueId Count:1 Got:object}]`
	if got := strings.ReplaceAll(fmt.Sprintf("%+v", r.Data.Unreadable), "Field:", "Data:"); got != want {
		t.Errorf("Unreadable = %s, want %s", got, want)
	}
	for _, body := range []string{`{"Code":"OK","RequestId":"R"}`, `{"Code":"OK","Data":{}}`, `{"Code":"OK","Data":{"List":null}}`} {
		r, err := DecodeCloudQueryIbCdr([]byte(body))
		if err != nil || len(r.Data.List) != 0 {
			t.Errorf("%s: %v, %v", body, r, err)
		}
	}
}

// TestInboundRecordsCarryNoPersonalData: the canary in every personal
// field reaches neither the decoded records nor any error, whether the
// page decodes or the body cannot be read at all.
func TestInboundRecordsCarryNoPersonalData(t *testing.T) {
	good := ibBody(ibRecordJSON(1, ibPersonalFields), ibRecordJSON(2, ibPersonalFields))
	if r, err := DecodeCloudQueryIbCdr([]byte(good)); err != nil || len(r.Data.List) != 2 {
		t.Fatalf("the page with the canary everywhere: %v, %v", r, err)
	}
	checkCanaryNeverShows(t, recordPageOperation{
		good:    good,
		leading: `"List0":{"CustomerNumber":"` + canary + `"}`,
		unreadable: map[string]string{
			"malformed": strings.Replace(good[1:], ":", "=", 1),
			"truncated": good[1 : len(good)/2],
			"no code":   `"Data":{"List":[` + ibRecordJSON(1, ibPersonalFields) + `]}}`,
			"list text": `"Code":"OK","Data":{"List":"` + canary + `"}}`,
		},
		decode: func(body []byte) (any, error) { return DecodeCloudQueryIbCdr(body) },
		read: func(c *Client) error {
			_, err := c.CloudQueryIbCdr(context.Background(), CdrQuery{EnterpriseID: 7000002,
				StartTime: time.Unix(1775024775, 0), EndTime: time.Unix(1775028375, 0), TimeRangeType: CdrByEndTime})
			return err
		},
		page: func(c *Client) error {
			_, err := c.CloudQueryIbCdrPage(context.Background(), CdrQuery{EnterpriseID: 1})
			return err
		},
	})
}

func TestCloudQueryIbCdrPagesAndSplits(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t)
	const total = 25
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := rec.record(r)
		start, _ := strconv.Atoi(x.query.Get("Start"))
		limit, _ := strconv.Atoi(x.query.Get("Limit"))
		var items []string
		for i := start; i < min(start+limit, total); i++ {
			items = append(items, ibRecordJSON(i, map[string]string{"UniqueId": fmt.Sprintf(`"%s-%d"`, x.query.Get("StartTime"), i)}))
		}
		fmt.Fprint(w, ibBody(items...))
	})
	loc := shanghai(t)
	from := time.Date(2026, 3, 31, 23, 0, 0, 0, loc)
	to := time.Date(2026, 4, 1, 1, 0, 0, 0, loc)
	res, err := c.CloudQueryIbCdr(context.Background(), CdrQuery{EnterpriseID: 7000002, TaskID: 19,
		StartTime: from, EndTime: to, TimeRangeType: CdrByEndTime, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 50 || res.Pages != 6 || !res.Through.Equal(to) {
		t.Fatalf("%d records, %d pages, through %v", len(res.Records), res.Pages, res.Through)
	}
	endOfMarch := time.Date(2026, 4, 1, 0, 0, 0, 0, loc).Unix() - 1
	for i, r := range rec.all() {
		wantFrom, wantTo := from.Unix(), endOfMarch
		if i >= 3 {
			wantFrom, wantTo = endOfMarch+1, to.Unix()
		}
		// No TaskId: inbound calls belong to no task.
		want := fmt.Sprintf("map[EndTime:[%d] EnterpriseId:[7000002] Limit:[10] Start:[%d] StartTime:[%d] TimeRangeType:[2]]",
			wantTo, i%3*10, wantFrom)
		if got := fmt.Sprint(r.query); got != want {
			t.Errorf("request %d: %s, want %s", i, got, want)
		}
		if r.header.Get("x-acs-action") != "CloudQueryIbCdr" || r.sigErr != nil {
			t.Errorf("request %d: action %q, signature %v", i, r.header.Get("x-acs-action"), r.sigErr)
		}
	}
	// Refused before any request.
	n := len(rec.all())
	for _, q := range []CdrQuery{{EnterpriseID: 1, StartTime: to, EndTime: from}, {EnterpriseID: 1, StartTime: from, EndTime: to, Limit: 1001}} {
		if res, err := c.CloudQueryIbCdr(context.Background(), q); res != nil || !IsConfigError(err) {
			t.Errorf("%+v: %v, %v; want a configuration error", q, res, err)
		}
	}
	if len(rec.all()) != n {
		t.Fatal("a refused query was sent")
	}
}

func TestCloudQueryIbCdrServerIgnoringStart(t *testing.T) {
	c, mux, _ := setup(t)
	page := make([]string, 10)
	for i := range page {
		page[i] = ibRecordJSON(i, nil)
	}
	mux.HandleFunc("/", serveBody(nil, http.StatusOK, ibBody(page...)))
	_, err := c.CloudQueryIbCdr(context.Background(), CdrQuery{EnterpriseID: 1, StartTime: time.Unix(1775024775, 0),
		EndTime: time.Unix(1775024800, 0), Limit: 10})
	if err == nil || !strings.Contains(err.Error(), "ignore Start") {
		t.Fatalf("error %v, want the repeated page to be refused", err)
	}
}

func onlineAgentJSON(cno string, extra map[string]string) string {
	f := map[string]string{
		"Cno": strconv.Quote(cno), "Name": `"` + canary + `"`, "BindTel": `"` + canary + `"`,
		"LoginStatus": "1", "LoginStatusDuration": "7", "DeviceStatus": "0", "DeviceStatusDuration": "0",
		"LoginTime": `"1774821736"`, "State": `"空闲"`,
	}
	for k, v := range extra {
		f[k] = v
	}
	var parts []string
	for k, v := range f {
		parts = append(parts, strconv.Quote(k)+":"+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func onlineAgentsBody(rows ...string) string {
	return `{"RequestId":"R2","Code":"OK","Message":"OK","Data":{"AgentStatuses":[` + strings.Join(rows, ",") + `]}}`
}

func TestCloudListOnlineAgent(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t)
	body := onlineAgentsBody(
		onlineAgentJSON("1111", nil),
		onlineAgentJSON("1112", map[string]string{"LoginStatus": `"2"`, "DeviceStatus": `"4"`, "State": `"通话"`}),
		onlineAgentJSON("1111", map[string]string{"LoginStatus": "3"}), // repeated: dropped
		onlineAgentJSON("1113", map[string]string{"DeviceStatus": "[]", "LoginTime": "1774821736"}),
	)
	mux.HandleFunc("/", serveBody(&rec, http.StatusOK, body))
	got, err := c.CloudListOnlineAgent(context.Background(), 7000002)
	if err != nil {
		t.Fatal(err)
	}
	if q := fmt.Sprint(rec.all()[0].query); q != "map[EnterpriseId:[7000002]]" || rec.all()[0].header.Get("x-acs-action") != "CloudListOnlineAgent" {
		t.Errorf("request %s", q)
	}
	if len(got.AgentStatuses) != 3 || got.Duplicates != 1 {
		t.Fatalf("%d agents, %d duplicates: %+v", len(got.AgentStatuses), got.Duplicates, got)
	}
	a, b, d := got.AgentStatuses[0], got.AgentStatuses[1], got.AgentStatuses[2]
	if a.Cno != "1111" || a.LoginStatus != i64(1) || a.DeviceStatus != i64(0) || a.LoginStatusDuration != i64(7) || a.State != "空闲" {
		t.Errorf("agent 1 = %+v", a)
	}
	if b.LoginStatus != i64(2) || b.DeviceStatus != i64(4) || b.State != "通话" {
		t.Errorf("agent 2 = %+v", b)
	}
	if d.DeviceStatus.Valid || d.LoginTime != i64(1774821736) {
		t.Errorf("agent 3 = %+v", d)
	}
	if fmt.Sprint(got.Unreadable) != "[{AgentStatuses.DeviceStatus 1 array}]" {
		t.Errorf("Unreadable = %v", got.Unreadable)
	}
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, canary) {
		t.Errorf("the agent's name or bound phone was decoded: %s", s)
	}

	// Live state: a success without Data is not "nobody online".
	for body, wantErr := range map[string]bool{
		`{"Code":"OK","RequestId":"R"}`:                   true,
		`{"Code":"OK","Data":{}}`:                         false,
		`{"Code":"OK","Data":{"AgentStatuses":null}}`:     false,
		`{"Code":"OK","Data":{"AgentStatuses":"x"}}`:      true,
		`{"Code":"Throttling.User","Message":"too fast"}`: true,
	} {
		r, err := DecodeCloudListOnlineAgent([]byte(body))
		if (err != nil) != wantErr || (err == nil && len(r.Data.AgentStatuses) != 0) {
			t.Errorf("%s: %+v, %v", body, r, err)
		}
	}
}

func queueJSON(qno string, extra map[string]string) string {
	f := map[string]string{
		"Id": "48175", "Qno": strconv.Quote(qno), "Description": `"售后` + qno + `"`, "ServiceLevel": "20",
		"QueueTimeout": "600", "MaxLen": "0", "WrapupTime": "10", "MemberTimeout": "25", "Weight": "1",
		"Strategy": `"rrmemory"`, "SayAgentno": "false", "CreateTime": `"2025-09-06 15:50:18"`, "EnterpriseId": "7000002",
	}
	for k, v := range extra {
		f[k] = v
	}
	var parts []string
	for k, v := range f {
		parts = append(parts, strconv.Quote(k)+":"+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestCloudListQueuePages(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t)
	const total = 7
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := rec.record(r)
		off, _ := strconv.Atoi(x.query.Get("Offset"))
		limit, _ := strconv.Atoi(x.query.Get("Limit"))
		var items []string
		for i := off; i < min(off+limit, total); i++ {
			extra := map[string]string{}
			if i == 1 {
				extra["ServiceLevel"] = `"15"` // a string this time
			}
			if i == 2 {
				extra["ServiceLevel"] = `"x"`
			}
			items = append(items, queueJSON(strconv.Itoa(100+i), extra))
		}
		if off == 3 {
			items = append(items, queueJSON("100", nil)) // shown again after a shift
		}
		fmt.Fprintf(w, `{"Code":"OK","RequestId":"R","Data":{"Total":"%d","List":[%s]}}`, total, strings.Join(items, ","))
	})
	got, err := c.CloudListQueue(context.Background(), 7000002, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Queues) != total || got.Pages != 3 || got.Dropped != 1 {
		t.Fatalf("%d queues, %d pages, %d dropped", len(got.Queues), got.Pages, got.Dropped)
	}
	if q := got.Queues[1]; q.Qno != "101" || q.Description != "售后101" || q.ServiceLevel != i64(15) || q.QueueTimeout != i64(600) {
		t.Errorf("queue 101 = %+v", q)
	}
	if q := got.Queues[2]; q.ServiceLevel.Valid {
		t.Errorf("queue 102's unreadable ServiceLevel = %+v", q.ServiceLevel)
	}
	if fmt.Sprint(got.Unreadable) != "[{List.ServiceLevel 1 string}]" {
		t.Errorf("Unreadable = %v", got.Unreadable)
	}
	for i, r := range rec.all() {
		want := fmt.Sprintf("map[EnterpriseId:[7000002] Limit:[3] Offset:[%d] Order:[0]]", i*3)
		if fmt.Sprint(r.query) != want || r.header.Get("x-acs-action") != "CloudListQueue" || r.sigErr != nil {
			t.Errorf("request %d: %v, want %s", i, r.query, want)
		}
	}
	if _, err := c.CloudListQueue(context.Background(), 1, 501); !IsConfigError(err) {
		t.Errorf("page size 501: %v", err)
	}
}

func TestCloudListQueueFailedPageFailsTheList(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Offset") != "0" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"Code":"ServiceUnavailable","Message":"down"}`)
			return
		}
		fmt.Fprintf(w, `{"Code":"OK","Data":{"List":[%s,%s]}}`, queueJSON("1", nil), queueJSON("2", nil))
	})
	if got, err := c.CloudListQueue(context.Background(), 1, 2); err == nil || got != nil || ErrorCode(err) != "ServiceUnavailable" {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestCallCentreOperationsListed(t *testing.T) {
	ops := map[string]bool{}
	for _, op := range Operations() {
		ops[op] = true
	}
	for _, op := range []string{"CloudListOnlineAgent", "CloudListQueue", "CloudQueryIbCdr"} {
		if !ops[op] {
			t.Errorf("Operations() lacks %s", op)
		}
	}
}

// FuzzDecodeCloudQueryIbCdr: any body decodes or fails without a panic, a
// success is valid JSON with Code OK, and the fuzzer's text in every
// personal field never fails a page nor shows in it.
func FuzzDecodeCloudQueryIbCdr(f *testing.F) {
	f.Add([]byte(ibBody(ibRecordJSON(1, ibPersonalFields))), "13800000000")
	f.Add([]byte(ibBody(ibRecordJSON(1, map[string]string{"EndTime": "1.7750e9", "BridgeTime": `""`, "LeaveQueueCode": `"x"`}))), `{"a":[1,2]}`)
	f.Add([]byte(`{"Code":"Throttling.User","Message":"slow down"}`), "")
	f.Add([]byte(`{"Code":"OK","Data":{"List":[{"UniqueId":12,"EndTime":"x"}]}}`), "null")
	f.Add([]byte(`{"Code":"OK","Data":{"List":{}}}`), `"\u0000"`)
	f.Fuzz(func(t *testing.T, body []byte, personal string) {
		r, err := DecodeCloudQueryIbCdr(body)
		if err != nil {
			if r != nil {
				t.Fatal("response and error")
			}
			if code := ErrorCode(err); code == "OK" || code == "" || len(code) > maxCodeLen {
				t.Fatalf("ErrorCode = %q for %v", code, err)
			}
		} else {
			if r.Code != "OK" || r.Data == nil || !json.Valid(body) {
				t.Fatalf("success with Code %q Data %v, valid JSON %v", r.Code, r.Data, json.Valid(body))
			}
			for _, rec := range r.Data.List {
				if textMark(rec.UniqueID) != kindNone || textMark(rec.Qno) != kindNone {
					t.Fatalf("a mark left in a decoded record: %+v", rec)
				}
			}
		}
		values := []string{mustJSON(t, personal)}
		if json.Valid([]byte(personal)) {
			values = append(values, personal)
		}
		clean := fmt.Sprintf("%+v", mustDecodeIb(t, ibBody(ibRecordJSON(1, nil))))
		for _, v := range values {
			fields := map[string]string{}
			for k := range ibPersonalFields {
				fields[k] = v
			}
			page := ibBody(ibRecordJSON(1, fields))
			r := mustDecodeIb(t, page)
			if len(personal) >= 8 && !strings.Contains(clean, personal) {
				if out := fmt.Sprintf("%+v", r); strings.Contains(out, personal) {
					t.Fatalf("personal value %q shows in the decoded page: %s", personal, out)
				}
			}
		}
	})
}

func mustDecodeIb(t *testing.T, body string) *CloudQueryIbCdrResponse {
	t.Helper()
	r, err := DecodeCloudQueryIbCdr([]byte(body))
	if err != nil {
		t.Fatalf("a personal field failed the page: %v\n%s", err, body)
	}
	return r
}

// FuzzDecodeCloudListOnlineAgent: any body decodes or fails without a
// panic; a success has Data, no Cno twice and no mark left in a field.
func FuzzDecodeCloudListOnlineAgent(f *testing.F) {
	f.Add([]byte(onlineAgentsBody(onlineAgentJSON("1111", nil), onlineAgentJSON("1111", nil))))
	f.Add([]byte(onlineAgentsBody(onlineAgentJSON("1", map[string]string{"LoginStatus": `"2"`, "DeviceStatus": "true", "Cno": "12"}))))
	f.Add([]byte(`{"Code":"OK","Data":{"AgentStatuses":[{"Cno":{}}]}}`))
	f.Add([]byte(`{"Code":"OK"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeCloudListOnlineAgent(body)
		if err != nil {
			if r != nil {
				t.Fatal("response and error")
			}
			if code := ErrorCode(err); code == "OK" || code == "" || len(code) > maxCodeLen {
				t.Fatalf("ErrorCode = %q for %v", code, err)
			}
			return
		}
		if r.Code != "OK" || r.Data == nil || !json.Valid(body) {
			t.Fatalf("success with Code %q Data %v", r.Code, r.Data)
		}
		seen := map[Text]bool{}
		for _, a := range r.Data.AgentStatuses {
			if textMark(a.Cno) != kindNone || textMark(a.State) != kindNone {
				t.Fatalf("a mark left: %+v", a)
			}
			if a.Cno != "" && seen[a.Cno] {
				t.Fatalf("Cno %q twice", a.Cno)
			}
			seen[a.Cno] = true
		}
	})
}

// FuzzDecodeCloudListQueue: any body decodes or fails without a panic; a
// success has Data and no mark left in a field.
func FuzzDecodeCloudListQueue(f *testing.F) {
	f.Add([]byte(`{"Code":"OK","Data":{"Total":2,"List":[` + queueJSON("1", nil) + `,` + queueJSON("2", map[string]string{"ServiceLevel": `"20"`}) + `]}}`))
	f.Add([]byte(`{"Code":"OK","Data":{"List":[{"Qno":[],"ServiceLevel":true}]}}`))
	f.Add([]byte(`{"Code":"InvalidParameter","Message":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeCloudListQueue(body)
		if err != nil {
			if r != nil {
				t.Fatal("response and error")
			}
			if code := ErrorCode(err); code == "OK" || code == "" || len(code) > maxCodeLen {
				t.Fatalf("ErrorCode = %q for %v", code, err)
			}
			return
		}
		if r.Code != "OK" || r.Data == nil || !json.Valid(body) {
			t.Fatalf("success with Code %q Data %v", r.Code, r.Data)
		}
		for _, q := range r.Data.List {
			if textMark(q.Qno) != kindNone || textMark(q.Description) != kindNone || q.ServiceLevel.bad != kindNone {
				t.Fatalf("a mark left: %+v", q)
			}
		}
	})
}
