package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// canary is a phone number that appears in every personal field of the
// test records and must appear nowhere the exporter writes.
const canary = "13912345678"

// personalFields are the record fields that hold personal data or
// numbering (the vendor SDK's model of a record), as the canary
// fills them.
var personalFields = map[string]string{
	"CustomerNumber": `"` + canary + `"`, "CustomerProvince": `"浙江省` + canary + `"`, "CustomerCity": `"杭州市` + canary + `"`,
	"Clid": `"` + canary + `"`, "DisplayNumber": `"` + canary + `"`, "CalleeClid": `"` + canary + `"`,
	"CalleeDisplayNumber": `"` + canary + `"`, "XNumber": `"` + canary + `"`, "NumberTrunk": `"` + canary + `"`,
	"TrunkGroupKey": `"` + canary + `"`, "CalleeNumber": `"` + canary + `"`, "RequestUniqueId": `"req-` + canary + `"`,
	"AgentName":  `"` + canary + `"`,
	"UserField":  `{"phone":"` + canary + `","nested":{"n":` + canary + `}}`,
	"RecordFile": `[{"FileName":"` + canary + `.mp3","Url":"https://rec.example.invalid/` + canary + `.mp3"}]`,
}

// cdrRecordJSON is one record as the vendor's SDK types it (every scalar a
// string), with extra fields merged over it.
func cdrRecordJSON(seq int, extra map[string]string) string {
	f := map[string]string{
		"Id": fmt.Sprintf(`"%d"`, 900+seq), "UniqueId": fmt.Sprintf(`"uniq_1-1620460000.%d"`, seq),
		"CallId": `"0f0e0d0c-0b0a-4908-8706-050403020100"`, "TaskId": `"19"`, "TaskName": `"回访"`,
		"StartTime": `"1741600000"`, "CalleeRingingTime": `"1741600001"`, "AnswerTime": `"1741600008"`,
		"RealAnswerTime": `"1741600008"`, "DetailRingingTime": `"1741600008"`, "BridgeTime": `"1741600009"`,
		"EndTime": `"1741600100"`, "WaitDuration": `"1"`, "BridgeDuration": `"91"`, "TotalDuration": `"100"`,
		"Status": `"双方接听"`, "StatusCode": `"43"`, "IsRealAnswer": `"1"`, "SipCause": `"200"`, "EndReason": `"1000"`,
		"Cno": `"1001"`,
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

func cdrBody(records ...string) string {
	return `{"RequestId":"R1","Code":"OK","Message":"OK","Data":{"List":[` + strings.Join(records, ",") + `]}}`
}

func TestDecodeCallRecordScalarForms(t *testing.T) {
	body := cdrBody(
		cdrRecordJSON(1, nil),
		// Numbers as numbers, never-reached times as "0", "" and null.
		cdrRecordJSON(2, map[string]string{"TaskId": "19", "StartTime": "1741600000", "BridgeTime": `""`,
			"DetailRingingTime": `"0"`, "RealAnswerTime": "null", "IsRealAnswer": `""`, "StatusCode": "40", "UniqueId": "null"}),
	)
	r, err := DecodeCloudQueryPredictiveCallCdr([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data.List) != 2 {
		t.Fatalf("%d records", len(r.Data.List))
	}
	a, b := r.Data.List[0], r.Data.List[1]
	if a.TaskID != i64(19) || a.StartTime != i64(1741600000) || a.BridgeTime != i64(1741600009) || a.WaitDuration != i64(1) ||
		a.StatusCode != i64(43) || a.IsRealAnswer != i64(1) || a.Key() != "uniq_1-1620460000.1" {
		t.Fatalf("record 1 = %+v", a)
	}
	if b.TaskID != i64(19) || b.StartTime != i64(1741600000) || b.StatusCode != i64(40) || b.IsRealAnswer.Valid || b.RealAnswerTime.Valid {
		t.Fatalf("record 2 = %+v", b)
	}
	for name, f := range map[string]Int64{"BridgeTime": b.BridgeTime, "DetailRingingTime": b.DetailRingingTime, "RealAnswerTime": b.RealAnswerTime} {
		if _, ok := At(f); ok {
			t.Errorf("%s %+v is a moment, want none", name, f)
		}
	}
	if v, ok := At(a.BridgeTime); !ok || v != 1741600009 {
		t.Errorf("At(BridgeTime) = %d, %v", v, ok)
	}
	// No UniqueId: the CallId identifies the call.
	if b.Key() != "0f0e0d0c-0b0a-4908-8706-050403020100" {
		t.Errorf("Key without UniqueId = %q", b.Key())
	}
	// An empty answer is an empty page.
	for _, body := range []string{`{"Code":"OK","RequestId":"R"}`, `{"Code":"OK","Data":{}}`, `{"Code":"OK","Data":{"List":null}}`} {
		r, err := DecodeCloudQueryPredictiveCallCdr([]byte(body))
		if err != nil || len(r.Data.List) != 0 {
			t.Errorf("%s: %v, %v", body, r, err)
		}
	}
}

// TestCallRecordsCarryNoPersonalData puts the canary into every personal
// field and proves it reaches neither the decoded records nor any error:
// not when the page decodes, not when a decoded field is wrong, and not
// when the whole body is unreadable (which, for other operations, the
// error quotes).
func TestCallRecordsCarryNoPersonalData(t *testing.T) {
	good := cdrBody(cdrRecordJSON(1, personalFields), cdrRecordJSON(2, personalFields))
	if r, err := DecodeCloudQueryPredictiveCallCdr([]byte(good)); err != nil || len(r.Data.List) != 2 {
		t.Fatalf("the page with the canary everywhere: %v, %v", r, err)
	}
	checkCanaryNeverShows(t, recordPageOperation{
		good:    good,
		leading: `"List0":{"CustomerNumber":"` + canary + `","Clid":"` + canary + `"}`,
		unreadable: map[string]string{
			"malformed":        strings.Replace(good[1:], ":", "=", 1),
			"truncated":        good[1 : len(good)/2],
			"wrong type":       cdrBody(cdrRecordJSON(1, merge(personalFields, map[string]string{"EndTime": `{"x":1}`})))[1:],
			"no code":          `"Data":{"List":[` + cdrRecordJSON(1, personalFields) + `]}}`,
			"list not an list": `"Code":"OK","Data":{"List":"` + canary + `"}}`,
		},
		decode: func(body []byte) (any, error) { return DecodeCloudQueryPredictiveCallCdr(body) },
		read: func(c *Client) error {
			_, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 7000002,
				StartTime: time.Unix(1741600000, 0), EndTime: time.Unix(1741603600, 0), TimeRangeType: CdrByEndTime})
			return err
		},
		page: func(c *Client) error {
			_, err := c.CloudQueryPredictiveCallCdrPage(context.Background(), CdrQuery{EnterpriseID: 1})
			return err
		},
	})
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestSplitByMonth(t *testing.T) {
	loc := shanghai(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation(TimeLayout, s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from, to string
		want     []string // "from|to" per part
	}{
		{"2025-03-10 08:00:00", "2025-03-10 09:00:00", []string{"2025-03-10 08:00:00|2025-03-10 09:00:00"}},
		{"2025-02-28 23:50:00", "2025-03-01 00:10:00", []string{"2025-02-28 23:50:00|2025-02-28 23:59:59", "2025-03-01 00:00:00|2025-03-01 00:10:00"}},
		{"2024-12-31 23:00:00", "2025-02-01 00:00:00", []string{"2024-12-31 23:00:00|2024-12-31 23:59:59",
			"2025-01-01 00:00:00|2025-01-31 23:59:59", "2025-02-01 00:00:00|2025-02-01 00:00:00"}},
		{"2025-03-31 23:59:59", "2025-04-01 00:00:00", []string{"2025-03-31 23:59:59|2025-03-31 23:59:59", "2025-04-01 00:00:00|2025-04-01 00:00:00"}},
		{"2025-03-10 09:00:00", "2025-03-10 08:00:00", nil},
	} {
		var got []string
		for _, p := range SplitByMonth(at(tc.from), at(tc.to), loc) {
			got = append(got, p[0].Format(TimeLayout)+"|"+p[1].Format(TimeLayout))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s .. %s: %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	// The month is the call centre's: 2025-03-01 00:30 in Shanghai is
	// still February in UTC.
	if n := len(SplitByMonth(at("2025-03-01 00:30:00"), at("2025-03-01 09:00:00"), time.UTC)); n != 2 {
		t.Errorf("in UTC the window crosses a month: %d parts, want 2", n)
	}
}

// cdrServer answers pages of total records per month part, each record's
// UniqueId naming its part and offset, and records the requests.
func cdrServer(t *testing.T, rec *recorder, total int, fail func(x recorded) bool) *Client {
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := rec.record(r)
		if fail != nil && fail(x) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"RequestId":"R","Code":"ServiceUnavailable","Message":"down"}`)
			return
		}
		start, _ := strconv.Atoi(x.query.Get("Start"))
		limit, _ := strconv.Atoi(x.query.Get("Limit"))
		var items []string
		for i := start; i < min(start+limit, total); i++ {
			items = append(items, cdrRecordJSON(i, map[string]string{"UniqueId": fmt.Sprintf(`"%s-%d"`, x.query.Get("StartTime"), i)}))
		}
		fmt.Fprint(w, cdrBody(items...))
	})
	return c
}

func TestCloudQueryPredictiveCallCdrPagesAndSplits(t *testing.T) {
	var rec recorder
	c := cdrServer(t, &rec, 25, nil)
	loc := shanghai(t)
	from := time.Date(2025, 2, 28, 23, 0, 0, 0, loc)
	to := time.Date(2025, 3, 1, 1, 0, 0, 0, loc)
	res, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 7000002, TaskID: 19,
		StartTime: from, EndTime: to, TimeRangeType: CdrByEndTime, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Two month parts, three pages each (10, 10, 5).
	if len(res.Records) != 50 || res.Pages != 6 || !res.Through.Equal(to) {
		t.Fatalf("%d records, %d pages, through %v", len(res.Records), res.Pages, res.Through)
	}
	reqs := rec.all()
	if len(reqs) != 6 {
		t.Fatalf("%d requests", len(reqs))
	}
	endOfFeb := time.Date(2025, 3, 1, 0, 0, 0, 0, loc).Unix() - 1
	for i, r := range reqs {
		wantFrom, wantTo := from.Unix(), endOfFeb
		if i >= 3 {
			wantFrom, wantTo = endOfFeb+1, to.Unix()
		}
		want := fmt.Sprintf("map[EndTime:[%d] EnterpriseId:[7000002] Limit:[10] Start:[%d] StartTime:[%d] TaskId:[19] TimeRangeType:[2]]",
			wantTo, i%3*10, wantFrom)
		if got := fmt.Sprint(r.query); got != want {
			t.Errorf("request %d: %s, want %s", i, got, want)
		}
		if r.header.Get("x-acs-action") != "CloudQueryPredictiveCallCdr" || r.sigErr != nil {
			t.Errorf("request %d: action %q, signature %v", i, r.header.Get("x-acs-action"), r.sigErr)
		}
	}
}

func TestCloudQueryPredictiveCallCdrPartialFailure(t *testing.T) {
	loc := shanghai(t)
	from := time.Date(2025, 2, 28, 23, 0, 0, 0, loc)
	to := time.Date(2025, 3, 1, 1, 0, 0, 0, loc)
	endOfFeb := time.Date(2025, 3, 1, 0, 0, 0, 0, loc).Add(-time.Second)
	for _, tc := range []struct {
		name        string
		failStart   string // the Start of the failing request (in the March part)
		failPart    int64  // StartTime of the failing part
		wantRecords int
		wantThrough time.Time
	}{
		{"second page of the first month", "10", from.Unix(), 10, time.Time{}},
		{"second page of the second month", "10", endOfFeb.Unix() + 1, 35, endOfFeb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			c := cdrServer(t, &rec, 25, func(x recorded) bool {
				return x.query.Get("Start") == tc.failStart && x.query.Get("StartTime") == strconv.FormatInt(tc.failPart, 10)
			})
			res, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 7000002,
				StartTime: from, EndTime: to, TimeRangeType: CdrByEndTime, Limit: 10, Location: loc})
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != "ServiceUnavailable" {
				t.Fatalf("error %v, want ServiceUnavailable", err)
			}
			if res == nil || len(res.Records) != tc.wantRecords || !res.Through.Equal(tc.wantThrough) {
				t.Fatalf("result %+v, want %d records through %v", res, tc.wantRecords, tc.wantThrough)
			}
		})
	}
}

func TestCloudQueryPredictiveCallCdrRefusesBadQueries(t *testing.T) {
	var rec recorder
	c := cdrServer(t, &rec, 0, nil)
	now := time.Unix(1741600000, 0)
	for _, q := range []CdrQuery{
		{EnterpriseID: 1, StartTime: now, EndTime: now, Limit: 1001},
		{EnterpriseID: 1, StartTime: now, EndTime: now, Limit: -1},
		{EnterpriseID: 1, StartTime: now, EndTime: now.Add(-time.Second)},
	} {
		if _, err := c.CloudQueryPredictiveCallCdr(context.Background(), q); err == nil || !IsConfigError(err) {
			t.Errorf("%+v: %v, want a configuration error", q, err)
		}
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("%d requests sent for refused queries", n)
	}
	// An empty window part still asks once, and an empty answer ends it.
	res, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 1, StartTime: now, EndTime: now})
	if err != nil || len(res.Records) != 0 || res.Pages != 1 || len(rec.all()) != 1 || rec.all()[0].query.Get("Limit") != "1000" {
		t.Fatalf("%+v, %v; requests %v", res, err, rec.all())
	}
}

func TestCloudQueryPredictiveCallCdrServerIgnoringStart(t *testing.T) {
	c, mux, _ := setup(t)
	page := make([]string, 10)
	for i := range page {
		page[i] = cdrRecordJSON(i, nil)
	}
	mux.HandleFunc("/", serveBody(nil, http.StatusOK, cdrBody(page...)))
	_, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 1, StartTime: time.Unix(1741600000, 0),
		EndTime: time.Unix(1741600100, 0), Limit: 10})
	if err == nil || !strings.Contains(err.Error(), "ignore Start") {
		t.Fatalf("error %v, want the repeated page to be refused", err)
	}
}

// FuzzDecodeCloudQueryPredictiveCallCdr: any body decodes or fails without
// a panic, a success is valid JSON with Code OK, and whatever the fuzzer
// puts into the personal fields never fails a page nor shows in it.
func FuzzDecodeCloudQueryPredictiveCallCdr(f *testing.F) {
	f.Add([]byte(cdrBody(cdrRecordJSON(1, personalFields))), "13800000000")
	f.Add([]byte(cdrBody(cdrRecordJSON(1, map[string]string{"TaskId": "19", "EndTime": "1.7416e9", "BridgeTime": `""`}))), `{"a":[1,2]}`)
	f.Add([]byte(`{"Code":"Throttling.User","Message":"slow down"}`), "")
	f.Add([]byte(`{"Code":"OK","Data":{"List":[{"UniqueId":12,"EndTime":"x"}]}}`), "null")
	f.Add([]byte(`{"Code":"OK","Data":{"List":{}}}`), `"\u0000"`)
	f.Fuzz(func(t *testing.T, body []byte, personal string) {
		r, err := DecodeCloudQueryPredictiveCallCdr(body)
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
				if rec.Key() != string(rec.UniqueID) && rec.UniqueID != "" {
					t.Fatalf("Key %q with UniqueId %q", rec.Key(), rec.UniqueID)
				}
			}
		}

		// The fuzzer's text in every personal field: as a JSON string,
		// and, when it is JSON, as the value itself.
		values := []string{mustJSON(t, personal)}
		if json.Valid([]byte(personal)) {
			values = append(values, personal)
		}
		for _, v := range values {
			fields := map[string]string{}
			for k := range personalFields {
				fields[k] = v
			}
			page := cdrBody(cdrRecordJSON(1, fields))
			r, err := DecodeCloudQueryPredictiveCallCdr([]byte(page))
			if err != nil {
				t.Fatalf("a personal field failed the page: %v\n%s", err, page)
			}
			if len(personal) >= 8 && !strings.Contains(page, personal+personal) {
				out := fmt.Sprintf("%+v", r)
				if strings.Contains(out, personal) && !strings.Contains(cdrBody(cdrRecordJSON(1, nil)), personal) && !strings.Contains(fmt.Sprintf("%+v", emptyDecoded(t)), personal) {
					t.Fatalf("personal value %q shows in the decoded page: %s", personal, out)
				}
			}
		}
	})
}

// emptyDecoded is the decoded page without personal fields, whose text a
// fuzzed value may happen to match.
func emptyDecoded(t *testing.T) *CloudQueryPredictiveCallCdrResponse {
	r, err := DecodeCloudQueryPredictiveCallCdr([]byte(cdrBody(cdrRecordJSON(1, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// BenchmarkDecodeCdrPage1000 decodes a full page of 1,000 records with
// every personal field filled (what a busy enterprise's poll reads).
func BenchmarkDecodeCdrPage1000(b *testing.B) {
	recs := make([]string, 1000)
	for i := range recs {
		recs[i] = cdrRecordJSON(i, personalFields)
	}
	body := []byte(cdrBody(recs...))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if r, err := DecodeCloudQueryPredictiveCallCdr(body); err != nil || len(r.Data.List) != 1000 {
			b.Fatal(err)
		}
	}
}

// Issue 19, point 13: the API's refusal of a window is logged with what a
// window may not cross, not with "check enterprise and task ids".
func TestRefusedWindowSaysWhatAWindowMayNotCross(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"RequestId":"R9","Code":"isv.INVALID_PARAMETERS","Message":"StartTime and EndTime must be in the same month."}`)
	})
	loc := shanghai(t)
	from, to := time.Date(2025, 3, 31, 23, 50, 0, 0, loc), time.Date(2025, 4, 1, 0, 10, 0, 0, loc)
	_, err := c.CloudQueryPredictiveCallCdrPage(context.Background(), CdrQuery{EnterpriseID: 7000002, StartTime: from, EndTime: to})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "check enterprise and task ids") || !strings.Contains(msg, "calendar month") ||
		!strings.Contains(msg, "2025-03-31 23:50:00 .. 2025-04-01 00:10:00") || !strings.Contains(msg, "same month") {
		t.Fatalf("error %q: want the window, the API's message and the month rule, without the ids hint", msg)
	}
	var ae *Error
	if !errors.As(err, &ae) || ErrorCode(err) != "isv.INVALID_PARAMETERS" {
		t.Fatalf("the *Error is not reachable (code %q)", ErrorCode(err))
	}
}

// Issue 19, point 1: an id the decoder cannot read as text is no id, so
// Key falls back to the next; the marks of two such records are never one
// key.
func TestUnreadableIDsAreNoIDs(t *testing.T) {
	r, err := DecodeCloudQueryPredictiveCallCdr([]byte(cdrBody(
		cdrRecordJSON(1, map[string]string{"UniqueId": `{"x":1}`, "CallId": `"c1"`}),
		cdrRecordJSON(2, map[string]string{"UniqueId": `true`, "CallId": `[1]`, "Id": `"77"`}),
	)))
	if err != nil {
		t.Fatal(err)
	}
	if k0, k1 := r.Data.List[0].Key(), r.Data.List[1].Key(); k0 != "c1" || k1 != "77" {
		t.Fatalf("keys %q, %q: want the CallId, then the Id", k0, k1)
	}
}

// Issue 19, point 5: windows are split at the API's months (Asia/Shanghai)
// whatever zone the client reads wall-clock times in.
func TestWindowsSplitAtTheAPIsMonths(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t, func(o *Options) { o.Location = time.UTC })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		fmt.Fprint(w, cdrBody())
	})
	loc := shanghai(t)
	from, to := time.Date(2025, 3, 31, 23, 50, 0, 0, loc), time.Date(2025, 4, 1, 0, 10, 0, 0, loc)
	if _, err := c.CloudQueryPredictiveCallCdr(context.Background(), CdrQuery{EnterpriseID: 7000002, StartTime: from, EndTime: to}); err != nil {
		t.Fatal(err)
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[0].query.Get("EndTime") != strconv.FormatInt(time.Date(2025, 4, 1, 0, 0, 0, 0, loc).Unix()-1, 10) {
		t.Fatalf("%d requests (%v): want two, split at midnight of 1 April in Shanghai", len(reqs), reqs)
	}
}
