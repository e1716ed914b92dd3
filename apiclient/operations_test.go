package apiclient

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// Operations lists every operation the client calls, each once: each
// call's Observe names an operation of the list, and every operation of
// the list is called by one of the client's methods.
func TestOperationsListsEveryCall(t *testing.T) {
	var seen []string
	c, mux, _ := setup(t, func(o *Options) {
		o.Observe = func(op, _ string, _ time.Duration) { seen = append(seen, op) }
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"Code":"OK","Data":{}}`)
	})
	ctx := context.Background()
	c.CloudMonitorTask(ctx, 1, 2)
	c.CloudQueryTask(ctx, TaskQuery{EnterpriseID: 1})
	now := time.Now()
	c.CloudQueryPredictiveCallCdrPage(ctx, CdrQuery{EnterpriseID: 1, StartTime: now.Add(-time.Minute), EndTime: now})
	c.CloudListOnlineAgent(ctx, 1)
	c.CloudListQueue(ctx, 1, 0)
	c.CloudQueryIbCdrPage(ctx, CdrQuery{EnterpriseID: 1, StartTime: now.Add(-time.Minute), EndTime: now})
	ops := Operations()
	if len(ops) != 6 {
		t.Fatalf("Operations() = %v, want the six operations", ops)
	}
	for _, op := range seen {
		if !slices.Contains(ops, op) {
			t.Errorf("the client called %s, which Operations() does not list", op)
		}
	}
	for _, op := range ops {
		if !slices.Contains(seen, op) {
			t.Errorf("Operations() lists %s, which no call made", op)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ops)))) != len(ops) {
		t.Errorf("Operations() repeats an operation: %v", ops)
	}
}
