package callrecords

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A kind's families name its collectors in their order: Manager.Exclude
// leaves out a collector by its name's position, so a name out of step
// would drop the wrong family.
func TestKindFamiliesNameTheirCollectors(t *testing.T) {
	for _, k := range []kind{newPredictive(), newInbound()} {
		names, cs := k.families(), k.collectors()
		if len(names) != len(cs) {
			t.Fatalf("%s: %d names for %d collectors", k.op(), len(names), len(cs))
		}
		for i, c := range cs {
			ch := make(chan *prometheus.Desc, 1)
			c.Describe(ch)
			if d := (<-ch).String(); !strings.Contains(d, `fqName: "`+names[i]+`"`) {
				t.Errorf("%s: collector %d is %s, named %s", k.op(), i, d, names[i])
			}
		}
	}
	if got := InboundFamilies(); len(got) != 3 || got[0] != "dyvms_inbound_calls_total" {
		t.Errorf("InboundFamilies %v", got)
	}
}
