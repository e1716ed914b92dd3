package main

import "testing"

// A cap of zero or less would give every scrape an already-expired
// deadline: refused at start-up as a usage error.
func TestScrapeMaxTimeoutMustBePositive(t *testing.T) {
	for _, v := range []string{"0s", "-1m"} {
		if code := run([]string{"--scrape.max-timeout=" + v}); code != 2 {
			t.Errorf("--scrape.max-timeout=%s: exit code %d, want 2", v, code)
		}
	}
}
