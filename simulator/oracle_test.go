package simulator

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// The vendor's generic client is the referee: whatever it signs must pass,
// and one byte changed after it signed must not.

// tamperClient lets a test edit the request after the SDK signed it.
type tamperClient struct{ tamper func(*http.Request) }

func (c tamperClient) Call(r *http.Request, tr *http.Transport) (*http.Response, error) {
	if c.tamper != nil {
		c.tamper(r)
	}
	return (&http.Client{Transport: tr}).Do(r)
}

func oracleClient(t *testing.T, endpoint string, cred Credential, tamper func(*http.Request)) *openapi.Client {
	t.Helper()
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(cred.AccessKeyID),
		AccessKeySecret: dara.String(cred.AccessKeySecret),
		Endpoint:        dara.String(endpoint),
		Protocol:        dara.String("http"),
	}
	if cred.SecurityToken != "" {
		cfg.SecurityToken = dara.String(cred.SecurityToken)
	}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.HttpClient = tamperClient{tamper}
	return c
}

func oracleCall(c *openapi.Client, action string, query map[string]string) (map[string]any, error) {
	params := &openapi.Params{
		Action:      dara.String(action),
		Version:     dara.String(apiVersion),
		Protocol:    dara.String("HTTP"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	q := map[string]*string{}
	for k, v := range query {
		q[k] = dara.String(v)
	}
	res, err := c.CallApi(params, &openapi.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

func sdkCode(err error) string {
	var e *tea.SDKError
	if errors.As(err, &e) && e.Code != nil {
		return *e.Code
	}
	return ""
}

func TestOracleDarabonbaAccepted(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	cfg := testConfig()
	s, err := New(cfg, nil) // the SDK dates its requests with the real clock
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	endpoint := strings.TrimPrefix(srv.URL, "http://")

	for _, cred := range cfg.Credentials {
		t.Run(cred.AccessKeyID, func(t *testing.T) {
			c := oracleClient(t, endpoint, cred, nil)
			body, err := oracleCall(c, actionMonitor, map[string]string{"EnterpriseId": "7000002", "TaskId": "19"})
			if err != nil {
				t.Fatalf("CloudMonitorTask: %v", err)
			}
			data, _ := body["Data"].(map[string]any)
			agents, _ := data["AgentStatisticList"].([]any)
			if body["Code"] != "OK" || len(agents) != 50 {
				t.Fatalf("CloudMonitorTask answer: Code %v, %d agents", body["Code"], len(agents))
			}

			body, err = oracleCall(c, actionQuery, map[string]string{"EnterpriseId": "7000002", "Type": "1", "Limit": "100"})
			if err != nil {
				t.Fatalf("CloudQueryTask: %v", err)
			}
			data, _ = body["Data"].(map[string]any)
			tasks, _ := data["TaskProperties"].([]any)
			if body["Code"] != "OK" || len(tasks) != 2 {
				t.Fatalf("CloudQueryTask answer: Code %v, %d tasks, want the 2 predictive ones", body["Code"], len(tasks))
			}
		})
	}
	if st := s.Stats(); st.Codes["OK"] != 4 || st.Actions[actionMonitor] != 2 || st.Actions[actionQuery] != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOracleDarabonbaTampered(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	cfg := testConfig()
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	endpoint := strings.TrimPrefix(srv.URL, "http://")

	tampers := map[string]func(*http.Request){
		"query value": func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "TaskId=19", "TaskId=18", 1)
		},
		"signed header": func(r *http.Request) {
			// The SDK stores its headers under lower-case keys.
			r.Header["x-acs-signature-nonce"][0] += "0" //lint:ignore SA1008 the key is as the SDK wrote it
		},
	}
	for name, tamper := range tampers {
		for _, cred := range cfg.Credentials {
			t.Run(name+"/"+cred.AccessKeyID, func(t *testing.T) {
				c := oracleClient(t, endpoint, cred, tamper)
				_, err := oracleCall(c, actionMonitor, map[string]string{"EnterpriseId": "7000002", "TaskId": "19"})
				if code := sdkCode(err); code != "SignatureDoesNotMatch" {
					t.Fatalf("got code %q (%v), want SignatureDoesNotMatch", code, err)
				}
			})
		}
	}
}
