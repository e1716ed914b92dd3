package simulator

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// slTally is one queue's service level over a span, computed from the
// records as the exporter's rules compute it: offered = calls that reached
// the queue (every record with its Qno but those the queue did not take:
// StatusCode 14, 18, 19), within = answered calls whose BridgeTime −
// StartTime is at most the queue's threshold.
type slTally struct{ offered, within, abandoned, timeout int }

func (s slTally) level() float64 {
	if s.offered == 0 {
		return -1
	}
	return float64(s.within) / float64(s.offered)
}

func (s slTally) String() string {
	return fmt.Sprintf("%.3f (%d of %d offered within the threshold, %d abandoned, %d overflowed)",
		s.level(), s.within, s.offered, s.abandoned, s.timeout)
}

// serviceLevels reads enterprise 7000002's inbound records that ended in
// [from, to] and tallies them per queue of cfg.
func serviceLevels(t *testing.T, s *Simulator, clock *FakeClock, cfg *Inbound, from, to int64) map[string]slTally {
	t.Helper()
	threshold := map[string]int64{}
	for _, q := range cfg.Queues {
		threshold[q.Qno] = int64(time.Duration(q.ServiceLevel) / time.Second)
	}
	recs, _ := ibAll(t, s, clock, from, to, 1000)
	out := map[string]slTally{}
	for _, r := range recs {
		th, ok := threshold[r.Qno]
		if !ok {
			continue
		}
		tl := out[r.Qno]
		switch r.StatusCode {
		case "14", "18", "19":
			continue
		case "1":
			if unixOf(t, r.BridgeTime)-unixOf(t, r.StartTime) <= th {
				tl.within++
			}
		case "15":
			tl.abandoned++
		case "16", "17":
			tl.timeout++
		}
		tl.offered++
		out[r.Qno] = tl
	}
	return out
}

// demoSim is the demo's call centre drawn with seed, on a fake clock.
func demoSim(t *testing.T, seed int64) (*Simulator, *FakeClock, *Inbound) {
	t.Helper()
	cfg := DemoConfig(testCred)
	cfg.Seed = seed
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	s, clock := newTestSim(t, cfg)
	return s, clock, cfg.Enterprises[0].Inbound
}

// The demo's inbound traffic keeps every queue's service level above 80 %
// over a simulated hour of steady state (after a quarter of an hour of
// warm-up), and the main queue's in every quarter of it, whatever the
// seed (the demo draws a new one each run).
func TestDemoServiceLevel(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		s, clock, in := demoSim(t, seed)
		clock.Advance(15 * time.Minute)
		from := clock.Now().Unix()
		for q := range 4 {
			clock.Advance(15 * time.Minute)
			now := clock.Now().Unix()
			sl := serviceLevels(t, s, clock, in, now-900, now)["2001"]
			if sl.offered < 10 || sl.level() <= 0.8 {
				t.Errorf("seed %d, quarter %d of the hour: queue 2001 %v, want at least 10 offered and above 0.8", seed, q+1, sl)
			}
		}
		hour := serviceLevels(t, s, clock, in, from, clock.Now().Unix())
		for _, q := range in.Queues {
			sl := hour[q.Qno]
			if sl.offered < int(q.CallsPerHour/3) || sl.level() <= 0.8 {
				t.Errorf("seed %d: queue %s over the hour: %v, want about %v offered and above 0.8", seed, q.Qno, sl, q.CallsPerHour)
			}
		}
	}
}

// Pausing the demo's whole floor (agents_pause with task 0: every task of
// enterprise 7000002) leaves the inbound callers waiting: they abandon or
// overflow, and the service level of the last 15 minutes falls below 80 %
// in every queue; a quarter of an hour after agents_resume it is above
// again.
func TestDemoFloorPauseLowersServiceLevel(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		s, clock, in := demoSim(t, seed)
		clock.Advance(30 * time.Minute)
		if err := s.Scenario(Scenario{Enterprise: 7000002, Name: ScenarioAgentsPause}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(20 * time.Minute)
		for _, a := range onlineAgents(t, s, clock) {
			if a.LoginStatus != 2 && a.DeviceStatus == 0 {
				t.Errorf("seed %d: agent %s is %s 20 minutes into the pause of the floor", seed, a.Cno, a.State)
			}
		}
		now := clock.Now().Unix()
		paused := serviceLevels(t, s, clock, in, now-900, now)
		if sl := paused["2001"]; sl.offered < 10 || sl.level() >= 0.8 || sl.abandoned == 0 {
			t.Errorf("seed %d: queue 2001 in the last 15 minutes of the pause: %v, want at least 10 offered, abandons, below 0.8", seed, sl)
		}
		for _, q := range in.Queues {
			if sl := paused[q.Qno]; sl.offered > 0 && sl.level() >= 0.8 {
				t.Errorf("seed %d: queue %s in the last 15 minutes of the pause: %v, want below 0.8", seed, q.Qno, sl)
			}
		}
		if err := s.Scenario(Scenario{Enterprise: 7000002, Name: ScenarioAgentsResume}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(30 * time.Minute)
		now = clock.Now().Unix()
		if sl := serviceLevels(t, s, clock, in, now-900, now)["2001"]; sl.offered < 10 || sl.level() <= 0.8 {
			t.Errorf("seed %d: queue 2001 15 to 30 minutes after the resume: %v, want above 0.8 again", seed, sl)
		}
	}
}

// Only the agent scenarios apply to a whole enterprise (task 0).
func TestWholeFloorScenarios(t *testing.T) {
	s, _, _ := demoSim(t, DemoConfig(testCred).Seed)
	if err := s.Scenario(Scenario{Enterprise: 7000002, Name: ScenarioTaskPause}); err == nil || !strings.Contains(err.Error(), "needs a task") {
		t.Errorf("task_pause of a whole enterprise: %v, want refused", err)
	}
	if err := s.Scenario(Scenario{Enterprise: 7000009, Name: ScenarioAgentsPause}); err == nil {
		t.Error("agents_pause of an unknown enterprise accepted")
	}
	cfg := DemoConfig(testCred)
	cfg.Scenarios = []Scenario{{Enterprise: 7000002, Name: ScenarioTaskFinish}}
	if err := cfg.normalize(); err == nil || !strings.Contains(err.Error(), "needs a task") {
		t.Errorf("config scenario task_finish of a whole enterprise: %v, want refused", err)
	}
	cfg.Scenarios = []Scenario{{Enterprise: 7000002, Name: ScenarioAgentsOffline}}
	if err := cfg.normalize(); err != nil {
		t.Errorf("config scenario agents_offline of a whole enterprise: %v", err)
	}
}
