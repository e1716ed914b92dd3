package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

func faultSim(t *testing.T, rules ...FaultRule) (*Simulator, *FakeClock) {
	t.Helper()
	cfg := testConfig()
	cfg.Faults = Faults{Rules: rules}
	return newTestSim(t, cfg)
}

func ask(s *Simulator, clock *FakeClock, ent, task int64) *httptest.ResponseRecorder {
	return serve(s, testSigner{id: "testid", secret: "testsecret"}.request(monitorParams(ent, task), reqOpts{date: clock.Now()}))
}

func TestFaultErrors(t *testing.T) {
	for _, tc := range []struct {
		rule   FaultRule
		status int
		code   string
	}{
		{FaultRule{Kind: FaultThrottle, TimeLeft: Duration(2500 * time.Millisecond)}, 400, "Throttling.User"},
		{FaultRule{Kind: FaultUnavailable}, 503, "ServiceUnavailable"},
		{FaultRule{Kind: FaultInternal}, 500, "InternalError"},
		{FaultRule{Kind: FaultError, Status: 429, Code: "Throttling.Api"}, 429, "Throttling.Api"},
	} {
		t.Run(tc.rule.Kind+"/"+tc.code, func(t *testing.T) {
			s, clock := faultSim(t, tc.rule)
			rec := ask(s, clock, 7000002, 19)
			e := decodeError(t, rec)
			if rec.Code != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("HTTP %d %+v, want %d %s", rec.Code, e, tc.status, tc.code)
			}
			if tc.rule.Kind == FaultThrottle {
				// The official SDK's own parser reads the retry delay.
				h := rec.Header().Get("x-ratelimit-user-api")
				left := openapiutil.GetThrottlingTimeLeft(map[string]*string{"x-ratelimit-user-api": dara.String(h)})
				if left == nil || *left != 2500 {
					t.Fatalf("x-ratelimit-user-api %q: the SDK reads TimeLeft %v, want 2500", h, left)
				}
			}
			if st := s.Stats(); st.Faults[tc.rule.Kind] != 1 || st.Codes[tc.code] != 1 || st.Statuses[strconv.Itoa(tc.status)] != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestFaultBusinessError(t *testing.T) {
	s, clock := faultSim(t, FaultRule{Kind: FaultError, Status: 200, Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发流控"})
	rec := ask(s, clock, 7000002, 19)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 {
		t.Fatalf("HTTP %d %v %s", rec.Code, err, rec.Body)
	}
	if body["Code"] != "isv.BUSINESS_LIMIT_CONTROL" || body["Message"] != "触发流控" || body["Data"] != nil || body["RequestId"] == "" {
		t.Fatalf("business error body %s", rec.Body)
	}
}

func TestFaultLatency(t *testing.T) {
	s, clock := faultSim(t, FaultRule{Kind: FaultLatency, Latency: Duration(2 * time.Second), Jitter: Duration(500 * time.Millisecond)},
		FaultRule{Kind: FaultLatency, Latency: Duration(time.Second), Task: 20})
	var mu sync.Mutex
	var slept []time.Duration
	s.sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
	}
	for range 20 {
		if rec := ask(s, clock, 7000002, 19); rec.Code != 200 {
			t.Fatalf("HTTP %d", rec.Code)
		}
	}
	distinct := map[time.Duration]bool{}
	for _, d := range slept {
		distinct[d] = true
		if d < 1500*time.Millisecond || d > 2500*time.Millisecond {
			t.Fatalf("slept %v, want 2s ± 0.5s", d)
		}
	}
	if len(slept) != 20 || len(distinct) < 10 {
		t.Fatalf("%d sleeps, %d distinct: jitter missing", len(slept), len(distinct))
	}
	slept = nil
	ask(s, clock, 7000002, 20)
	if len(slept) != 1 || slept[0] < 2500*time.Millisecond || slept[0] > 3500*time.Millisecond {
		t.Fatalf("task 20 slept %v, want both rules added up", slept)
	}
}

func TestFaultBodies(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		s, clock := faultSim(t, FaultRule{Kind: FaultMalformed})
		rec := ask(s, clock, 7000002, 19)
		if rec.Code != 200 || json.Valid(rec.Body.Bytes()) || !strings.Contains(rec.Body.String(), `"AgentStatisticList"`) {
			t.Fatalf("HTTP %d, valid JSON %v", rec.Code, json.Valid(rec.Body.Bytes()))
		}
	})
	t.Run("oversize", func(t *testing.T) {
		s, clock := faultSim(t, FaultRule{Kind: FaultOversize})
		rec := ask(s, clock, 7000002, 19)
		cl, _ := strconv.Atoi(rec.Header().Get("Content-Length"))
		if rec.Code != 200 || rec.Body.Len() != 20<<20 || cl != rec.Body.Len() || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("HTTP %d, %d bytes (Content-Length %d), valid %v", rec.Code, rec.Body.Len(), cl, json.Valid(rec.Body.Bytes()))
		}
	})
	t.Run("strings", func(t *testing.T) {
		s, clock := faultSim(t, FaultRule{Kind: FaultStrings})
		clock.Advance(time.Hour)
		rec := ask(s, clock, 7000002, 19)
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		shape := map[string]string{}
		jsonShape(v, "", shape)
		for path, typ := range shape {
			if typ != "string" {
				t.Fatalf("%s is a %s under the strings fault", path, typ)
			}
		}
		if !strings.Contains(rec.Body.String(), `"EnterpriseChannelCount":"40"`) {
			t.Fatalf("numbers not quoted: %.300s", rec.Body)
		}
	})
	t.Run("duplicate_cno", func(t *testing.T) {
		s, clock := faultSim(t, FaultRule{Kind: FaultDuplicateCno})
		m, _ := monitor(t, s, clock, 7000002, 19)
		l := m.Data.AgentStatisticList
		if len(l) != 51 || l[0].Cno != l[1].Cno || m.Data.AgentInfo.TotalCount != 50 {
			t.Fatalf("%d agents, first cnos %s %s", len(l), l[0].Cno, l[1].Cno)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		s, clock := faultSim(t, FaultRule{Kind: FaultTruncated})
		rec := ask(s, clock, 7000002, 19)
		cl, _ := strconv.Atoi(rec.Header().Get("Content-Length"))
		if rec.Code != 200 || rec.Body.Len() != cl/2 {
			t.Fatalf("HTTP %d, %d of %d bytes", rec.Code, rec.Body.Len(), cl)
		}
		// Over a real connection the client sees the body cut short.
		srv := httptest.NewServer(s)
		defer srv.Close()
		r := testSigner{id: "testid", secret: "testsecret"}.request(monitorParams(7000002, 19), reqOpts{date: clock.Now()})
		r.RequestURI = ""
		r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read %v, want unexpected EOF", err)
		}
	})
	t.Run("fixture truncated", func(t *testing.T) {
		cfg := testConfig()
		cfg.Fixtures = []Fixture{{Enterprise: 7000002, Task: 12314, Body: `{"Code":"OK","Data":{}}`}}
		cfg.Faults = Faults{Rules: []FaultRule{{Kind: FaultTruncated, Task: 12314}, {Kind: FaultStrings}}}
		s, clock := newTestSim(t, cfg)
		if rec := ask(s, clock, 7000002, 12314); rec.Body.String() != `{"Code":"OK` {
			t.Fatalf("body %q", rec.Body)
		}
	})
}

func TestFaultSelection(t *testing.T) {
	s, clock := faultSim(t, FaultRule{Kind: FaultThrottle, Enterprise: 7000002, Task: 19},
		FaultRule{Kind: FaultUnavailable, Action: actionQuery})
	if rec := ask(s, clock, 7000002, 19); rec.Code != 400 {
		t.Fatalf("task 19: HTTP %d, want the throttle", rec.Code)
	}
	if rec := ask(s, clock, 7000002, 20); rec.Code != 200 {
		t.Fatalf("task 20: HTTP %d, want no fault", rec.Code)
	}
	rec := serve(s, testSigner{id: "testid", secret: "testsecret"}.request(map[string]string{"EnterpriseId": "7000002", "Type": "1"}, reqOpts{action: actionQuery, date: clock.Now()}))
	if rec.Code != 503 {
		t.Fatalf("CloudQueryTask: HTTP %d, want 503", rec.Code)
	}
	// Errors of the gateway come before faults: a bad signature is not throttled.
	if rec := serve(s, testSigner{id: "testid", secret: "bad"}.request(monitorParams(7000002, 19), reqOpts{date: clock.Now()})); decodeError(t, rec).Code != "SignatureDoesNotMatch" {
		t.Fatal("a fault answered before the signature check")
	}
}

func TestFaultProbabilityDeterministic(t *testing.T) {
	outcomes := func() string {
		s, clock := faultSim(t, FaultRule{Kind: FaultThrottle, Probability: 0.3})
		var b strings.Builder
		for range 1000 {
			if ask(s, clock, 7000002, 20).Code == 200 {
				b.WriteByte('.')
			} else {
				b.WriteByte('T')
			}
		}
		return b.String()
	}
	a, b := outcomes(), outcomes()
	if a != b {
		t.Fatal("the same seed drew different faults")
	}
	if n := strings.Count(a, "T"); n < 240 || n > 360 {
		t.Fatalf("%d of 1000 throttled at probability 0.3", n)
	}
}
