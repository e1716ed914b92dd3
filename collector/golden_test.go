package collector_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenSetup serves fixed answers through the simulator, so the request is
// signed and checked exactly as in production, and returns a real client.
func goldenSetup(t *testing.T) *apiclient.Client {
	t.Helper()
	example, err := filepath.Abs("../apiclient/testdata/cloudmonitortask_example.json")
	if err != nil {
		t.Fatal(err)
	}
	variant, _ := filepath.Abs("testdata/variant_strings.json")
	distinct, _ := filepath.Abs("testdata/distinct_values.json")
	odd, _ := filepath.Abs("testdata/odd_fields.json")
	cfg := simulator.Config{
		Seed:        1,
		Credentials: []simulator.Credential{{AccessKeyID: "testid", AccessKeySecret: "testsecret"}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 2}},
		Fixtures: []simulator.Fixture{
			{Enterprise: 7000002, Task: 19, File: example},
			{Enterprise: 7000002, Task: 20, File: variant},
			{Enterprise: 7000002, Task: 21, File: distinct},
			{Enterprise: 7000002, Task: 22, File: odd},
		},
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    srv.URL,
		Credentials: apiclient.StaticCredentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goldenTasks are the fixtures of goldenSetup.
var goldenTasks = []collector.Task{{EnterpriseID: 7000002, TaskID: 19}, {EnterpriseID: 7000002, TaskID: 20}, {EnterpriseID: 7000002, TaskID: 21}, {EnterpriseID: 7000002, TaskID: 22}}

// TestGoldenExposition: the vendor's example answer (task 19); a variant
// with numbers as strings, limits set, an empty agent state and an absent
// idle time (task 20); an answer in which every number is different (task
// 21, see TestDistinctValuesFixture), so that a metric fed from the wrong
// field changes the exposition; and one with unreadable and fractional
// values (task 22) → the exact exposition in testdata/golden.prom.
// Durations vary from run to run and are checked separately.
func TestGoldenExposition(t *testing.T) {
	api := goldenSetup(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.New(context.Background(), api, goldenTasks, collector.Options{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	durations := 0
	for _, mf := range mfs {
		if mf.GetName() == "dyvms_task_scrape_duration_seconds" {
			durations = len(mf.Metric)
			continue
		}
		names = append(names, mf.GetName())
	}
	if durations != len(goldenTasks) {
		t.Errorf("%d scrape durations, want one per task", durations)
	}
	sort.Strings(names)

	golden := filepath.Join("testdata", "golden.prom")
	if *update {
		var b strings.Builder
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if mf.GetName() != "dyvms_task_scrape_duration_seconds" {
				if err := enc.Encode(mf); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(reg, f, names...); err != nil {
		t.Error(err)
	}
}

// TestDistinctValuesFixture keeps task 21's fixture what the golden test
// needs: every numeric field of the answer present, readable and different
// from every other (the Status enum and the ids aside, which no gauge
// shows), and the two statistic blocks' times different, so that swapping
// any two getters changes the exposition.
func TestDistinctValuesFixture(t *testing.T) {
	body, err := os.ReadFile("testdata/distinct_values.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := apiclient.DecodeCloudMonitorTask(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Data.Unreadable != nil {
		t.Fatalf("unreadable: %+v", r.Data.Unreadable)
	}
	seen := map[float64]string{}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch x := v.Interface().(type) {
		case apiclient.Float64:
			if !x.Valid {
				t.Errorf("%s is absent", path)
			} else if other, dup := seen[x.Value]; dup {
				t.Errorf("%s = %v, as %s", path, x.Value, other)
			}
			seen[x.Value] = path
			return
		case apiclient.Time:
			if !x.Valid {
				t.Errorf("%s is absent", path)
			} else if other, dup := seen[float64(x.Time.Unix())]; dup {
				t.Errorf("%s = %v, as %s", path, x.Time, other)
			}
			seen[float64(x.Time.Unix())] = path
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() && f.Name != "Unreadable" {
					walk(v.Field(i), path+"."+f.Name)
				}
			}
		case reflect.Slice:
			if v.Len() == 0 && v.Type().Elem().Kind() == reflect.Struct {
				t.Errorf("%s is empty", path)
			}
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(reflect.ValueOf(*r.Data), "Data")
	// 2 × 5 statistic counts, 7 channel and 6 agent counts, 3 agents × 10, 4 times.
	if len(seen) != 2*5+7+6+3*10+4 {
		t.Errorf("%d distinct values, want every numeric field", len(seen))
	}
}
