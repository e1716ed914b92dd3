package callrecords

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkTrackedIDMemory measures what one de-duplication entry costs
// (the README's "about 70 bytes per id" and the max_tracked bound): ids
// in the vendor's format, as the simulator writes them, in the map the
// poller keeps. Reports bytes/id of live heap.
func BenchmarkTrackedIDMemory(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		seen := map[string]int64{}
		for i := range n {
			seen[fmt.Sprintf("uniq_19-%d.%d", 1741600000+i/7, 100000+i)] = int64(1741600000 + i/7)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/id")
		runtime.KeepAlive(seen)
	}
}
