package simulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchMonitor serves b.N signed CloudMonitorTask requests for the
// 50-agent task; step moves the clock before each. Requests are signed in
// batches outside the timer, so ns/op is the simulator's share alone:
// verification, model advance, encoding.
func benchMonitor(b *testing.B, step time.Duration) {
	s, clock := newTestSim(b, testConfig())
	clock.Advance(time.Hour)
	signer := testSigner{id: "testid", secret: "testsecret"}
	if rec := serve(s, signer.request(monitorParams(7000002, 19), reqOpts{date: clock.Now()})); rec.Code != 200 {
		b.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
	const batch = 1024
	reqs := make([]*http.Request, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(reqs) == 0 {
			b.StopTimer()
			for j := range min(batch, b.N-i) {
				date := clock.Now().Add(time.Duration(j+1) * step)
				reqs = append(reqs, signer.request(monitorParams(7000002, 19), reqOpts{date: date}))
			}
			b.StartTimer()
		}
		if step > 0 {
			clock.Advance(step)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, reqs[0])
		reqs = reqs[1:]
		if rec.Code != 200 {
			b.Fatalf("HTTP %d %s", rec.Code, rec.Body)
		}
	}
}

// The clock stands still: verification and encoding only.
func BenchmarkCloudMonitorTask50Agents(b *testing.B) { benchMonitor(b, 0) }

// A scrape every 15 s: the model's work for 15 simulated seconds included.
func BenchmarkCloudMonitorTask50AgentsEvery15s(b *testing.B) { benchMonitor(b, 15*time.Second) }

// Building 1,000 tasks of 50 agents simulates nothing until asked.
func BenchmarkNew1000Tasks50Agents(b *testing.B) {
	cfg := Config{Credentials: []Credential{testCred},
		Generate: &Generate{Enterprises: 20, TasksPerEnterprise: 50, AgentsPerTask: 50}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(cfg, NewFakeClock(t0)); err != nil {
			b.Fatal(err)
		}
	}
}
