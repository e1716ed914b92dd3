package callrecords

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

func TestInboundOutcomeTable(t *testing.T) {
	i := func(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }
	want := map[int64]string{1: "answered", 2: "agent_no_answer", 3: "ivr_only", 4: "system_not_answered", 10: "system_not_answered",
		13: "system_not_answered", 14: "not_queued", 15: "abandoned_in_queue", 16: "queue_timeout", 17: "queue_no_agent",
		18: "no_agent_not_queued", 19: "queue_full", 0: "unknown", 20: "unknown", -1: "unknown"}
	for s, w := range want {
		r := apiclient.InboundRecord{StatusCode: i(s)}
		if got := InboundOutcome(&r); got != w {
			t.Errorf("StatusCode %d: %s, want %s", s, got, w)
		}
	}
	if got := InboundOutcome(&apiclient.InboundRecord{}); got != "unknown" {
		t.Errorf("no StatusCode: %s", got)
	}
	for qno, want := range map[apiclient.Text]string{"1000": "1000", "-1": NoQueue, "": NoQueue} {
		if got := InboundQueue(&apiclient.InboundRecord{Qno: qno}); got != want {
			t.Errorf("Qno %q: queue %q, want %q", qno, got, want)
		}
	}
	answered := apiclient.InboundRecord{StatusCode: i(1), StartTime: i(100), BridgeTime: i(118), EndTime: i(300)}
	if w, ok := AnswerWait(&answered); !ok || w != 18 {
		t.Errorf("answer wait %d %v", w, ok)
	}
	if _, ok := AbandonWait(&answered); ok {
		t.Error("an answered call has an abandon wait")
	}
	abandoned := apiclient.InboundRecord{StatusCode: i(15), StartTime: i(100), EndTime: i(140), BridgeTime: i(0)}
	if w, ok := AbandonWait(&abandoned); !ok || w != 40 {
		t.Errorf("abandon wait %d %v", w, ok)
	}
	if _, ok := AnswerWait(&abandoned); ok {
		t.Error("an abandoned call has an answer wait")
	}
	backwards := apiclient.InboundRecord{StatusCode: i(1), StartTime: i(100), BridgeTime: i(90)}
	if _, ok := AnswerWait(&backwards); ok {
		t.Error("a bridge before the start is a wait")
	}
	for _, edge := range []float64{5, 10, 15, 20, 30, 60} {
		found := false
		for _, b := range InboundWaitBuckets {
			found = found || b == edge
		}
		if !found {
			t.Errorf("no bucket edge at %v s", edge)
		}
	}
}

// The table of inbound outcomes in docs/call-centre.md is the code's,
// word for word and in the same order.
func TestDocumentedInboundOutcomeTableIsTheCodes(t *testing.T) {
	page, err := os.ReadFile("../docs/call-centre.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| (StatusCode .+|any other .+) \\|$")
	var got [][2]string
	sc := bufio.NewScanner(strings.NewReader(string(page)))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			got = append(got, [2]string{m[1], m[2]})
		}
	}
	if len(got) != len(inboundOutcomes) {
		t.Fatalf("docs/call-centre.md has %d outcome rows, the code %d: %v", len(got), len(inboundOutcomes), got)
	}
	for i, o := range inboundOutcomes {
		if got[i] != [2]string{o.name, o.rule} {
			t.Errorf("row %d:\n got %q\nwant %q", i, got[i], [2]string{o.name, o.rule})
		}
	}
}
