package pacer

import (
	"context"
	"testing"
	"time"
)

// The pacer's own cost per call, without network: what it adds to every
// task of every scrape.

func BenchmarkCall(b *testing.B) {
	p := New(&fakeAPI{}, NewLimiter(LimiterConfig{RequestsPerSecond: 1e9, Burst: 1 << 30}), Config{MaxRetries: 2}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	for i := 0; b.Loop(); i++ {
		if _, err := p.CloudMonitorTask(ctx, 1, int64(i%100)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheHit(b *testing.B) {
	p := New(&fakeAPI{}, NewLimiter(LimiterConfig{RequestsPerSecond: 1e9, Burst: 1 << 30}), Config{MinInterval: time.Hour}, nil)
	ctx := context.Background()
	p.CloudMonitorTask(ctx, 1, 1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.CloudMonitorTask(ctx, 1, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCallParallelSameTask(b *testing.B) {
	p := New(&fakeAPI{}, NewLimiter(LimiterConfig{RequestsPerSecond: 1e9, Burst: 1 << 30}), Config{}, nil)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.CloudMonitorTask(ctx, 1, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
