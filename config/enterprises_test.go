package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnterprisesDefaultsAndValues(t *testing.T) {
	cfg, err := Parse([]byte(`
tasks: [{enterprise_id: 7000002, task_id: 19}]
enterprises:
  - enterprise_id: 7000002
    online_agents: true
    inbound_calls:
      interval: 30s
      lateness: 0s
      settle: 5s
      max_tracked: 5000
    queues:
      refresh_interval: 1h
  - enterprise_id: 7000003
    inbound_calls: {}
    queues:
  - enterprise_id: 7000004
    online_agents: true
`), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Enterprise{
		{EnterpriseID: 7000002, OnlineAgents: true,
			InboundCalls: &InboundCalls{Interval: 30 * time.Second, Lateness: 0, Settle: 5 * time.Second, MaxTracked: 5000},
			Queues:       &Queues{RefreshInterval: time.Hour}},
		{EnterpriseID: 7000003,
			InboundCalls: &InboundCalls{Interval: time.Minute, Lateness: 15 * time.Minute, Settle: time.Minute, MaxTracked: 200_000},
			Queues:       &Queues{RefreshInterval: 10 * time.Minute}},
		{EnterpriseID: 7000004, OnlineAgents: true},
	}
	if !reflect.DeepEqual(cfg.Enterprises, want) {
		t.Fatalf("enterprises =\n%+v\nwant\n%+v", cfg.Enterprises, want)
	}
	for i := range want {
		if g, w := cfg.Enterprises[i], want[i]; g.InboundCalls != nil && *g.InboundCalls != *w.InboundCalls || g.Queues != nil && *g.Queues != *w.Queues {
			t.Errorf("entry %d: %+v %+v", i, g.InboundCalls, g.Queues)
		}
	}
	// Off by default.
	cfg, err = Parse([]byte("tasks: [{enterprise_id: 1, task_id: 2}]\n"), "c.yml")
	if err != nil || cfg.Enterprises != nil {
		t.Fatalf("without the key: %+v, %v", cfg.Enterprises, err)
	}
}

func TestEnterprisesErrorsNameFileLineAndField(t *testing.T) {
	_, err := Load("testdata/enterprises/bad.yml")
	if err == nil {
		t.Fatal("loaded")
	}
	want := []string{
		"testdata/enterprises/bad.yml:5: enterprises[0].inbound_calls.interval: must be between 10s and 1h0m0s (polling spends the account's quota), got 5s",
		"testdata/enterprises/bad.yml:6: enterprises[0].inbound_calls.lateness: must be between 0s and 6h0m0s (every poll reads it again), got 7h0m0s",
		"testdata/enterprises/bad.yml:7: enterprises[1].enterprise_id: enterprise 7000002 already has an enterprises entry at line 2",
		"testdata/enterprises/bad.yml:9: enterprises[1].queues.refresh_interval: must be between 1m0s and 24h0m0s (queues are configuration that rarely changes), got 10s",
		"testdata/enterprises/bad.yml:10: enterprises[2]: enables nothing: give online_agents: true, inbound_calls or queues",
		`testdata/enterprises/bad.yml:11: enterprises[3].online_agents: must be true or false, got "yes please"`,
		"testdata/enterprises/bad.yml:11: enterprises[3].enterprise_id: required (a positive integer)",
		"testdata/enterprises/bad.yml:13: enterprises[3].inbound_calls.settle: must be between 1s and 30m0s (the counters lag the calls by it), got 0s",
		"testdata/enterprises/bad.yml:14: enterprises[3].inbound_calls.max_tracked: must be between 1000 and 1000000, got 10",
		`testdata/enterprises/bad.yml:17: enterprises[4].queues.refresh_interval: must be a duration with a unit, such as 30s, 5m or 1h30m, got "2d"`,
		"testdata/enterprises/bad.yml:18: enterprises[4].typo: unknown key; valid keys: enterprise_id, online_agents, inbound_calls, queues",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("error\n got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
