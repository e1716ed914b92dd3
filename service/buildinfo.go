package service

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
)

// init fills in the version when the build did not stamp one with
// -ldflags (go run, go install): the module version Go recorded, so that
// build_info and the User-Agent never say "".
func init() {
	if version.Version != "" {
		return
	}
	version.Version = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version.Version = bi.Main.Version
	}
}

// buildInfo is dyvms_exporter_build_info{version,revision,branch,goversion,...} 1,
// so a dashboard can tell which build produced a number.
func buildInfo() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "dyvms",
		Subsystem: "exporter",
		Name:      "build_info",
		Help:      "Version of the exporter that serves these metrics; always 1.",
		ConstLabels: prometheus.Labels{
			"version":   version.Version,
			"revision":  version.GetRevision(),
			"branch":    version.Branch,
			"goversion": version.GoVersion,
			"goos":      version.GoOS,
			"goarch":    version.GoArch,
		},
	}, func() float64 { return 1 })
}
