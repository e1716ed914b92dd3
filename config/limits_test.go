package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLimitsAtAndPastTheEdge: every documented limit of the file is
// accepted at the limit and refused one step past it, naming the field;
// a limit tested only far from its edge lets an off-by-one through.
func TestLimitsAtAndPastTheEdge(t *testing.T) {
	const task = "tasks: [{enterprise_id: 1, task_id: 2}]\n"
	cr := func(key, v string) string {
		return task + fmt.Sprintf("call_records:\n  - {enterprise_id: 1, %s: %s}\n", key, v)
	}
	api := func(key, v string) string { return task + fmt.Sprintf("api: {%s: %s}\n", key, v) }
	disc := func(v string) string {
		return task + fmt.Sprintf("discovery:\n  - {enterprise_id: 1, types: [1], refresh_interval: %s}\n", v)
	}
	d := func(x time.Duration) string { return x.String() }
	for _, c := range []struct {
		field    string
		ok, past string // a file at the limit, one step past it
	}{
		{"api.max_retries", api("max_retries", "0"), api("max_retries", "-1")},
		{"api.max_retries", api("max_retries", fmt.Sprint(MaxRetries)), api("max_retries", fmt.Sprint(MaxRetries+1))},
		{"api.burst", api("burst", "1"), api("burst", "0")},
		{"api.concurrency", api("concurrency", "1"), api("concurrency", "0")},
		{"api.min_interval", api("min_interval", "0s"), api("min_interval", "-1ns")},
		{"api.requests_per_second", api("requests_per_second", "0.001"), api("requests_per_second", "0")},
		{"discovery[0].refresh_interval", disc(d(MinRefreshInterval)), disc(d(MinRefreshInterval - time.Second))},
		{"call_records[0].interval", cr("interval", d(MinCallRecordsInterval)), cr("interval", d(MinCallRecordsInterval-time.Second))},
		{"call_records[0].interval", cr("interval", d(MaxCallRecordsInterval)), cr("interval", d(MaxCallRecordsInterval+time.Second))},
		{"call_records[0].lateness", cr("lateness", "0s"), cr("lateness", "-1s")},
		{"call_records[0].lateness", cr("lateness", d(MaxCallRecordsLateness)), cr("lateness", d(MaxCallRecordsLateness+time.Second))},
		{"call_records[0].settle", cr("settle", "1s"), cr("settle", "999ms")},
		{"call_records[0].settle", cr("settle", d(MaxCallRecordsSettle)), cr("settle", d(MaxCallRecordsSettle+time.Second))},
		{"call_records[0].max_tracked", cr("max_tracked", "1000"), cr("max_tracked", "999")},
		{"call_records[0].max_tracked", cr("max_tracked", fmt.Sprint(MaxCallRecordsTracked)), cr("max_tracked", fmt.Sprint(MaxCallRecordsTracked+1))},
	} {
		if _, err := Parse([]byte(c.ok), "x.yml"); err != nil {
			t.Errorf("%s at the limit refused:\n%s\n%v", c.field, c.ok, err)
		}
		_, err := Parse([]byte(c.past), "x.yml")
		if err == nil || !strings.Contains(err.Error(), ": "+c.field+": ") {
			t.Errorf("%s one step past the limit: %v, want an error naming it\n%s", c.field, err, c.past)
		}
	}
}
