package buildversion

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/version"
)

func info(mainVersion string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/dyvms-community/dyvms_exporter", Version: mainVersion}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestComplete(t *testing.T) {
	vcs := []string{"vcs", "git", "vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.time", "2026-12-06T23:00:00Z", "vcs.modified", "false"}
	for _, c := range []struct {
		name string
		in   Vars
		bi   *debug.BuildInfo
		file string
		want Vars
	}{
		{"release build: ldflags win", Vars{"0.1.0", "HEAD", "release", "2026-12-06T23:00:00Z"}, info("(devel)", vcs...), "0.2.0",
			Vars{"0.1.0", "HEAD", "release", "2026-12-06T23:00:00Z"}},
		{"go install @v0.1.0: the module version", Vars{}, info("v0.1.0"), "0.1.0",
			Vars{"0.1.0", "unknown", "unknown", "unknown"}},
		{"go install of a pre-release tag", Vars{}, info("v0.2.0-rc.1"), "0.2.0",
			Vars{"0.2.0-rc.1", "unknown", "unknown", "unknown"}},
		{"go build -buildvcs=true in a checkout (Go < 1.24)", Vars{}, info("(devel)", vcs...), "0.1.0\n",
			Vars{"0.1.0-devel", "unknown", "unknown", "2026-12-06T23:00:00Z"}},
		{"go build in an untagged checkout: a pseudo-version is no release", Vars{}, info("v0.0.0-20261206230000-0123456789ab", vcs...), "0.1.0",
			Vars{"0.1.0-devel", "unknown", "unknown", "2026-12-06T23:00:00Z"}},
		{"go build after a tag", Vars{}, info("v0.1.1-0.20261206230000-0123456789ab", vcs...), "0.1.1",
			Vars{"0.1.1-devel", "unknown", "unknown", "2026-12-06T23:00:00Z"}},
		{"go build on a tag with changes", Vars{}, info("v0.1.0+dirty", vcs...), "0.1.0",
			Vars{"0.1.0-devel", "unknown", "unknown", "2026-12-06T23:00:00Z"}},
		{"nothing known", Vars{}, nil, "",
			Vars{"unknown", "unknown", "unknown", "unknown"}},
	} {
		if got := Complete(c.in, c.bi, c.file); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// The metric is client_golang's standard one, under the exporter's name,
// with the build date added.
func TestCollector(t *testing.T) {
	old := version.Version
	version.Version = "9.9.9"
	defer func() { version.Version = old }()
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "dyvms_exporter_build_info" {
		t.Fatalf("gathered %v", mfs)
	}
	var names []string
	for _, l := range mfs[0].GetMetric()[0].GetLabel() {
		names = append(names, l.GetName())
		if l.GetName() == "version" && l.GetValue() != "9.9.9" {
			t.Errorf("version label %q", l.GetValue())
		}
	}
	if got := strings.Join(names, ","); got != "branch,builddate,goarch,goos,goversion,revision,tags,version" {
		t.Errorf("labels %s", got)
	}
	if n := testutil.CollectAndCount(Collector()); n != 1 {
		t.Errorf("%d samples", n)
	}
}
