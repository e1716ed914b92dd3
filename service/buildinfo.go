package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/internal/buildversion"
)

// buildInfo is dyvms_exporter_build_info{version,revision,branch,builddate,
// goversion,goos,goarch,tags} 1, so a dashboard can tell which build
// produced a number. The main package fills the version variables first
// (internal/buildversion).
func buildInfo() prometheus.Collector { return buildversion.Collector() }
