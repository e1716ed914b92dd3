package credentials

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

const roleARN = "acs:ram::2222222222222222:role/dyvms-reader"

// roleSim is a simulator whose account client-c has a role the default
// account (key testID) may assume with external id ext-c, served over TLS
// that this test process trusts.
func roleSim(t *testing.T, lifetime time.Duration) (*simulator.Simulator, string) {
	t.Helper()
	isolateChain(t)
	cfg := simulator.Config{
		Credentials: []simulator.Credential{{AccessKeyID: testID, AccessKeySecret: testSecret}},
		Accounts: []simulator.Account{{Name: "client-c", UID: "2222222222222222", Enterprises: []int64{7000004},
			Roles: []simulator.Role{{Name: "dyvms-reader", ExternalID: "ext-c", Trust: []string{simulator.DefaultAccount}, Lifetime: simulator.Duration(lifetime)}}}},
		Enterprises: []simulator.Enterprise{{ID: 7000004, Channels: 5, Tasks: []simulator.Task{{ID: 41}}}},
	}
	s, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, pemBytes, err := simulator.LoopbackCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.STSHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	tr := http.DefaultTransport.(*http.Transport)
	old := tr.TLSClientConfig
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(func() { tr.TLSClientConfig = old })
	return s, strings.TrimPrefix(srv.URL, "https://")
}

func TestRoleAssumesThroughSTS(t *testing.T) {
	s, ep := roleSim(t, time.Hour)
	r, err := NewRole(RoleConfig{Account: "client-c", RoleARN: roleARN, ExternalID: "ext-c", RoleSessionName: "dyvms-exporter-client-c",
		STSEndpoint: ep, Source: NewStatic(testID, testSecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.AccessKeyID, "STS.") || c.SecurityToken == "" {
		t.Fatalf("got %v", c)
	}
	// The key is kept while it is valid: one AssumeRole for many calls.
	for range 5 {
		c2, err := r.Credentials(context.Background())
		if err != nil || c2 != c {
			t.Fatalf("second call: %v %v", c2, err)
		}
	}
	if n := s.Stats().Actions["AssumeRole"]; n != 1 {
		t.Errorf("%d AssumeRole calls, want 1", n)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, r)
		assertNoSecret(t, f, out)
		if strings.Contains(out, "ext-c") || !strings.Contains(out, roleARN) {
			t.Errorf("%s: %s", f, out)
		}
	}
}

// A key whose lifetime is within the vendor's 180 s window is renewed at
// every call: each call gets a new key, and none is refused. Each call
// waits for its renewal here: with the 50 ms patience, a renewal slower
// than that (TLS to the simulator under -race on a loaded machine) leaves
// the call with the key in hand, by design, and the count would be the
// machine's, not the code's.
func TestRoleRenewsBeforeExpiry(t *testing.T) {
	defer func(p time.Duration) { renewPatience = p }(renewPatience)
	renewPatience = time.Minute
	s, ep := roleSim(t, 180*time.Second)
	r, err := NewRole(RoleConfig{Account: "client-c", RoleARN: roleARN, ExternalID: "ext-c", RoleSessionName: "s1",
		STSEndpoint: ep, Source: NewStatic(testID, testSecret, "")})
	if err != nil {
		t.Fatal(err)
	}
	// Back-to-back calls: each must find the previous lookup finished (it
	// once answered before freeing itself, and a call right after took the
	// key in hand without renewing: "1 keys in 3 calls, 1 AssumeRole").
	const calls = 30
	seen := map[string]bool{}
	for range calls {
		c, err := r.Credentials(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen[c.AccessKeyID] = true
	}
	if len(seen) != calls || s.Stats().Actions["AssumeRole"] != calls {
		t.Errorf("%d keys in %d calls, %d AssumeRole", len(seen), calls, s.Stats().Actions["AssumeRole"])
	}
}

func TestRoleRefusals(t *testing.T) {
	s, ep := roleSim(t, time.Hour)
	for name, tc := range map[string]struct {
		cfg       RoleConfig
		code      string
		retryable bool
	}{
		"wrong external id": {RoleConfig{ExternalID: "nope"}, "NoPermission", false},
		"unknown role":      {RoleConfig{RoleARN: "acs:ram::2222222222222222:role/other"}, "EntityNotExist.Role", false},
		"wrong secret":      {RoleConfig{Source: NewStatic(testID, "S3cr3tWrong", testToken)}, "InvalidSecurityToken.MismatchWithAccessKey", false},
		"sts unavailable":   {RoleConfig{}, "ServiceUnavailable", true},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := RoleConfig{Account: "client-c", RoleARN: roleARN, ExternalID: "ext-c", RoleSessionName: "s1", STSEndpoint: ep, Source: NewStatic(testID, testSecret, "")}
			if tc.cfg.ExternalID != "" {
				cfg.ExternalID = tc.cfg.ExternalID
			}
			if tc.cfg.RoleARN != "" {
				cfg.RoleARN = tc.cfg.RoleARN
			}
			if tc.cfg.Source != nil {
				cfg.Source = tc.cfg.Source
			}
			var rules []simulator.FaultRule
			if tc.retryable {
				rules = []simulator.FaultRule{{Kind: simulator.FaultUnavailable, Action: "AssumeRole"}}
			}
			if err := s.SetFaults(simulator.Faults{Rules: rules}); err != nil {
				t.Fatal(err)
			}
			r, err := NewRole(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Credentials(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			assertNoSecret(t, "error", err.Error())
			if got := apiclient.ErrorCode(err); got != tc.code {
				t.Errorf("code %q, want %q (%v)", got, tc.code, err)
			}
			if got := apiclient.IsRetryable(err); got != tc.retryable {
				t.Errorf("retryable %v (%v)", got, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "account client-c") || !strings.Contains(msg, cfg.RoleARN) || strings.Contains(msg, "ext-c") {
				t.Errorf("message %q should name account and role, not the external id", msg)
			}
		})
	}
}

// STS that cannot be reached is a network failure, retried like one.
func TestRoleSTSUnreachable(t *testing.T) {
	isolateChain(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// An STS source: the vendor's error quotes the whole request URL,
	// SecurityToken and Signature included; none of it may come through.
	r, err := NewRole(RoleConfig{Account: "b", RoleARN: roleARN, RoleSessionName: "s1", STSEndpoint: addr, Source: NewStatic(testID, testSecret, testToken)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Credentials(context.Background())
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || apiclient.ErrorCode(err) != "network" {
		t.Fatalf("err %v, code %q", err, apiclient.ErrorCode(err))
	}
	assertNoSecret(t, "error", err.Error())
	if msg := err.Error(); strings.Contains(msg, "Signature") || strings.Contains(msg, "SecurityToken") || !strings.Contains(msg, addr) {
		t.Errorf("error %q", msg)
	}
}

type fakeVendor struct {
	creds []*providers.Credentials
	errs  []error
	n     int
}

func (f *fakeVendor) GetCredentials() (*providers.Credentials, error) {
	i := f.n
	f.n++
	return f.creds[i], f.errs[i]
}

// A failed renewal does not fail a request while the key in hand is
// known to be valid: up to 180 s (less the margin) after the last call
// that found it fresh. Past that, the failure is returned.
func TestRoleKeepsKeyWhileRenewalFails(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	good := &providers.Credentials{AccessKeyId: "STS.a", AccessKeySecret: "x", SecurityToken: "y"}
	refused := errors.New(`refresh session token failed: {"RequestId":"R1","Code":"Throttling.User","Message":"server string to sign is: SecurityToken%3DCAIS-sts-token-very-secret-value"}`)
	v := &fakeVendor{
		creds: []*providers.Credentials{good, good, nil, nil, nil},
		errs:  []error{nil, nil, refused, refused, refused},
	}
	var heard []error
	r := newRole(RoleConfig{Account: "b", RoleARN: roleARN, OnRenewalFailure: func(err error) { heard = append(heard, err) }}, v, func() time.Time { return now })
	get := func(at time.Duration) (apiclient.Credentials, error) {
		now = t0.Add(at)
		return r.Credentials(context.Background())
	}
	for _, at := range []time.Duration{0, 60 * time.Second} {
		if c, err := get(at); err != nil || c.AccessKeyID != "STS.a" {
			t.Fatalf("at %v: %v %v", at, c, err)
		}
	}
	// Last fresh at 60 s: good until 60+180-10 = 230 s.
	if c, err := get(229 * time.Second); err != nil || c.AccessKeyID != "STS.a" {
		t.Fatalf("at 229s: %v %v", c, err)
	}
	if len(heard) != 1 || apiclient.ErrorCode(heard[0]) != "Throttling.User" {
		t.Errorf("heard %v", heard)
	}
	_, err := get(230 * time.Second)
	if err == nil || apiclient.ErrorCode(err) != "Throttling.User" || !apiclient.IsRetryable(err) {
		t.Fatalf("at 230s: %v", err)
	}
	for _, e := range append(heard, err) {
		assertNoSecret(t, "error", e.Error())
		if strings.Contains(e.Error(), "string to sign") {
			t.Errorf("STS's message passed on: %v", e)
		}
	}
}

// blockingVendor answers its first call at once and blocks the next ones
// (a renewal to a slow STS) until released.
type blockingVendor struct {
	n       atomic.Int32
	release chan struct{}
}

func (b *blockingVendor) GetCredentials() (*providers.Credentials, error) {
	if b.n.Add(1) == 1 {
		return &providers.Credentials{AccessKeyId: "STS.old", AccessKeySecret: "x", SecurityToken: "y"}, nil
	}
	<-b.release
	return &providers.Credentials{AccessKeyId: "STS.new", AccessKeySecret: "x", SecurityToken: "y"}, nil
}

// A renewal that takes long (STS slow) holds no request while the key in
// hand is valid: requests go with it at once, and the renewed key is used
// once it arrives.
func TestRoleSlowRenewalHoldsNoRequest(t *testing.T) {
	v := &blockingVendor{release: make(chan struct{})}
	r := newRole(RoleConfig{Account: "b", RoleARN: roleARN}, v, time.Now)
	if c, err := r.Credentials(context.Background()); err != nil || c.AccessKeyID != "STS.old" {
		t.Fatalf("first: %v %v", c, err)
	}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		start := time.Now()
		c, err := r.Credentials(ctx)
		cancel()
		if err != nil || c.AccessKeyID != "STS.old" || time.Since(start) > 500*time.Millisecond {
			t.Fatalf("during the renewal: %v %v after %v", c, err, time.Since(start))
		}
	}
	close(v.release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := r.Credentials(context.Background())
		if err == nil && c.AccessKeyID == "STS.new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed key never came: %v %v", c, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
