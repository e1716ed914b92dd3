package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// The test signer is written from NOTES.md independently of verify.go, so
// that a shared misreading of the algorithm cannot make both agree.

type testSigner struct {
	id, secret, token string
}

func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// testCanonical returns the canonical request, the signed header list and
// the lower-hex SHA-256 of the canonical request.
func testCanonical(method, host string, params map[string]string, headers map[string]string, body []byte) (string, string, string) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		qs = append(qs, rfc3986(k)+"="+rfc3986(params[k]))
	}
	all := map[string]string{"host": host}
	for k, v := range headers {
		all[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	names := make([]string, 0, len(all))
	for k := range all {
		if k == "host" || k == "content-type" || strings.HasPrefix(k, "x-acs-") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n + ":" + all[n] + "\n")
	}
	payload := sha256.Sum256(body)
	canon := method + "\n/\n" + strings.Join(qs, "&") + "\n" + ch.String() + "\n" + strings.Join(names, ";") + "\n" + hex.EncodeToString(payload[:])
	h := sha256.Sum256([]byte(canon))
	return canon, strings.Join(names, ";"), hex.EncodeToString(h[:])
}

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func testSignature(secret, hashedCanonical string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("ACS3-HMAC-SHA256\n" + hashedCanonical))
	return hex.EncodeToString(m.Sum(nil))
}

// request builds a signed gateway request. Options can edit the request
// after signing (to break it) or the headers before.
type reqOpts struct {
	action, version string
	date            time.Time
	nonce           string
	host            string
	body            string                    // signed form body (the simulator must refuse it)
	before          func(h map[string]string) // edit headers before signing
	after           func(r *http.Request)     // edit the request after signing
}

var nonceSeq int

func (ts testSigner) request(params map[string]string, o reqOpts) *http.Request {
	if o.action == "" {
		o.action = actionMonitor
	}
	if o.version == "" {
		o.version = apiVersion
	}
	if o.nonce == "" {
		nonceSeq++
		o.nonce = fmt.Sprintf("nonce-%d-%d", time.Now().UnixNano(), nonceSeq)
	}
	if o.host == "" {
		o.host = "dyvmsapi.aliyuncs.com"
	}
	h := map[string]string{
		"x-acs-action":          o.action,
		"x-acs-version":         o.version,
		"x-acs-date":            o.date.UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": o.nonce,
		"x-acs-content-sha256":  sha256hex(o.body),
	}
	if o.body != "" {
		h["content-type"] = "application/x-www-form-urlencoded"
	}
	if ts.token != "" {
		h["x-acs-security-token"] = ts.token
	}
	if o.before != nil {
		o.before(h)
	}
	_, signed, hashed := testCanonical("POST", o.host, params, h, []byte(o.body))
	v := url.Values{}
	for k, val := range params {
		v.Set(k, val)
	}
	r := httptest.NewRequest("POST", "http://"+o.host+"/?"+v.Encode(), strings.NewReader(o.body))
	r.Host = o.host
	for k, val := range h {
		r.Header.Set(k, val)
	}
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+ts.id+",SignedHeaders="+signed+",Signature="+testSignature(ts.secret, hashed))
	if o.after != nil {
		o.after(r)
	}
	return r
}

var t0 = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC) // 17:30 in Shanghai

var testCred = Credential{AccessKeyID: "testid", AccessKeySecret: "testsecret"}

func testConfig() Config {
	return Config{
		Seed: 7,
		Credentials: []Credential{testCred,
			{AccessKeyID: "STS.testid", AccessKeySecret: "stssecret", SecurityToken: "token-abc"}},
		Enterprises: []Enterprise{{ID: 7000002, Channels: 40, Tasks: []Task{
			{ID: 19, Name: "回访任务", Agents: intp(50), RemovedAgents: 2, Numbers: intp(100000), StartedAgo: Duration(30 * time.Minute), DialRatio: 2, AnswerProbability: floatp(0.5)},
			{ID: 20, Name: "small", Agents: intp(5), Numbers: intp(200), DialRatio: 2},
			{ID: 21, Name: "auto", Type: 2, Numbers: intp(100000), Concurrency: 10},
		}}},
	}
}

func newTestSim(t testing.TB, cfg Config) (*Simulator, *FakeClock) {
	t.Helper()
	clock := NewFakeClock(t0)
	s, err := New(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

// Wire types for the tests: they follow the vendor's example exactly,
// including the Status that is a string in TodayStatistic.
type wireProp struct {
	Status            json.RawMessage
	OverTime          string
	StatusDescription string
	StartTime         string
	Id                int64
	Name              string
}

type wireStat struct {
	CtiLinkTaskProperty wireProp
	AgentCount          int64
	CalledCount         int64
	AnswerCount         int64
	UncalledCount       int64
	CallAgentCount      int64
}

type wireAgent struct {
	TodayAnsweredCount           int64
	Cno                          string
	NoBridgeCount                int64
	EnterpriseCallLimit          int64
	Name                         string
	AvgBridgeTime                string
	EnterpriseTodayAnsweredCount int64
	AgentStatus                  string
	AgentAvgIdleTime             int64
	BridgeCount                  int64
	CalledCount                  int64
	BridgeIn2sRate               float64
	CallLimit                    int64
}

type wireMonitor struct {
	RequestId string
	Code      string
	Message   string
	Data      *struct {
		RemovedAgentStatisticList []wireAgent
		TodayStatistic            wireStat
		Statistic                 wireStat
		AgentStatisticList        []wireAgent
		ChannelInfo               struct {
			BridgedCount, EnterpriseChannelCount, ChannelCount, WaitAgentCount, AnswerCount, IvrCount, WaitAnswerCount int64
		}
		AgentInfo struct {
			WrapupCount, TotalCount, RingingCount, BridgeCount, OnlineCount, AvailableCount int64
		}
	}
}

type wireError struct {
	RequestId, HostId, Code, Message, Recommend string
}

func serve(s *Simulator, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}

func monitorParams(ent, task int64) map[string]string {
	return map[string]string{"EnterpriseId": fmt.Sprint(ent), "TaskId": fmt.Sprint(task)}
}

// monitor asks for a task and decodes the answer strictly.
func monitor(t testing.TB, s *Simulator, clock *FakeClock, ent, task int64) (wireMonitor, []byte) {
	t.Helper()
	rec := serve(s, testSigner{id: testCred.AccessKeyID, secret: testCred.AccessKeySecret}.request(monitorParams(ent, task), reqOpts{date: clock.Now()}))
	if rec.Code != 200 {
		t.Fatalf("CloudMonitorTask %d/%d: HTTP %d %s", ent, task, rec.Code, rec.Body)
	}
	var m wireMonitor
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode: %v\n%s", err, rec.Body)
	}
	if m.Code != "OK" || m.Data == nil {
		t.Fatalf("not OK: %s", rec.Body)
	}
	return m, rec.Body.Bytes()
}

func decodeError(t testing.TB, rec *httptest.ResponseRecorder) wireError {
	t.Helper()
	var e wireError
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decode error body: %v\n%s", err, rec.Body)
	}
	return e
}
