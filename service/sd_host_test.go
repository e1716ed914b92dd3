package service

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// An HTTP/1.0 request may come without Host: /sd then names the address
// the connection came in on (an address the asker reached), not a 500.
func TestSDWithoutHost(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /sd HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"targets":["`+addr+`"]`) {
		t.Errorf("%d %s, want 200 with target %s", resp.StatusCode, body, addr)
	}

	// With no address to give at all, a 400 that says what is missing.
	req := httptest.NewRequest(http.MethodGet, "/sd", nil)
	req.Host = ""
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "no Host header") || !strings.Contains(rec.Body.String(), "--web.external-address") {
		t.Errorf("%d %q, want 400 naming the Host header and --web.external-address", rec.Code, rec.Body.String())
	}
}
