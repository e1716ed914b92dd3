package apiclient

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestDefaultClientHasNoAnswerTimeout: the client New builds when given
// none bounds the wait for an answer by nothing but the request's context
// (the scrape budget, up to --scrape.max-timeout). It used to have a
// ResponseHeaderTimeout of 30 s, which failed every slower answer whatever
// the budget.
func TestDefaultClientHasNoAnswerTimeout(t *testing.T) {
	c, err := New(Options{Credentials: StaticCredentials{AccessKeyID: "a", AccessKeySecret: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T", c.hc.Transport)
	}
	if c.hc.Timeout != 0 || tr.ResponseHeaderTimeout != 0 {
		t.Errorf("fixed answer timeouts: http.Client.Timeout %v, ResponseHeaderTimeout %v; want none (the request's deadline governs)",
			c.hc.Timeout, tr.ResponseHeaderTimeout)
	}
	// What is fixed bounds only connection set-up.
	if tr.TLSHandshakeTimeout != setupTimeout {
		t.Errorf("TLSHandshakeTimeout %v, want %v", tr.TLSHandshakeTimeout, setupTimeout)
	}
}

// TestSlowAnswerWithinDeadline: the transport's fixed bounds lowered to
// 250 ms, an answer that comes after 1.5 s (six times that) is still read
// when the request's deadline allows it, and one that comes after the
// deadline is a timeout at the deadline. The production bounds are 5 s
// and the old answer timeout 30 s; lowering them keeps the test short.
func TestSlowAnswerWithinDeadline(t *testing.T) {
	const fixed, answerAfter = 250 * time.Millisecond, 1500 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c, mux, _ := setup(t, func(o *Options) { o.HTTPClient = newHTTPClient(fixed) })
	body := readExample(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("TaskId") == "2" { // never answers
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		time.Sleep(answerAfter)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CloudMonitorTask(ctx, 1, 1); err != nil {
		t.Fatalf("an answer after %v with a minute's deadline: %v (%s)", answerAfter, err, ErrorCode(err))
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_, err := c.CloudMonitorTask(short, 1, 2)
	if ErrorCode(err) != "timeout" || IsRetryable(err) || short.Err() == nil {
		t.Fatalf("no answer before the deadline: %v (%s), retryable %v", err, ErrorCode(err), IsRetryable(err))
	}
}
