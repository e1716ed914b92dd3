package callrecords

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// loc is the call centre's zone in every test.
var loc = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// t0 is 17:30 in Shanghai on a Monday in March: no month boundary near.
var t0 = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)

const ent = 7000002

var cred = simulator.Credential{AccessKeyID: "LTAIcdrtest", AccessKeySecret: "cdrsecret0123456789"}

// simConfig is one enterprise with two predictive tasks that dial a lot.
func simConfig() simulator.Config {
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	n := func(v int) *int { return &v }
	p := func(v float64) *float64 { return &v }
	return simulator.Config{
		Seed:        3,
		Credentials: []simulator.Credential{cred},
		Enterprises: []simulator.Enterprise{{ID: ent, Channels: 40, Tasks: []simulator.Task{
			{ID: 19, Agents: n(12), Numbers: n(1_000_000), StartedAgo: d(time.Hour), DialRatio: 2.5, AnswerProbability: p(0.6), TalkMean: d(40 * time.Second)},
			{ID: 20, Agents: n(6), Numbers: n(1_000_000), StartedAgo: d(time.Hour), DialRatio: 1.5, AnswerProbability: p(0.4), TalkMean: d(30 * time.Second)},
		}}},
	}
}

// world is a simulator on a fake clock and a client of it.
type world struct {
	sim    *simulator.Simulator
	clock  *simulator.FakeClock
	client *apiclient.Client
}

func newWorld(t *testing.T, cfg simulator.Config) *world {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	clock := simulator.NewFakeClock(t0)
	sim, err := simulator.New(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(apiclient.Options{Endpoint: srv.URL, Location: loc, Now: clock.Now,
		Credentials: apiclient.StaticCredentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, clock: clock, client: c}
}

var testEntry = config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: 10 * time.Minute, Settle: 30 * time.Second, MaxTracked: 200_000}

// poller is a Manager on the world's clock with its own registry.
func (w *world) poller(t *testing.T, e config.CallRecords, o Options) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Registerer, o.Now = reg, w.clock.Now
	m := New(o)
	m.Update(w.client, []config.CallRecords{e})
	return m, reg
}

// run advances the clock by an interval n times and polls after each.
func (w *world) run(t *testing.T, m *Manager, n int, every time.Duration) []error {
	t.Helper()
	var errs []error
	for range n {
		w.clock.Advance(every)
		if err := m.Poll(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// series is a gathered family's samples by their labels ("k=v,k=v").
type series map[string]float64

// gather reads every family of reg; histograms as their _count and
// _bucket{le} samples.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]series {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]series{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			key := strings.Join(ls, ",")
			put := func(name, key string, v float64) {
				if out[name] == nil {
					out[name] = series{}
				}
				out[name][key] = v
			}
			switch {
			case m.Counter != nil:
				put(f.GetName(), key, m.Counter.GetValue())
			case m.Gauge != nil:
				put(f.GetName(), key, m.Gauge.GetValue())
			case m.Histogram != nil:
				put(f.GetName()+"_count", key, float64(m.Histogram.GetSampleCount()))
				for _, b := range m.Histogram.GetBucket() {
					put(f.GetName()+"_bucket", key+fmt.Sprintf(",le=%g", b.GetUpperBound()), float64(b.GetCumulativeCount()))
				}
			}
		}
	}
	return out
}

func taskKey(task int64) string { return fmt.Sprintf("enterprise_id=%d,task_id=%d", ent, task) }
func entKey() string            { return fmt.Sprintf("enterprise_id=%d", ent) }

// truth reads, straight from the simulator with a fresh client, every
// record that ended in [from, to] and classifies it with the same table:
// what the poller must have counted, however its windows went.
func (w *world) truth(t *testing.T, from, to int64) map[string]series {
	t.Helper()
	res, err := w.client.CloudQueryPredictiveCallCdr(context.Background(), apiclient.CdrQuery{EnterpriseID: ent,
		StartTime: time.Unix(from, 0), EndTime: time.Unix(to, 0), TimeRangeType: apiclient.CdrByEndTime})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg})
	seen := map[string]bool{}
	for _, r := range res.Records {
		if !seen[r.Key()] {
			seen[r.Key()] = true
			m.m.observe(fmt.Sprint(ent), fmt.Sprint(r.TaskID.Value), readCall(&r))
		}
	}
	return gather(t, reg)
}

// counted is the poller's outcome counters and histogram counts of a task.
func counted(fams map[string]series, task int64) map[string]float64 {
	out := map[string]float64{}
	for _, o := range outcomes {
		out[o.name] = fams[o.name][taskKey(task)]
	}
	for _, h := range []string{"dyvms_call_answer_to_agent_wait_seconds_count", "dyvms_call_talk_duration_seconds_count", "dyvms_call_duration_seconds_count"} {
		out[h] = fams[h][taskKey(task)]
	}
	return out
}
