package callrecords

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// inboundConfig is simConfig with two busy queues served by the tasks'
// agents: some callers are answered, some abandon, some overflow.
func inboundConfig() simulator.Config {
	cfg := simConfig()
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	cfg.Enterprises[0].Inbound = &simulator.Inbound{TalkMean: d(90 * time.Second), Queues: []simulator.InboundQueue{
		{Qno: "1000", Name: "after-sales", CallsPerHour: 600, ServiceLevel: d(15 * time.Second), Patience: d(40 * time.Second)},
		{Qno: "1001", Name: "complaints", CallsPerHour: 200, Timeout: d(30 * time.Second), Patience: d(5 * time.Minute)},
	}}
	return cfg
}

// inboundTruth reads every inbound record that ended in [from, to] with a
// fresh client and classifies each distinct call with the same table.
func (w *world) inboundTruth(t *testing.T, from, to int64) map[string]series {
	t.Helper()
	res, err := w.client.CloudQueryIbCdr(context.Background(), apiclient.CdrQuery{EnterpriseID: ent,
		StartTime: time.Unix(from, 0), EndTime: time.Unix(to, 0), TimeRangeType: apiclient.CdrByEndTime})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	k := newInbound()
	reg.MustRegister(k.collectors()...)
	seen := map[string]bool{}
	for i := range res.Records {
		r := &res.Records[i]
		if !seen[r.Key()] {
			seen[r.Key()] = true
			k.observe(fmt.Sprint(ent), InboundQueue(r), r)
		}
	}
	return gather(t, reg)
}

// inboundCounted is the inbound calls counted by queue and outcome, and
// the histogram counts, of one registry.
func inboundCounted(fams map[string]series) map[string]float64 {
	out := map[string]float64{}
	for k, v := range fams["dyvms_inbound_calls_total"] {
		if v > 0 {
			out[k] = v
		}
	}
	for _, h := range []string{"dyvms_inbound_answer_wait_seconds_count", "dyvms_inbound_abandon_wait_seconds_count"} {
		for k, v := range fams[h] {
			if v > 0 {
				out[h+"{"+k+"}"] = v
			}
		}
	}
	return out
}

// TestInboundPollerCountsEveryCallOnce: the inbound poller, the
// predictive one's core over CloudQueryIbCdr, counts every inbound call
// of the simulator once, by queue and outcome, through duplicated pages,
// throttling, malformed answers and outages, and its health series are
// under their own prefix.
func TestInboundPollerCountsEveryCallOnce(t *testing.T) {
	cfg := inboundConfig()
	cfg.Faults.Rules = []simulator.FaultRule{
		{Kind: simulator.FaultDuplicateRecord},
		{Kind: simulator.FaultThrottle, Probability: 0.1, TimeLeft: simulator.Duration(time.Millisecond)},
		{Kind: simulator.FaultMalformed, Probability: 0.05},
		{Kind: simulator.FaultUnavailable, Probability: 0.05},
	}
	w := newWorld(t, cfg)
	e := testEntry
	start := w.clock.Now()
	reg := prometheus.NewRegistry()
	m := NewInbound(Options{Registerer: reg, Now: w.clock.Now, Queues: func(int64) []string { return []string{"1000", "1001", "1002"} }})
	m.pageLimit = 20
	m.UpdateInbound(w.client, []config.CallRecords{e})
	errs := w.run(t, m, 40, e.Interval)
	if len(errs) == 0 {
		t.Fatal("no poll failed: the faults did not apply")
	}
	if err := w.sim.SetFaults(simulator.Faults{Rules: cfg.Faults.Rules[:1]}); err != nil {
		t.Fatal(err)
	}
	w.run(t, m, 3, e.Interval)
	fams := gather(t, reg)
	upper := fams["dyvms_inbound_call_records_watermark_timestamp_seconds"][entKey()]
	since := fams["dyvms_inbound_call_records_counting_since_timestamp_seconds"][entKey()]
	if since != float64(start.Add(-e.Settle).Unix()+1) || upper != float64(w.clock.Now().Add(-e.Settle).Unix()) {
		t.Fatalf("counting since %v, watermark %v", since, upper)
	}
	want := inboundCounted(w.inboundTruth(t, int64(since), int64(upper)))
	got := inboundCounted(fams)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counted\n %v\nwant\n %v", got, want)
	}
	q := func(queue, outcome string) string {
		return fmt.Sprintf("enterprise_id=%d,outcome=%s,queue=%s", ent, outcome, queue)
	}
	if want[q("1000", "answered")] < 50 || want[q("1000", "abandoned_in_queue")] == 0 {
		t.Errorf("too few calls to mean anything: %v", want)
	}
	// A listed queue without calls has its series at 0 from the start.
	if v, ok := fams["dyvms_inbound_calls_total"][q("1002", "answered")]; !ok || v != 0 {
		t.Errorf("listed queue 1002: %v %v", v, ok)
	}
	if fams["dyvms_inbound_call_records_duplicates_total"][entKey()] == 0 {
		t.Error("the duplicated pages left no trace")
	}
	for _, code := range []string{"Throttling.User", "bad_response"} {
		if fams["dyvms_inbound_call_records_errors_total"]["account=default,code="+code+","+entKey()] == 0 {
			t.Errorf("no error counted with code %s: %v", code, fams["dyvms_inbound_call_records_errors_total"])
		}
	}
	if len(fams["dyvms_call_records_pages_total"]) != 0 || fams["dyvms_inbound_call_records_pages_total"][entKey()] == 0 {
		t.Errorf("health series under the wrong prefix: %v", fams["dyvms_call_records_pages_total"])
	}
}

// fakeInbound answers every page with the records of its window, once a
// page: enough to test what the poller does with what a server sends.
type fakeInbound struct{ recs []apiclient.InboundRecord }

func (f *fakeInbound) CloudQueryIbCdrPage(_ context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	var in []apiclient.InboundRecord
	for _, r := range f.recs {
		if r.EndTime.Value >= q.StartTime.Unix() && r.EndTime.Value <= q.EndTime.Unix() {
			in = append(in, r)
		}
	}
	in = in[min(int(q.Start), len(in)):]
	return in[:min(len(in), q.Limit)], nil
}

// TestInboundQueuesAreBounded: a server that sends more queues than
// MaxQueues, or a Qno that is no queue number, cannot grow the series:
// the calls past the bound are reported, not counted.
func TestInboundQueuesAreBounded(t *testing.T) {
	now := t0
	f := &fakeInbound{}
	end := now.Add(-2 * time.Minute).Unix()
	for i := range MaxQueues + 50 {
		f.recs = append(f.recs, apiclient.InboundRecord{UniqueID: apiclient.Text("u" + strconv.Itoa(i)), Qno: apiclient.Text(strconv.Itoa(5000 + i)),
			StartTime: apiclient.Int64{Value: end - 30, Valid: true}, BridgeTime: apiclient.Int64{Value: end - 20, Valid: true},
			EndTime: apiclient.Int64{Value: end, Valid: true}, StatusCode: apiclient.Int64{Value: 1, Valid: true}})
	}
	for i, bad := range []string{"13800138000 Zhang San", string(make([]byte, 40)), "a/b"} {
		f.recs = append(f.recs, apiclient.InboundRecord{UniqueID: apiclient.Text("bad" + strconv.Itoa(i)), Qno: apiclient.Text(bad),
			EndTime: apiclient.Int64{Value: end, Valid: true}, StatusCode: apiclient.Int64{Value: 15, Valid: true}})
	}
	f.recs = append(f.recs, apiclient.InboundRecord{UniqueID: "ivr", Qno: "-1", EndTime: apiclient.Int64{Value: end, Valid: true}, StatusCode: apiclient.Int64{Value: 3, Valid: true}})
	clock := now.Add(-10 * time.Minute)
	reg := prometheus.NewRegistry()
	m := NewInbound(Options{Registerer: reg, Now: func() time.Time { return clock }})
	m.UpdateInbound(f, []config.CallRecords{testEntry})
	clock = now
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	queues := map[string]bool{}
	total := 0.0
	for k, v := range fams["dyvms_inbound_calls_total"] {
		queues[k[strings.Index(k, "queue="):]] = true
		total += v
	}
	inv := fams["dyvms_inbound_call_records_invalid_total"]
	// The calls that reached no queue count beside the bounded queues.
	if len(queues) != MaxQueues+1 || total != MaxQueues+1 || fams["dyvms_inbound_calls_total"][entKey()+",outcome=ivr_only,queue=none"] != 1 ||
		inv[entKey()+",reason=too_many_queues"] != 50 || inv[entKey()+",reason=bad_queue"] != 3 {
		t.Errorf("%d queues, %v calls counted, invalid %v", len(queues), total, inv)
	}
	for k := range fams["dyvms_inbound_calls_total"] {
		if len(k) > 80 {
			t.Errorf("a long label: %q", k)
		}
	}
}

// hostileInbound serves the simulator's inbound records the way the
// predictive simulator's record faults do (which its CloudQueryIbCdr does
// not have): the window's list in another order for one request, so that
// its pages disagree with the others' (reorder); old records of the hour
// before the window added to a page (replay); the same record as the last
// of one page and the first of the next (shift). on turns them off.
type hostileInbound struct {
	c   *apiclient.Client
	rng *rand.Rand
	on  bool
}

func (h *hostileInbound) CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	all, err := h.c.CloudQueryIbCdr(ctx, apiclient.CdrQuery{EnterpriseID: q.EnterpriseID, StartTime: q.StartTime, EndTime: q.EndTime, TimeRangeType: q.TimeRangeType})
	if err != nil {
		return nil, err
	}
	list := all.Records
	start := int(q.Start)
	if h.on && h.rng.Float64() < 0.2 {
		h.rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	}
	if h.on && start > 0 && h.rng.Float64() < 0.3 {
		start--
	}
	page := list[min(start, len(list)):]
	page = slices.Clone(page[:min(len(page), q.Limit)])
	if h.on && h.rng.Float64() < 0.3 {
		old, err := h.c.CloudQueryIbCdr(ctx, apiclient.CdrQuery{EnterpriseID: q.EnterpriseID,
			StartTime: q.StartTime.Add(-time.Hour), EndTime: q.StartTime.Add(-time.Second), TimeRangeType: q.TimeRangeType})
		if err == nil && len(old.Records) > 0 && len(page) == q.Limit {
			page = append(page, old.Records[h.rng.IntN(len(old.Records))])
		}
	}
	return page, nil
}

// TestInboundPollerUnderHostilePages: pages that reorder, shift and
// replay old records between requests count no call twice, and once the
// server behaves, every call is counted.
func TestInboundPollerUnderHostilePages(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cfg := inboundConfig()
			cfg.Seed = int64(seed) + 11
			w := newWorld(t, cfg)
			e := testEntry
			h := &hostileInbound{c: w.client, rng: rand.New(rand.NewPCG(seed, 20)), on: true}
			start := w.clock.Now()
			reg := prometheus.NewRegistry()
			m := NewInbound(Options{Registerer: reg, Now: w.clock.Now})
			m.pageLimit = 15
			m.UpdateInbound(h, []config.CallRecords{e})
			w.run(t, m, 30, e.Interval)
			h.on = false
			w.run(t, m, int(e.Lateness/e.Interval)+2, e.Interval)
			fams := gather(t, reg)
			upper := fams["dyvms_inbound_call_records_watermark_timestamp_seconds"][entKey()]
			since := fams["dyvms_inbound_call_records_counting_since_timestamp_seconds"][entKey()]
			if since != float64(start.Add(-e.Settle).Unix()+1) {
				t.Fatalf("counting since %v", since)
			}
			want := inboundCounted(w.inboundTruth(t, int64(since), int64(upper)))
			if got := inboundCounted(fams); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("counted\n %v\nwant\n %v", got, want)
			}
			if fams["dyvms_inbound_call_records_duplicates_total"][entKey()] == 0 {
				t.Error("the hostile pages left no trace")
			}
		})
	}
}
