package callrecords

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// BenchmarkTrackedIDMemory measures what one record costs in the
// de-duplication memory (docs/call-records-poller.md's bytes per record
// and the max_tracked bound): records with the vendor's three ids, as the
// simulator writes them, admitted as the poller does. Reports bytes/record
// of live heap.
func BenchmarkTrackedIDMemory(b *testing.B) {
	const n = 200_000
	recs := make([]apiclient.CallRecord, n)
	for i := range recs {
		recs[i] = apiclient.CallRecord{UniqueID: apiclient.Text(fmt.Sprintf("uniq_19-%d.%d", 1741600000+i/7, 100000+i)),
			CallID: apiclient.Text(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919)), ID: apiclient.Text(strconv.Itoa(300000000 + i))}
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		mem := newMemory(1741600000 - 1)
		cur := &cursor{}
		for i := range recs {
			k, c := mem.keys(&recs[i])
			mem.admit(k, c, int64(1741600000+i/7), cur)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/record")
		runtime.KeepAlive(mem)
	}
}

// synthReader is an enterprise making perDay calls a day, evenly, over ten
// tasks, generated on the fly (no simulator, whose own memory would hide
// the poller's). It fails while down, counts the pages asked, and samples
// the live heap at each page: the peak of a catch-up.
type synthReader struct {
	perDay    int64
	down      bool
	pages     int
	peakHeap  uint64
	baseHeap  uint64
	samplesOn bool
}

func (s *synthReader) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	if s.down {
		return nil, &apiclient.Error{Operation: "CloudQueryPredictiveCallCdr", Code: "ServiceUnavailable", HTTPStatus: 503}
	}
	if s.samplesOn {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peakHeap = max(s.peakHeap, ms.HeapAlloc)
	}
	s.pages++
	// Call i ends at i*86400/perDay: the first index at or after a time.
	first := func(t int64) int64 { return (t*s.perDay + 86399) / 86400 }
	lo, hi := first(q.StartTime.Unix()), first(q.EndTime.Unix()+1) // [lo, hi)
	lo += q.Start
	n := min(int64(q.Limit), max(hi-lo, 0))
	out := make([]apiclient.CallRecord, n)
	for j := range n {
		i := lo + j
		end := i * 86400 / s.perDay
		out[j] = apiclient.CallRecord{
			UniqueID:  apiclient.Text(fmt.Sprintf("uniq_%d-%d.%d", 19+i%10, end-60, i)),
			CallID:    apiclient.Text(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919)),
			ID:        apiclient.Text(strconv.FormatInt(i, 10)),
			TaskID:    apiclient.Int64{Value: 19 + i%10, Valid: true},
			StartTime: apiclient.Int64{Value: end - 60, Valid: true}, EndTime: apiclient.Int64{Value: end, Valid: true},
			TotalDuration: apiclient.Int64{Value: 60, Valid: true},
		}
	}
	return out, nil
}

// CloudQueryPredictiveCallCdr reads a whole window, as the poller before
// issue 19 did: for comparing the benchmark with it.
func (s *synthReader) CloudQueryPredictiveCallCdr(ctx context.Context, q apiclient.CdrQuery) (*apiclient.CdrResult, error) {
	return apiclient.QueryCallRecords(ctx, s, q)
}

// BenchmarkCatchUpAfterADayOutage: an enterprise of 100,000 calls a day,
// the default entry, the API down for a day; then the polls catch up (due
// at once while behind). Reports the peak live heap during the catch-up
// above what it was before, the API requests (pages) it took and the
// calls counted. The second case, 10 million calls a day down for two
// hours, has windows of 416,000 records: a poll's memory is still bounded
// by max_tracked and a page, not by its window.
func BenchmarkCatchUpAfterADayOutage(b *testing.B) {
	for _, c := range []struct {
		name   string
		perDay int64
		outage time.Duration
	}{{"100k-a-day/1d", 100_000, 24 * time.Hour}, {"10M-a-day/2h", 10_000_000, 2 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) { benchCatchUp(b, c.perDay, c.outage) })
	}
}

func benchCatchUp(b *testing.B, perDay int64, outage time.Duration) {
	for b.Loop() {
		start := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
		clock := simulator.NewFakeClock(start)
		r := &synthReader{perDay: perDay}
		m := New(Options{Now: clock.Now})
		e := config.DefaultCallRecords
		e.EnterpriseID = ent
		m.Update(r, []config.CallRecords{e})
		clock.Advance(e.Interval)
		if err := m.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		r.down = true
		for range int(outage / (10 * time.Minute)) { // failed polls, every 10 minutes
			clock.Advance(10 * time.Minute)
			_ = m.Poll(context.Background())
		}
		r.down = false
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.baseHeap, r.peakHeap, r.pages, r.samplesOn = ms.HeapAlloc, ms.HeapAlloc, 0, true
		polls := 0
		for {
			polls++
			if err := m.Poll(context.Background()); err != nil {
				b.Fatal(err)
			}
			m.mu.Lock()
			wm := m.entries[ent].watermark
			m.mu.Unlock()
			if wm >= clock.Now().Add(-e.Settle).Unix() {
				break
			}
			if polls > 1000 {
				b.Fatal("no catching up")
			}
		}
		r.samplesOn = false
		var counted float64
		for task := int64(19); task < 29; task++ {
			counted += testutil.ToFloat64(m.m.series.(*predictive).outcomes[0].WithLabelValues(strconv.Itoa(ent), strconv.FormatInt(task, 10)))
		}
		b.ReportMetric(float64(r.peakHeap-r.baseHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(r.pages), "requests")
		b.ReportMetric(float64(polls), "polls")
		b.ReportMetric(counted, "calls")
	}
}
