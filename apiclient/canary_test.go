package apiclient

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recordPageOperation is one call-record operation as the personal-data
// canary test sees it: the two record operations differ only in these.
type recordPageOperation struct {
	// good is a page whose every personal field holds the canary.
	good string
	// leading are personal fields, the canary as their value, written
	// first in bodies that cannot be read, where a quoted snippet of the
	// body would catch them.
	leading string
	// unreadable bodies by name (leading is put in front of each); the
	// name "wrong type" marks one that tolerant decoding may accept.
	unreadable map[string]string
	decode     func(body []byte) (any, error)
	// read is the client's whole-window read, page one page of it.
	read func(c *Client) error
	page func(c *Client) error
}

// checkCanaryNeverShows proves the canary reaches neither a decoded page
// nor any error of the decoder or the client: not when the page decodes,
// not when a field is wrong, and not when the whole body is unreadable
// (which, for other operations, the client's error quotes).
func checkCanaryNeverShows(t *testing.T, op recordPageOperation) {
	t.Helper()
	decoded, err := op.decode([]byte(op.good))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, decoded); strings.Contains(s, canary) {
			t.Fatalf("decoded page printed with %s shows the canary: %s", format, s)
		}
	}
	if s := mustJSON(t, decoded); strings.Contains(s, canary) {
		t.Fatalf("decoded page as JSON shows the canary: %s", s)
	}
	leading := func(rest string) string { return "{" + op.leading + "," + rest }
	for name, rest := range op.unreadable {
		body := leading(rest)
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(body, canary) {
				t.Fatal("the body lost its canary")
			}
			// A field that cannot be read may fail the page or, with
			// tolerant decoding, just be absent: either way no canary.
			r, err := op.decode([]byte(body))
			switch {
			case err != nil && strings.Contains(err.Error(), canary):
				t.Fatalf("decoder error shows the canary: %v", err)
			case err == nil && name != "wrong type":
				t.Fatalf("decoded: %s", body)
			case err == nil && strings.Contains(fmt.Sprintf("%+v", r), canary):
				t.Fatalf("decoded page shows the canary: %+v", r)
			}
			if err == nil {
				return // nothing for the client to fail on
			}
			c, mux, _ := setup(t)
			mux.HandleFunc("/", serveBody(nil, http.StatusOK, body))
			err = op.read(c)
			if err == nil || ErrorCode(err) != "bad_response" {
				t.Fatalf("error %v (code %s), want bad_response", err, ErrorCode(err))
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(fmt.Sprintf("%+v", err), canary) {
				t.Fatalf("client error shows the canary: %v", err)
			}
		})
	}
	// An error status with an unreadable body is not quoted either.
	c, mux, _ := setup(t)
	mux.HandleFunc("/", serveBody(nil, http.StatusBadGateway, leading(op.good[1:])))
	if err := op.page(c); err == nil || strings.Contains(err.Error(), canary) {
		t.Fatalf("HTTP 502 error: %v", err)
	}
}
