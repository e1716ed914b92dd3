package collector_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	cfg := simulator.Config{
		Seed:        1,
		Credentials: []simulator.Credential{{AccessKeyID: "testid", AccessKeySecret: "testsecret"}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 2}},
		Fixtures: []simulator.Fixture{
			{Enterprise: 7000002, Task: 19, File: example},
			{Enterprise: 7000002, Task: 20, File: variant},
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

// TestGoldenExposition: the vendor's example answer (task 19) and a variant
// with numbers as strings, limits set, an empty agent state and an absent
// idle time (task 20) → the exact exposition in testdata/golden.prom.
// Durations vary from run to run and are checked separately.
func TestGoldenExposition(t *testing.T) {
	api := goldenSetup(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.New(context.Background(), api, []collector.Task{{EnterpriseID: 7000002, TaskID: 19}, {EnterpriseID: 7000002, TaskID: 20}}, collector.Options{}))
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
	if durations != 2 {
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
