package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
)

const (
	uidB = "1111111111111111"
	uidC = "2222222222222222"
)

var (
	credB = Credential{AccessKeyID: "LTAIb", AccessKeySecret: "secret-b"}
	credC = Credential{AccessKeyID: "LTAIc", AccessKeySecret: "secret-c"}
)

// accountsConfig: the default account (testCred) owns 7000002; client-b
// (its own key) owns 7000003; client-c owns 7000004 and has a role the
// default account may assume with an external id, and one nobody else may.
func accountsConfig() Config {
	cfg := testConfig()
	cfg.Credentials = []Credential{testCred}
	cfg.Enterprises = append(cfg.Enterprises,
		Enterprise{ID: 7000003, Channels: 10, Tasks: []Task{{ID: 31, Agents: intp(3)}}},
		Enterprise{ID: 7000004, Channels: 10, Tasks: []Task{{ID: 41, Agents: intp(3)}}})
	cfg.Accounts = []Account{
		{Name: "client-b", UID: uidB, Enterprises: []int64{7000003}, Credentials: []Credential{credB}},
		{Name: "client-c", UID: uidC, Enterprises: []int64{7000004}, Credentials: []Credential{credC}, Roles: []Role{
			{Name: "dyvms-reader", ExternalID: "ext-c", Trust: []string{DefaultAccount}},
			{Name: "private"},
		}},
	}
	return cfg
}

// Each key reads only its own account's enterprises; any other answers
// Forbidden.RAM, the gateway's answer to a RAM user without permission.
func TestAccountsOwnTheirEnterprises(t *testing.T) {
	s, clock := newTestSim(t, accountsConfig())
	keys := map[string]Credential{DefaultAccount: testCred, "client-b": credB, "client-c": credC}
	owner := map[int64]string{7000002: DefaultAccount, 7000003: "client-b", 7000004: "client-c"}
	tasks := map[int64]int64{7000002: 19, 7000003: 31, 7000004: 41}
	for account, cred := range keys {
		for ent, o := range owner {
			r := testSigner{id: cred.AccessKeyID, secret: cred.AccessKeySecret}.request(monitorParams(ent, tasks[ent]), reqOpts{date: clock.Now()})
			rec := serve(s, r)
			if o == account {
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Code":"OK"`) {
					t.Errorf("%s reading its %d: %d %s", account, ent, rec.Code, rec.Body)
				}
				continue
			}
			if e := decodeError(t, rec); rec.Code != 403 || e.Code != "Forbidden.RAM" {
				t.Errorf("%s reading %s's %d: %d %+v, want 403 Forbidden.RAM", account, o, ent, rec.Code, e)
			}
		}
	}
}

func TestAccountsConfigErrors(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"enterprise owned twice": func(c *Config) { c.Accounts[1].Enterprises = []int64{7000003} },
		"name repeated":          func(c *Config) { c.Accounts[1].Name = "client-b" },
		"default name":           func(c *Config) { c.Accounts[0].Name = DefaultAccount },
		"key repeated":           func(c *Config) { c.Accounts[1].Credentials[0].AccessKeyID = testCred.AccessKeyID },
		"uid not numeric":        func(c *Config) { c.Accounts[0].UID = "abc" },
		"trust unknown":          func(c *Config) { c.Accounts[1].Roles[0].Trust = []string{"nobody"} },
		"no identity":            func(c *Config) { c.Accounts[0].Credentials = nil },
	} {
		cfg := accountsConfig()
		edit(&cfg)
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// stsServer serves the STS endpoint over TLS and makes the vendor's
// library (which clones http.DefaultTransport) trust it for the test.
func stsServer(t *testing.T, s *Simulator) string {
	t.Helper()
	cert, pemBytes, err := LoopbackCertificate()
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
	return strings.TrimPrefix(srv.URL, "https://")
}

func vendorRole(t *testing.T, cred Credential, endpoint, arn, external string) *providers.RAMRoleARNCredentialsProvider {
	t.Helper()
	p, err := providers.NewRAMRoleARNCredentialsProviderBuilder().
		WithAccessKeyId(cred.AccessKeyID).WithAccessKeySecret(cred.AccessKeySecret).
		WithRoleArn(arn).WithExternalId(external).WithRoleSessionName("dyvms-test").
		WithStsEndpoint(endpoint).Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The vendor's credential library is the referee of the STS protocol: it
// signs AssumeRole, and the key it gets back reads the role account's
// enterprises, and only those, until it expires.
func TestSTSAssumeRoleWithVendorLibrary(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	cfg := accountsConfig()
	cfg.Accounts[1].Roles[0].Lifetime = Duration(20 * time.Minute)
	s, err := New(cfg, nil) // the library dates its requests with the real clock
	if err != nil {
		t.Fatal(err)
	}
	ep := stsServer(t, s)
	arn := cfg.Accounts[1].Roles[0].ARN(cfg.Accounts[1])

	got, err := vendorRole(t, testCred, ep, arn, "ext-c").GetCredentials()
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if !strings.HasPrefix(got.AccessKeyId, "STS.") || got.SecurityToken == "" || got.AccessKeySecret == "" {
		t.Fatalf("issued %+v", got.AccessKeyId)
	}
	tmp := Credential{AccessKeyID: got.AccessKeyId, AccessKeySecret: got.AccessKeySecret, SecurityToken: got.SecurityToken}
	gw := httptest.NewServer(s)
	defer gw.Close()
	c := oracleClient(t, strings.TrimPrefix(gw.URL, "http://"), tmp, nil)
	if body, err := oracleCall(c, actionMonitor, map[string]string{"EnterpriseId": "7000004", "TaskId": "41"}); err != nil || body["Code"] != "OK" {
		t.Fatalf("the role's key reading the role account's enterprise: %v %v", err, body)
	}
	if _, err := oracleCall(c, actionMonitor, map[string]string{"EnterpriseId": "7000002", "TaskId": "19"}); sdkCode(err) != "Forbidden.RAM" {
		t.Fatalf("the role's key reading the default account's enterprise: %v, want Forbidden.RAM", err)
	}

	// Refusals, each with STS's code in the library's error.
	for name, tc := range map[string]struct {
		cred          Credential
		arn, external string
		code          string
	}{
		"wrong external id":   {testCred, arn, "nope", "NoPermission"},
		"no external id":      {testCred, arn, "", "NoPermission"},
		"untrusted account":   {credB, arn, "ext-c", "NoPermission"},
		"role of nobody else": {testCred, "acs:ram::" + uidC + ":role/private", "", "NoPermission"},
		"unknown role":        {testCred, "acs:ram::" + uidC + ":role/missing", "", "EntityNotExist.Role"},
		"unknown account":     {testCred, "acs:ram::9:role/dyvms-reader", "", "EntityNotExist.Role"},
		"wrong secret":        {Credential{AccessKeyID: testCred.AccessKeyID, AccessKeySecret: "x"}, arn, "ext-c", "SignatureDoesNotMatch"},
		"unknown key":         {Credential{AccessKeyID: "LTAIzz", AccessKeySecret: "x"}, arn, "ext-c", "InvalidAccessKeyId.NotFound"},
	} {
		_, err := vendorRole(t, tc.cred, ep, tc.arn, tc.external).GetCredentials()
		if err == nil || !strings.Contains(err.Error(), `"Code":"`+tc.code+`"`) {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	// The role's own account may assume its private role.
	if _, err := vendorRole(t, credC, ep, "acs:ram::"+uidC+":role/private", "").GetCredentials(); err != nil {
		t.Errorf("own account assuming its role: %v", err)
	}
	// An injected fault on AssumeRole answers like STS would.
	if err := s.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultUnavailable, Action: actionAssumeRole}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vendorRole(t, testCred, ep, arn, "ext-c").GetCredentials(); err == nil || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Errorf("with an unavailable fault: %v", err)
	}
}

// Issued keys expire: the gateway refuses them afterwards, and STS's
// DurationSeconds bounds hold.
func TestSTSIssuedKeysExpire(t *testing.T) {
	cfg := accountsConfig()
	cfg.Accounts[1].Roles[0].Lifetime = Duration(3 * time.Minute)
	s, clock := newTestSim(t, cfg)
	arn := cfg.Accounts[1].Roles[0].ARN(cfg.Accounts[1])
	tmp := assume(t, s, clock.Now(), testCred, arn, "ext-c", "900")
	read := func() *httptest.ResponseRecorder {
		r := testSigner{id: tmp.AccessKeyID, secret: tmp.AccessKeySecret, token: tmp.SecurityToken}.request(monitorParams(7000004, 41), reqOpts{date: clock.Now()})
		return serve(s, r)
	}
	if rec := read(); rec.Code != 200 {
		t.Fatalf("fresh key: %d %s", rec.Code, rec.Body)
	}
	clock.Advance(3*time.Minute + time.Second)
	if rec := read(); rec.Code != 400 || decodeError(t, rec).Code != "InvalidSecurityToken.Expired" {
		t.Fatalf("expired key: %d %s", rec.Code, rec.Body)
	}
	for _, d := range []string{"899", "3601", "x"} {
		rec := httptest.NewRecorder()
		s.STSHandler().ServeHTTP(rec, stsRequest(clock.Now(), testCred, arn, "ext-c", d))
		if rec.Code != 400 || decodeError(t, rec).Code != "InvalidParameter.DurationSeconds" {
			t.Errorf("DurationSeconds %s: %d %s", d, rec.Code, rec.Body)
		}
	}
}

// stsRequest signs AssumeRole as the published RPC algorithm says, with
// this test's own encoding (rfc3986 from helpers_test.go).
func stsRequest(now time.Time, cred Credential, arn, external, duration string) *http.Request {
	q := map[string]string{
		"Action": "AssumeRole", "Version": stsVersion, "Format": "JSON", "Timestamp": now.UTC().Format(stsTimeLayout),
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": now.Format(time.RFC3339Nano) + duration,
		"AccessKeyId": cred.AccessKeyID,
	}
	form := map[string]string{"RoleArn": arn, "RoleSessionName": "dyvms-test", "DurationSeconds": duration}
	if external != "" {
		form["ExternalId"] = external
	}
	all := map[string]string{}
	for k, v := range q {
		all[k] = v
	}
	for k, v := range form {
		all[k] = v
	}
	q["Signature"] = rpcSign(cred.AccessKeySecret, rpcStringToSign("POST", all))
	enc := func(m map[string]string) string {
		var parts []string
		for k, v := range m {
			parts = append(parts, rfc3986(k)+"="+rfc3986(v))
		}
		return strings.Join(parts, "&")
	}
	r := httptest.NewRequest(http.MethodPost, "/?"+enc(q), strings.NewReader(enc(form)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func assume(t *testing.T, s *Simulator, now time.Time, cred Credential, arn, external, duration string) Credential {
	t.Helper()
	rec := httptest.NewRecorder()
	s.STSHandler().ServeHTTP(rec, stsRequest(now, cred, arn, external, duration))
	if rec.Code != 200 {
		t.Fatalf("AssumeRole: %d %s", rec.Code, rec.Body)
	}
	b := rec.Body.String()
	field := func(name string) string {
		i := strings.Index(b, `"`+name+`":"`)
		if i < 0 {
			t.Fatalf("no %s in %s", name, b)
		}
		rest := b[i+len(name)+4:]
		return rest[:strings.IndexByte(rest, '"')]
	}
	exp, err := time.Parse(stsTimeLayout, field("Expiration"))
	if err != nil || !exp.Equal(now.Add(3*time.Minute).Truncate(time.Second)) {
		t.Fatalf("Expiration %q (%v)", field("Expiration"), err)
	}
	return Credential{AccessKeyID: field("AccessKeyId"), AccessKeySecret: field("AccessKeySecret"), SecurityToken: field("SecurityToken")}
}
