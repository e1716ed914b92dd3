package simulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Known-answer vectors: the vendor's documentation example and one
// computed with the vendor's Go signer.
var vectors = []struct {
	name, host, action, version, date, nonce string
	params                                   map[string]string
	hashedCanonical, signature               string
	id, secret                               string
}{
	{
		name: "RunInstances (public documentation)", host: "ecs.cn-shanghai.aliyuncs.com",
		action: "RunInstances", version: "2014-05-26", date: "2023-10-26T10:22:32Z", nonce: "3156853299f313e23d1673dc12e1703d",
		params:          map[string]string{"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"},
		hashedCanonical: "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259",
		signature:       "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
		id:              "YourAccessKeyId", secret: "YourAccessKeySecret",
	},
	{
		name: "CloudMonitorTask (official Go signer)", host: "dyvmsapi.aliyuncs.com",
		action: "CloudMonitorTask", version: "2017-05-25", date: "2025-01-01T00:00:00Z", nonce: "0123456789abcdef0123456789abcdef",
		params:          map[string]string{"EnterpriseId": "7000002", "TaskId": "19"},
		hashedCanonical: "8bd3ccc91cdc31e9d67b2529bba10cdf85605b4cf2e50b22e1d453c4696412fc",
		signature:       "422510286a727ed719f8d9852cf39bcb758dd32b5ce0b2496c952504ca4d3734",
		id:              "testid", secret: "testsecret",
	},
}

const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func vectorHeaders(v int) map[string]string {
	return map[string]string{
		"x-acs-action": vectors[v].action, "x-acs-version": vectors[v].version, "x-acs-date": vectors[v].date,
		"x-acs-signature-nonce": vectors[v].nonce, "x-acs-content-sha256": emptySHA,
	}
}

func TestKnownAnswerVectorsTestSigner(t *testing.T) {
	for i, v := range vectors {
		_, _, hashed := testCanonical("POST", v.host, v.params, vectorHeaders(i), nil)
		if hashed != v.hashedCanonical {
			t.Errorf("%s: hashed canonical request %s, want %s", v.name, hashed, v.hashedCanonical)
		}
		if sig := testSignature(v.secret, hashed); sig != v.signature {
			t.Errorf("%s: signature %s, want %s", v.name, sig, v.signature)
		}
	}
}

func TestKnownAnswerVectorsVerifierCanonicalisation(t *testing.T) {
	for i, v := range vectors {
		r := testSigner{id: v.id, secret: v.secret}.request(v.params, reqOpts{host: v.host})
		for k, val := range vectorHeaders(i) {
			r.Header.Set(k, val)
		}
		_, cq, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			t.Fatal(err)
		}
		signed := strings.Split("host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version", ";")
		toSign := stringToSign(canonicalRequest("POST", "/", cq, requestHeader(r), signed, emptySHA))
		if want := "ACS3-HMAC-SHA256\n" + v.hashedCanonical; toSign != want {
			t.Errorf("%s: string to sign %q, want %q", v.name, toSign, want)
		}
		if sig := sign(v.secret, toSign); sig != v.signature {
			t.Errorf("%s: signature %s, want %s", v.name, sig, v.signature)
		}
	}
}

// The exact request of the CloudMonitorTask vector, Authorization as the
// official signer wrote it, is accepted end to end.
func TestVendorSignedRequestAccepted(t *testing.T) {
	cfg := testConfig()
	clock := NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := New(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	r := testSigner{id: "testid", secret: "testsecret"}.request(vectors[1].params, reqOpts{host: vectors[1].host})
	for k, val := range vectorHeaders(1) {
		r.Header.Set(k, val)
	}
	r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=422510286a727ed719f8d9852cf39bcb758dd32b5ce0b2496c952504ca4d3734")
	if rec := serve(s, r); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Code":"OK"`) {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
}

func TestGatewayRejections(t *testing.T) {
	good := testSigner{id: "testid", secret: "testsecret"}
	sts := testSigner{id: "STS.testid", secret: "stssecret", token: "token-abc"}
	params := monitorParams(7000002, 19)
	cases := []struct {
		name   string
		signer testSigner
		params map[string]string
		opts   reqOpts
		status int
		code   string
	}{
		{"accepted", good, params, reqOpts{}, 200, "OK"},
		{"accepted 14 min ahead", good, params, reqOpts{date: t0.Add(14 * time.Minute)}, 200, "OK"},
		{"accepted 14 min behind", good, params, reqOpts{date: t0.Add(-14 * time.Minute)}, 200, "OK"},
		{"no Authorization", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("Authorization") }}, 400, "IncompleteSignature"},
		{"other algorithm", good, params, reqOpts{after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
		}}, 400, "IncompleteSignature"},
		{"no Signature field", good, params, reqOpts{after: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ",Signature=")])
		}}, 400, "IncompleteSignature"},
		{"x-acs header added unsigned", good, params, reqOpts{after: func(r *http.Request) { r.Header.Set("x-acs-extra", "1") }}, 400, "IncompleteSignature"},
		{"content-type unsigned", good, params, reqOpts{after: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }}, 400, "IncompleteSignature"},
		{"host not signed", good, params, reqOpts{after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
		}}, 400, "IncompleteSignature"},
		{"x-acs-date missing", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("x-acs-date") }}, 400, "MissingParameter"},
		{"nonce missing", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("x-acs-signature-nonce") }}, 400, "MissingParameter"},
		{"content hash missing", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("x-acs-content-sha256") }}, 400, "MissingParameter"},
		{"action missing", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("x-acs-action") }}, 400, "MissingParameter"},
		{"version missing", good, params, reqOpts{after: func(r *http.Request) { r.Header.Del("x-acs-version") }}, 400, "MissingParameter"},
		{"unknown key", testSigner{id: "nobody", secret: "testsecret"}, params, reqOpts{}, 404, "InvalidAccessKeyId.NotFound"},
		{"wrong secret", testSigner{id: "testid", secret: "wrong"}, params, reqOpts{}, 400, "SignatureDoesNotMatch"},
		{"query value changed after signing", good, params, reqOpts{after: func(r *http.Request) { r.URL.RawQuery = "EnterpriseId=7000002&TaskId=20" }}, 400, "SignatureDoesNotMatch"},
		{"parameter added after signing", good, params, reqOpts{after: func(r *http.Request) { r.URL.RawQuery += "&Extra=1" }}, 400, "SignatureDoesNotMatch"},
		{"signed header changed", good, params, reqOpts{after: func(r *http.Request) { r.Header.Set("x-acs-signature-nonce", "other") }}, 400, "SignatureDoesNotMatch"},
		{"host changed", good, params, reqOpts{after: func(r *http.Request) { r.Host = "evil.example" }}, 400, "SignatureDoesNotMatch"},
		{"content hash not the body's", good, params, reqOpts{before: func(h map[string]string) {
			h["x-acs-content-sha256"] = strings.Repeat("0", 64)
		}}, 400, "SignatureDoesNotMatch"},
		{"16 min ahead", good, params, reqOpts{date: t0.Add(16 * time.Minute)}, 400, "InvalidTimeStamp.Expired"},
		{"16 min behind", good, params, reqOpts{date: t0.Add(-16 * time.Minute)}, 400, "InvalidTimeStamp.Expired"},
		{"date not UTC layout", good, params, reqOpts{before: func(h map[string]string) { h["x-acs-date"] = t0.Format(time.RFC1123) }}, 400, "InvalidTimeStamp.Format"},
		{"unknown action", good, params, reqOpts{action: "CloudDeleteTask"}, 404, "InvalidAction.NotFound"},
		{"wrong version", good, params, reqOpts{version: "2016-01-01"}, 400, "InvalidVersion"},
		{"GET", good, params, reqOpts{after: func(r *http.Request) { r.Method = "GET" }}, 404, "InvalidAction.NotFound"},
		{"STS accepted", sts, params, reqOpts{}, 200, "OK"},
		{"STS without token", testSigner{id: sts.id, secret: sts.secret}, params, reqOpts{}, 400, "InvalidSecurityToken.Malformed"},
		{"STS wrong token", testSigner{id: sts.id, secret: sts.secret, token: "token-old"}, params, reqOpts{}, 400, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"token with a non-STS key", testSigner{id: "testid", secret: "testsecret", token: "token-abc"}, params, reqOpts{}, 400, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"STS token not signed", sts, params, reqOpts{before: func(h map[string]string) { delete(h, "x-acs-security-token") },
			after: func(r *http.Request) { r.Header.Set("x-acs-security-token", "token-abc") }}, 400, "IncompleteSignature"},
		{"STS expired", testSigner{id: "STS.old", secret: "s", token: "t"}, params, reqOpts{}, 400, "InvalidSecurityToken.Expired"},
		{"disabled key", testSigner{id: "disabled", secret: "s"}, params, reqOpts{}, 400, "InvalidAccessKeyId.Inactive"},
		{"RAM policy too narrow", testSigner{id: "narrow", secret: "s"}, params, reqOpts{}, 403, "Forbidden.RAM"},
		{"unknown enterprise", good, monitorParams(1, 19), reqOpts{}, 200, "isv.INVALID_PARAMETERS"},
		{"unknown task", good, monitorParams(7000002, 999), reqOpts{}, 200, "isv.INVALID_PARAMETERS"},
		{"TaskId missing", good, map[string]string{"EnterpriseId": "7000002"}, reqOpts{}, 400, "MissingParameter"},
		{"TaskId not a number", good, map[string]string{"EnterpriseId": "7000002", "TaskId": "x"}, reqOpts{}, 400, "InvalidParameter"},
		{"CloudQueryTask Limit 0", good, map[string]string{"EnterpriseId": "7000002", "Type": "1", "Limit": "0"}, reqOpts{action: actionQuery}, 400, "InvalidParameter"},
		{"CloudQueryTask Limit 101", good, map[string]string{"EnterpriseId": "7000002", "Type": "1", "Limit": "101"}, reqOpts{action: actionQuery}, 400, "InvalidParameter"},
		{"CloudQueryTask without Type", good, map[string]string{"EnterpriseId": "7000002"}, reqOpts{action: actionQuery}, 400, "MissingParameter"},
	}
	cfg := testConfig()
	cfg.Credentials = append(cfg.Credentials,
		Credential{AccessKeyID: "STS.old", AccessKeySecret: "s", SecurityToken: "t", ExpiresAt: t0.Add(-time.Minute).Format(time.RFC3339)},
		Credential{AccessKeyID: "disabled", AccessKeySecret: "s", Disabled: true},
		Credential{AccessKeyID: "narrow", AccessKeySecret: "s", Enterprises: []int64{7000003}},
	)
	s, clock := newTestSim(t, cfg)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.opts.date.IsZero() {
				c.opts.date = clock.Now()
			}
			rec := serve(s, c.signer.request(c.params, c.opts))
			if rec.Code != c.status {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			reqID := rec.Header().Get("x-acs-request-id")
			if c.status != 200 {
				e := decodeError(t, rec)
				if e.Code != c.code || e.RequestId != reqID || e.HostId != "dyvmsapi.aliyuncs.com" || e.Message == "" ||
					!strings.Contains(e.Recommend, "q="+c.code) {
					t.Fatalf("error body %+v, want code %s and request id %s", e, c.code, reqID)
				}
				if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "token-abc") {
					t.Fatalf("error body leaks a secret: %s", rec.Body)
				}
				return
			}
			if !strings.Contains(rec.Body.String(), `"Code":"`+c.code+`"`) || !strings.Contains(rec.Body.String(), `"RequestId":"`+reqID+`"`) {
				t.Fatalf("body %s, want Code %s", rec.Body, c.code)
			}
		})
	}
}

func TestSignedBodyRejected(t *testing.T) {
	s, clock := newTestSim(t, testConfig())
	r := testSigner{id: "testid", secret: "testsecret"}.request(nil, reqOpts{date: clock.Now(), body: "EnterpriseId=7000002&TaskId=19"})
	rec := serve(s, r)
	if e := decodeError(t, rec); rec.Code != 400 || e.Code != "InvalidParameter" {
		t.Fatalf("HTTP %d %+v", rec.Code, e)
	}
}

func TestNonceReuse(t *testing.T) {
	s, clock := newTestSim(t, testConfig())
	good := testSigner{id: "testid", secret: "testsecret"}
	params := monitorParams(7000002, 19)

	// A request that fails authentication does not spend its nonce.
	if rec := serve(s, testSigner{id: "testid", secret: "bad"}.request(params, reqOpts{date: clock.Now(), nonce: "n1"})); rec.Code != 400 {
		t.Fatalf("bad signature: HTTP %d", rec.Code)
	}
	if rec := serve(s, good.request(params, reqOpts{date: clock.Now(), nonce: "n1"})); rec.Code != 200 {
		t.Fatalf("first use: HTTP %d %s", rec.Code, rec.Body)
	}
	clock.Advance(14 * time.Minute)
	rec := serve(s, good.request(params, reqOpts{date: clock.Now(), nonce: "n1"}))
	if e := decodeError(t, rec); rec.Code != 400 || e.Code != "SignatureNonceUsed" {
		t.Fatalf("reuse: HTTP %d %+v", rec.Code, e)
	}
	// Once the first request's date is out of the window, the nonce may be
	// forgotten: its replay would fail the time check anyway.
	clock.Advance(20 * time.Minute)
	if rec := serve(s, good.request(params, reqOpts{date: clock.Now(), nonce: "n1"})); rec.Code != 200 {
		t.Fatalf("after the window: HTTP %d %s", rec.Code, rec.Body)
	}
	if n := len(s.nonces.seen); n > 1 {
		t.Fatalf("%d nonces remembered, want the expired ones dropped", n)
	}
}

func TestNonceCacheBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxNonces = 3
	s, clock := newTestSim(t, cfg)
	good := testSigner{id: "testid", secret: "testsecret"}
	for i := range 5 {
		if rec := serve(s, good.request(monitorParams(7000002, 20), reqOpts{date: clock.Now(), nonce: string(rune('a' + i))})); rec.Code != 200 {
			t.Fatalf("HTTP %d", rec.Code)
		}
	}
	if n, ev := len(s.nonces.seen), s.Stats().NonceEvictions; n != 3 || ev != 2 {
		t.Fatalf("%d nonces kept, %d evicted; want 3 and 2", n, ev)
	}
	if rec := serve(s, good.request(monitorParams(7000002, 20), reqOpts{date: clock.Now(), nonce: "e"})); rec.Code != 400 {
		t.Fatalf("a kept nonce was accepted again: HTTP %d", rec.Code)
	}
}
