package callrecords

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The poller's promises, as properties over many random hostile servers:
// pages that shrink, grow, repeat and reorder between requests, records
// late and replayed, ids changing form, failed and malformed answers, and
// the poller's clock stepped ahead and back. For each seed:
//
//   - no counter ever decreases;
//   - no call is counted twice: every outcome counter of a task is at most
//     what the calls that ended since the earliest counting start give;
//   - no call is lost silently: the calls counted plus those reported as
//     not counted (too_old: ended before the de-duplication memory could
//     tell) are at least the calls that ended while counting.
//
// Hiding faults (short pages, reordering) are drawn only without failing
// answers and clock steps: a record the server hides from every read is
// lost where no poller can see it (the API returns no total). With the
// lateness each record is read about 15 times, and a hiding fault of
// probability 0.2 hides it from all of them with a chance of 1e-11; but
// failing pages make the polls resume rather than start afresh (each
// record is then read a few times only), and a catch-up after a clock step
// reads it about once.
//
// Bounded in time: seeds run until the budget is spent (at least 4).
func TestPollerPropertiesUnderHostileServers(t *testing.T) {
	budget := 40 * time.Second
	if testing.Short() {
		budget = 8 * time.Second
	}
	// A longer search: DYVMS_PROPERTY_BUDGET=10m DYVMS_PROPERTY_SEED=100.
	if d, err := time.ParseDuration(os.Getenv("DYVMS_PROPERTY_BUDGET")); err == nil {
		budget = d
	}
	first, _ := strconv.ParseUint(os.Getenv("DYVMS_PROPERTY_SEED"), 10, 64)
	deadline := time.Now().Add(budget)
	seeds := 0
	for seed := max(first, 1); seeds < 4 || time.Now().Before(deadline); seed++ {
		seeds++
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { propertyRun(t, seed) })
		if t.Failed() {
			return
		}
	}
	t.Logf("%d seeds in %v", seeds, budget)
}

func propertyRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 19))
	p := func(lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	cfg := simConfig()
	cfg.Seed = int64(seed)
	e := testEntry
	e.Lateness = 15 * time.Minute
	steps := rng.IntN(3) == 0
	var rules []simulator.FaultRule
	add := func(chance float64, r simulator.FaultRule) {
		if rng.Float64() < chance {
			rules = append(rules, r)
		}
	}
	add(0.5, simulator.FaultRule{Kind: simulator.FaultLateRecord, Probability: p(0.01, 0.1), Delay: simulator.Duration(time.Duration(p(1, 7)) * time.Minute)})
	add(0.5, simulator.FaultRule{Kind: simulator.FaultDuplicateRecord, Probability: p(0.1, 1)})
	add(0.5, simulator.FaultRule{Kind: simulator.FaultIDForms, Probability: p(0.2, 1)})
	add(0.5, simulator.FaultRule{Kind: simulator.FaultReplay, Probability: p(0.1, 1), Count: 1 + rng.IntN(30)})
	if steps || rng.IntN(2) == 0 {
		add(0.5, simulator.FaultRule{Kind: simulator.FaultThrottle, Probability: p(0.02, 0.2), TimeLeft: simulator.Duration(time.Millisecond)})
		add(0.5, simulator.FaultRule{Kind: simulator.FaultUnavailable, Probability: p(0.02, 0.2)})
		add(0.5, simulator.FaultRule{Kind: simulator.FaultMalformed, Probability: p(0.02, 0.2)})
	} else {
		add(0.6, simulator.FaultRule{Kind: simulator.FaultPageSize, Probability: p(0.05, 0.2)})
		add(0.6, simulator.FaultRule{Kind: simulator.FaultReorder, Probability: p(0.05, 0.2)})
	}
	cfg.Faults.Rules = rules
	if rng.IntN(3) == 0 {
		e.MaxTracked = 100 + rng.IntN(400) // below what the lateness needs: memory forgets
	}
	w := newWorld(t, cfg)

	var mu sync.Mutex
	var skew time.Duration
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return w.clock.Now().Add(skew)
	}
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: now})
	m.pageLimit = []int{30, 100, 1000}[rng.IntN(3)]
	m.Update(w.client, []config.CallRecords{e})
	minSince := int64(1 << 62)
	var prev map[string]series
	check := func() {
		fams := gather(t, reg)
		minSince = min(minSince, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]))
		for name, s := range prev {
			if !strings.HasSuffix(name, "_total") && !strings.HasSuffix(name, "_count") && !strings.HasSuffix(name, "_bucket") {
				continue
			}
			for k, v := range s {
				if fams[name][k] < v {
					t.Fatalf("%s{%s} went down from %v to %v", name, k, v, fams[name][k])
				}
			}
		}
		prev = fams
	}
	stepAt, backAt := -1, -1
	if steps {
		stepAt = rng.IntN(15)
		backAt = stepAt + 1 + rng.IntN(15)
	}
	for i := range 40 {
		mu.Lock()
		switch i {
		case stepAt:
			skew = time.Duration(p(10, 180)) * time.Minute
		case backAt:
			skew = 0
		}
		mu.Unlock()
		w.clock.Advance(e.Interval)
		_ = m.Poll(context.Background())
		check()
	}
	// Quiet: the server behaves, and the poller catches up and re-reads
	// its lateness.
	if err := w.sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	for range int(e.Lateness/e.Interval) + 3 {
		w.clock.Advance(e.Interval)
		for range 5 { // polls due at once while catching up
			_ = m.Poll(context.Background())
		}
		check()
	}
	fams := prev
	wm := int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()])
	since := int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()])
	upTo := w.truth(t, minSince, wm)
	inCount := w.truth(t, since, wm)
	tooOld := fams["dyvms_call_records_invalid_total"][entKey()+",reason=too_old"]
	var counted, want float64
	for _, task := range []int64{19, 20} {
		got, most := countedOf(fams, task), countedOf(upTo, task)
		for name, v := range got {
			if v > most[name] {
				t.Errorf("faults %v: task %d %s = %v, more than the %v calls that ended since %d: counted twice", kinds(rules), task, name, v, most[name], minSince)
			}
		}
		counted += got["dyvms_calls_dialled_total"]
		want += countedOf(inCount, task)["dyvms_calls_dialled_total"]
	}
	if counted+tooOld < want {
		t.Errorf("faults %v, steps %v, max_tracked %d: %v counted and %v reported too old, of %v calls that ended while counting: lost silently",
			kinds(rules), steps, e.MaxTracked, counted, tooOld, want)
	}
	if all := countedOf(upTo, 19)["dyvms_calls_dialled_total"] + countedOf(upTo, 20)["dyvms_calls_dialled_total"]; all < 500 {
		t.Errorf("only %v calls: the run means little", all)
	}
}

func countedOf(fams map[string]series, task int64) map[string]float64 { return counted(fams, task) }

func kinds(rules []simulator.FaultRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Kind)
	}
	return out
}
