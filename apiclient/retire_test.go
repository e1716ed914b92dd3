package apiclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A retired client closes its idle connections at once, and the
// connection of a request in flight when that request ends; a client
// given Options.HTTPClient leaves the caller's pool alone.
func TestRetireClosesConnections(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(open) }
	hold, held := make(chan struct{}), make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("TaskId") == "2" {
			held <- struct{}{}
			<-hold
		}
		io.WriteString(w, `{"Code":"OK","Data":{}}`)
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	waitOpen := func(want int, what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count() != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d connections open, want %d", what, count(), want)
			}
		}
	}
	newClient := func(hc *http.Client) *Client {
		c, err := New(Options{Endpoint: srv.URL, HTTPClient: hc, Credentials: StaticCredentials{AccessKeyID: testAK, AccessKeySecret: testSK}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	c := newClient(nil)
	if _, err := c.CloudMonitorTask(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
	waitOpen(1, "after a request") // kept alive for the next one
	c.Retire()
	waitOpen(0, "after Retire")

	c = newClient(nil)
	done := make(chan error, 1)
	go func() { _, err := c.CloudMonitorTask(context.Background(), 1, 2); done <- err }()
	<-held
	c.Retire()
	waitOpen(1, "Retire with a request in flight") // not cut off
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("the request in flight failed: %v", err)
	}
	waitOpen(0, "after the request in flight ended")
	if _, err := c.CloudMonitorTask(context.Background(), 1, 1); err != nil {
		t.Fatalf("a retired client no longer works: %v", err)
	}
	waitOpen(0, "after a request of the retired client")

	shared := &http.Client{Transport: &http.Transport{}}
	c = newClient(shared)
	if _, err := c.CloudMonitorTask(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
	c.Retire()
	time.Sleep(50 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("Retire of a client with the caller's HTTPClient closed its pool: %d open, want 1", n)
	}
	shared.CloseIdleConnections()
}
