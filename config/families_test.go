package config_test

import (
	"slices"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/callrecords"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/queues"
)

// TestFamiliesAreCurrent keeps families.go, the copy of the catalogue that
// metrics.exclude is checked against, in step with the tables of the
// packages that write the families: the collector's task, agent and
// enterprise families, the queue lists' and the inbound calls'. An
// external test, since callrecords imports config.
func TestFamiliesAreCurrent(t *testing.T) {
	want := append(collector.Catalogue(), collector.EnterpriseCatalogue()...)
	for _, n := range append(queues.Families(), callrecords.InboundFamilies()...) {
		want = append(want, collector.FamilyInfo{Name: n})
	}
	names, agent, required := config.FamilyCatalogue()
	var got []collector.FamilyInfo
	for _, n := range names {
		got = append(got, collector.FamilyInfo{Name: n, Agent: agent[n], Required: required[n]})
	}
	if !slices.Equal(got, want) {
		t.Errorf("families.go is out of date with the packages' catalogues: run go generate ./config\ngot  %v\nwant %v", got, want)
	}
	if len(want) < 50 {
		t.Errorf("the catalogue has %d families; the exporter writes more than 50 that can be named", len(want))
	}
	for _, n := range []string{"dyvms_enterprise_agents", "dyvms_enterprise_agent_state", "dyvms_queue_info", "dyvms_inbound_calls_total"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s is not in the catalogue", n)
		}
	}
}
