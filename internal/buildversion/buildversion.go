// Package buildversion gives every build of the exporter a version, a
// revision and a build date, however it was built, so that --version,
// the startup log and dyvms_exporter_build_info can tell a fleet's builds
// apart.
//
// A release build (cmd/dyvms-release) sets the variables of
// github.com/prometheus/common/version with -ldflags -X, as the Prometheus
// projects do, and Fill leaves them alone. Any other build falls back on
// what the Go toolchain recorded in the binary (runtime/debug.BuildInfo):
//   - `go install github.com/dyvms-community/dyvms_exporter@v0.1.0`: the
//     module version, v0.1.0, written as 0.1.0 like a release build;
//   - `go build -buildvcs=true` in a git checkout: the VERSION file with
//     "-devel" (the tree is not a release, whatever VERSION says), the
//     commit (vcs.revision, with "-modified" when the tree had changes, as
//     prometheus/common/version says it) and the commit time (vcs.time).
//
// Without either (a build with -buildvcs=false outside a module version)
// the revision and date say "unknown" rather than nothing.
package buildversion

import (
	"regexp"
	"runtime/debug"
	"strings"

	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
)

// Program is the name --version prints and the build_info metric's prefix.
const Program = "dyvms_exporter"

// Vars are the build variables of prometheus/common/version that Fill
// completes. Revision is not among them: version.GetRevision already falls
// back on vcs.revision and vcs.modified.
type Vars struct {
	Version, Branch, BuildUser, BuildDate string
}

// pseudoVersion matches the versions Go makes up for an untagged commit
// (v0.0.0-20261206230000-0123456789ab, vX.Y.(Z+1)-0.2026...-rev, with
// +dirty when the tree was modified): they name no release.
var pseudoVersion = regexp.MustCompile(`(^|[-.])\d{14}-[0-9a-f]{12}(\+dirty)?$|\+dirty$`)

// Complete fills every empty field of v from the build information bi
// (nil when the binary has none) and fileVersion, the content of the
// repository's VERSION file the binary was built from ("" if unknown).
func Complete(v Vars, bi *debug.BuildInfo, fileVersion string) Vars {
	fileVersion = strings.TrimSpace(fileVersion)
	settings := map[string]string{}
	mainVersion := ""
	if bi != nil {
		mainVersion = bi.Main.Version
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	if v.Version == "" {
		switch {
		case mainVersion != "" && mainVersion != "(devel)" && !pseudoVersion.MatchString(mainVersion):
			v.Version = strings.TrimPrefix(mainVersion, "v")
		case fileVersion != "":
			v.Version = fileVersion + "-devel"
		default:
			v.Version = "unknown"
		}
	}
	if v.BuildDate == "" {
		// The commit's time: a plain build has no other date that two
		// builds of the same commit would agree on.
		v.BuildDate = settings["vcs.time"]
		if v.BuildDate == "" {
			v.BuildDate = "unknown"
		}
	}
	if v.Branch == "" {
		// Go's VCS stamping does not record the branch.
		v.Branch = "unknown"
	}
	if v.BuildUser == "" {
		v.BuildUser = "unknown"
	}
	return v
}

// Fill completes the variables of prometheus/common/version for this
// binary. fileVersion is the VERSION file embedded by the main package.
// Call it before anything reads those variables (the main package's init).
func Fill(fileVersion string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	v := Complete(Vars{Version: version.Version, Branch: version.Branch, BuildUser: version.BuildUser, BuildDate: version.BuildDate}, bi, fileVersion)
	version.Version, version.Branch, version.BuildUser, version.BuildDate = v.Version, v.Branch, v.BuildUser, v.BuildDate
}

// Collector is dyvms_exporter_build_info: client_golang's standard build
// information collector (version, revision, branch, goversion, goos,
// goarch, tags), with the build date added, which the issue that asked for
// it wanted on the metric as well as in --version.
func Collector() prometheus.Collector {
	return versioncollector.NewCollector(Program, versioncollector.WithExtraConstLabels(prometheus.Labels{"builddate": version.BuildDate}))
}
