package apiclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// TestOfficialSignerAgrees uses the vendor's own client (darabonba-openapi,
// test-only) as the referee: it signs requests with its own dates, nonces
// and encodings, and our signer, used as a verifier, must compute the same
// SignedHeaders and Signature. This covers what the two fixed vectors do
// not: an STS token, non-ASCII and reserved characters in values.
func TestOfficialSignerAgrees(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	authRE := regexp.MustCompile(`^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`)
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
			return
		}
		h := r.Header.Clone()
		h.Set("host", r.Host)
		canonical, signed := CanonicalRequest(r.Method, r.URL.Path, r.URL.Query(), h, HashHex(body))
		if signed != m[2] {
			t.Errorf("SignedHeaders: ours %q, official %q", signed, m[2])
		}
		if sig := Signature(testSK, StringToSign(canonical)); sig != m[3] {
			t.Errorf("signature: ours %s, official %s\ncanonical request:\n%s", sig, m[3], canonical)
		}
		if m[1] != testAK {
			t.Errorf("Credential %q", m[1])
		}
		io.WriteString(w, `{"RequestId":"R","Code":"OK","Message":"OK","Data":{}}`)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name   string
		token  string
		action string
		query  map[string]string
	}{
		{"CloudMonitorTask", "", "CloudMonitorTask", map[string]string{"EnterpriseId": "7000002", "TaskId": "19"}},
		{"CloudMonitorTask with STS token", testToken, "CloudMonitorTask", map[string]string{"EnterpriseId": "7000002", "TaskId": "19"}},
		{"CloudQueryTask with awkward name", testToken, "CloudQueryTask", map[string]string{
			"EnterpriseId": "7000002", "Type": "1", "Status": "1", "Start": "0", "Limit": "100",
			"Name": "外呼 task*~+/=&%:'!()",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			cfg := &openapiutil.Config{
				AccessKeyId:     dara.String(testAK),
				AccessKeySecret: dara.String(testSK),
				Endpoint:        dara.String(strings.TrimPrefix(srv.URL, "http://")),
				Protocol:        dara.String("http"),
			}
			if tc.token != "" {
				cfg.SecurityToken = dara.String(tc.token)
			}
			cl, err := openapi.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			q := map[string]*string{}
			for k, v := range tc.query {
				q[k] = dara.String(v)
			}
			params := &openapiutil.Params{
				Action: dara.String(tc.action), Version: dara.String(APIVersion), Protocol: dara.String("HTTP"),
				Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
				Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
			}
			if _, err := cl.CallApi(params, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{}); err != nil {
				t.Fatalf("official client: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 {
				t.Fatalf("%d requests", len(seen))
			}
			r := seen[0]
			// The official request has the shape ours has.
			if r.Method != "POST" || r.URL.Path != "/" || r.Header.Get("x-acs-action") != tc.action || r.Header.Get("x-acs-version") != APIVersion {
				t.Errorf("official request: %s %s action %q version %q", r.Method, r.URL.Path, r.Header.Get("x-acs-action"), r.Header.Get("x-acs-version"))
			}
			var keys []string
			for k := range r.URL.Query() {
				keys = append(keys, k)
			}
			var want []string
			for k := range tc.query {
				want = append(want, k)
			}
			slices.Sort(keys)
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Errorf("official query names %v, want %v", keys, want)
			}
			if got := r.Header.Get("x-acs-security-token"); got != tc.token {
				t.Errorf("official token header %q", got)
			}
		})
	}

	// And the other way round: a request from our client verifies with the
	// same code path the official one just passed.
	c, err := New(Options{Endpoint: srv.URL, Credentials: StaticCredentials{AccessKeyID: testAK, AccessKeySecret: testSK, SecurityToken: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	status := int64(1)
	if _, err := c.CloudQueryTask(context.Background(), TaskQuery{EnterpriseID: 7000002, Type: 1, Status: &status, Name: "外呼 task*~+/=&%:'!()"}); err != nil {
		t.Fatal(err)
	}
}
