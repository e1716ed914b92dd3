package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCallRecordsDefaultsAndValues(t *testing.T) {
	cfg, err := Parse([]byte(`
tasks: [{enterprise_id: 7000002, task_id: 19}]
call_records:
  - enterprise_id: 7000002
  - enterprise_id: 7000003
    interval: 30s
    lateness: 0s
    settle: 5s
    max_tracked: 5000
`), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []CallRecords{
		{EnterpriseID: 7000002, Interval: time.Minute, Lateness: 15 * time.Minute, Settle: time.Minute, MaxTracked: 200_000},
		{EnterpriseID: 7000003, Interval: 30 * time.Second, Lateness: 0, Settle: 5 * time.Second, MaxTracked: 5000},
	}
	if !reflect.DeepEqual(cfg.CallRecords, want) {
		t.Fatalf("call_records = %+v, want %+v", cfg.CallRecords, want)
	}
	// Off by default.
	cfg, err = Parse([]byte("tasks: [{enterprise_id: 1, task_id: 2}]\n"), "c.yml")
	if err != nil || cfg.CallRecords != nil {
		t.Fatalf("without the key: %+v, %v", cfg.CallRecords, err)
	}
}

func TestCallRecordsErrorsNameFileLineAndField(t *testing.T) {
	_, err := Load("testdata/callrecords/bad.yml")
	if err == nil {
		t.Fatal("loaded")
	}
	want := []string{
		"testdata/callrecords/bad.yml:3: call_records[0].interval: must be between 10s and 1h0m0s (polling spends the account's quota), got 5s",
		"testdata/callrecords/bad.yml:4: call_records[0].lateness: must be between 0s and 6h0m0s (every poll reads it again), got 7h0m0s",
		"testdata/callrecords/bad.yml:5: call_records[1].enterprise_id: enterprise 7000002 already has a call_records entry at line 2",
		"testdata/callrecords/bad.yml:6: call_records[1].settle: must be between 1s and 30m0s (the counters lag the calls by it), got 0s",
		"testdata/callrecords/bad.yml:7: call_records[1].max_tracked: must be between 1000 and 1000000, got 10",
		`testdata/callrecords/bad.yml:8: call_records[2].interval: must be a duration with a unit, such as 30s, 5m or 1h30m, got "soon"`,
		"testdata/callrecords/bad.yml:8: call_records[2].enterprise_id: required (a positive integer)",
		"testdata/callrecords/bad.yml:10: call_records[3].lateness: must be between 0s and 6h0m0s (every poll reads it again), got -1m0s",
		"testdata/callrecords/bad.yml:11: call_records[3].typo: unknown key; valid keys: enterprise_id, interval, lateness, settle, max_tracked",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("error\n got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
