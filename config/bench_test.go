package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manyTasks is a valid configuration of n tasks in the block style of the
// example config.yml, two lines per task.
func manyTasks(n int) string {
	var b strings.Builder
	b.WriteString("endpoint: https://dyvmsapi.aliyuncs.com\ntasks:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - enterprise_id: %d\n    task_id: %d\n", 7000000+i/100, i%100+1)
	}
	return b.String()
}

// BenchmarkLoad10000Tasks: --config.check (and every reload) of 10,000
// tasks, file read included. The target is well under a second.
func BenchmarkLoad10000Tasks(b *testing.B) {
	path := filepath.Join(b.TempDir(), "config.yml")
	data := manyTasks(10000)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Tasks) != 10000 {
			b.Fatalf("%d tasks", len(cfg.Tasks))
		}
	}
}

// BenchmarkLoadAtSizeCap: the biggest file Load accepts, as many tasks as
// fit in MaxFileSize: what a reload or --config.check can cost at most
// with ordinary content.
func BenchmarkLoadAtSizeCap(b *testing.B) {
	n := 10000
	for len(manyTasks(n+1000)) <= MaxFileSize {
		n += 1000
	}
	path := filepath.Join(b.TempDir(), "config.yml")
	data := manyTasks(n)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "tasks")
}
