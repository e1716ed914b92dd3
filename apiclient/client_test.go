package apiclient

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testAK = "LTAI5tTestAccessKeyId"
	testSK = "TestSecret0123456789abcdefghij" // 30 characters, like a real one
)

// testToken looks like an STS token: long, base64 with '+', '/' and '='.
var testToken = "CAIS" + strings.Repeat("kQJ1q6Ft5B2yfSjIr5bSE/+sGe3xh5BD0qCjbVDkrm8+aL1Ws6Dk0zz2IHhMf3NoAu0ZsvQ", 5) + "GoAB=="

var fixedNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// setup starts a test server and a client pointed at it, in the manner of
// go-github: tests register handlers on mux.
func setup(t *testing.T, opts ...func(*Options)) (*Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o := Options{
		Endpoint:    srv.URL,
		Credentials: StaticCredentials{AccessKeyID: testAK, AccessKeySecret: testSK},
		HTTPClient:  srv.Client(),
		Now:         func() time.Time { return fixedNow },
	}
	for _, f := range opts {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, srv
}

func withSTS(o *Options) {
	o.Credentials = StaticCredentials{AccessKeyID: testAK, AccessKeySecret: testSK, SecurityToken: testToken}
}

// rfc3986 is deliberately not PercentEncode: the verifier shares no code
// with the signer under test, only the published algorithm.
func rfc3986(s string) string {
	s = url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(s)
}

// verifySignature checks the ACS3 signature of a received request the way
// the gateway would.
func verifySignature(r *http.Request, body []byte, secret string) error {
	auth := r.Header.Get("Authorization")
	m := regexp.MustCompile(`^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`).FindStringSubmatch(auth)
	if m == nil {
		return fmt.Errorf("malformed Authorization %q", auth)
	}
	signed := strings.Split(m[2], ";")
	if !sort.StringsAreSorted(signed) {
		return fmt.Errorf("SignedHeaders not sorted: %q", m[2])
	}
	need := map[string]bool{"host": true}
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") {
			need[lk] = true
		}
	}
	for _, h := range signed {
		delete(need, h)
	}
	if len(need) > 0 {
		return fmt.Errorf("headers not signed: %v", need)
	}
	var pairs []string
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			pairs = append(pairs, rfc3986(k)+"="+rfc3986(v))
		}
	}
	sort.Strings(pairs)
	var canon strings.Builder
	canon.WriteString(r.Method + "\n" + r.URL.Path + "\n" + strings.Join(pairs, "&") + "\n")
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canon.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	sum := sha256.Sum256(body)
	canon.WriteString("\n" + m[2] + "\n" + hex.EncodeToString(sum[:]))
	if got := r.Header.Get("x-acs-content-sha256"); got != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("x-acs-content-sha256 %q does not match the body", got)
	}
	hc := sha256.Sum256([]byte(canon.String()))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(hc[:])))
	if want := hex.EncodeToString(mac.Sum(nil)); want != m[3] {
		return fmt.Errorf("signature %s, want %s over\n%s", m[3], want, canon.String())
	}
	return nil
}

// recorded is what a handler saw of one request.
type recorded struct {
	method, path, rawQuery string
	query                  url.Values
	header                 http.Header
	host                   string
	body                   []byte
	contentLength          int64
	sigErr                 error
}

type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rec *recorder) record(r *http.Request) recorded {
	body, _ := io.ReadAll(r.Body)
	x := recorded{
		method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, query: r.URL.Query(),
		header: r.Header.Clone(), host: r.Host, body: body, contentLength: r.ContentLength,
		sigErr: verifySignature(r, body, testSK),
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, x)
	rec.mu.Unlock()
	return x
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

func serveBody(rec *recorder, status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rec != nil {
			rec.record(r)
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestCloudMonitorTaskRequestShape(t *testing.T) {
	var rec recorder
	c, mux, srv := setup(t)
	mux.HandleFunc("/", serveBody(&rec, 200, string(readExample(t))))

	got, err := c.CloudMonitorTask(context.Background(), 7000002, 19)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DecodeCloudMonitorTask(readExample(t), nil)
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("response differs from decoding the body directly")
	}

	reqs := rec.all()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/" {
		t.Errorf("%s %s, want POST /", r.method, r.path)
	}
	if r.rawQuery != "EnterpriseId=7000002&TaskId=19" {
		t.Errorf("query %q", r.rawQuery)
	}
	if len(r.body) != 0 || r.contentLength != 0 {
		t.Errorf("body %q (Content-Length %d), want empty", r.body, r.contentLength)
	}
	if r.host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host %q", r.host)
	}
	for name, want := range map[string]string{
		"x-acs-action":         "CloudMonitorTask",
		"x-acs-version":        "2017-05-25",
		"x-acs-date":           "2025-01-01T00:00:00Z",
		"x-acs-content-sha256": EmptyBodySHA256,
		"Accept":               "application/json",
		"User-Agent":           "dyvms_exporter/unknown",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if n := r.header.Get("x-acs-signature-nonce"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(n) {
		t.Errorf("nonce %q is not 32 hex characters", n)
	}
	if _, ok := r.header["X-Acs-Security-Token"]; ok {
		t.Error("security token header without STS credentials")
	}
	if !strings.HasPrefix(r.header.Get("Authorization"), "ACS3-HMAC-SHA256 Credential="+testAK+",SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=") {
		t.Errorf("Authorization %q", r.header.Get("Authorization"))
	}
	if r.sigErr != nil {
		t.Errorf("signature does not verify: %v", r.sigErr)
	}
}

func TestSTSTokenHeaderIsSentAndSigned(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t, withSTS)
	mux.HandleFunc("/", serveBody(&rec, 200, string(readExample(t))))
	if _, err := c.CloudMonitorTask(context.Background(), 1, 2); err != nil {
		t.Fatal(err)
	}
	r := rec.all()[0]
	if got := r.header.Get("x-acs-security-token"); got != testToken {
		t.Errorf("x-acs-security-token = %q", got)
	}
	if !strings.Contains(r.header.Get("Authorization"), ";x-acs-security-token;") {
		t.Errorf("token not in SignedHeaders: %q", r.header.Get("Authorization"))
	}
	if r.sigErr != nil {
		t.Errorf("signature does not verify: %v", r.sigErr)
	}
}

func TestNonceUniqueAcrossRequests(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t)
	mux.HandleFunc("/", serveBody(&rec, 200, string(readExample(t))))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := c.CloudMonitorTask(context.Background(), 1, 2); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range rec.all() {
		n := r.header.Get("x-acs-signature-nonce")
		if seen[n] {
			t.Fatalf("nonce %q reused", n)
		}
		seen[n] = true
		if r.sigErr != nil {
			t.Fatal(r.sigErr)
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct nonces, want %d", len(seen), workers*each)
	}
}

func TestInjectedClockNonceAndUserAgent(t *testing.T) {
	var rec recorder
	n := 0
	c, mux, _ := setup(t, func(o *Options) {
		o.UserAgent = "custom/1.2"
		o.Now = func() time.Time { return time.Date(2026, 4, 20, 18, 30, 5, 0, time.FixedZone("CST", 8*3600)) }
		o.Nonce = func() string { n++; return "nonce-" + strconv.Itoa(n) }
	})
	mux.HandleFunc("/", serveBody(&rec, 200, string(readExample(t))))
	for range 2 {
		if _, err := c.CloudMonitorTask(context.Background(), 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rec.all() {
		if got := r.header.Get("User-Agent"); got != "custom/1.2" {
			t.Errorf("User-Agent %q", got)
		}
		if got := r.header.Get("x-acs-date"); got != "2026-04-20T10:30:05Z" {
			t.Errorf("x-acs-date %q, want UTC", got)
		}
		if got := r.header.Get("x-acs-signature-nonce"); got != "nonce-"+strconv.Itoa(i+1) {
			t.Errorf("nonce %q", got)
		}
		if r.sigErr != nil {
			t.Error(r.sigErr)
		}
	}
}

func TestLocationOption(t *testing.T) {
	c, mux, _ := setup(t, func(o *Options) { o.Location = time.UTC })
	mux.HandleFunc("/", serveBody(nil, 200, string(readExample(t))))
	r, err := c.CloudMonitorTask(context.Background(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Data.Statistic.CtiLinkTaskProperty.StartTime.Time; st.Location() != time.UTC || st.Hour() != 10 {
		t.Errorf("StartTime %v", st)
	}
}

func TestObserveOncePerAttempt(t *testing.T) {
	type obs struct{ op, code string }
	var (
		mu   sync.Mutex
		seen []obs
	)
	c, mux, _ := setup(t, func(o *Options) {
		o.Observe = func(op, code string, d time.Duration) {
			if d < 0 {
				t.Errorf("negative duration %v", d)
			}
			mu.Lock()
			seen = append(seen, obs{op, code})
			mu.Unlock()
		}
	})
	calls := 0
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 2 {
			w.WriteHeader(400)
			io.WriteString(w, `{"Code":"Throttling.User","Message":"slow down"}`)
			return
		}
		w.Write(readExample(t))
	})
	c.CloudMonitorTask(context.Background(), 1, 2)
	c.CloudMonitorTask(context.Background(), 1, 2)
	want := []obs{{"CloudMonitorTask", "OK"}, {"CloudMonitorTask", "Throttling.User"}}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("Observe saw %v, want %v", seen, want)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	creds := StaticCredentials{AccessKeyID: "a", AccessKeySecret: "b"}
	if _, err := New(Options{}); err == nil {
		t.Error("no error without credentials")
	}
	for _, ep := range []string{"ftp://x", "https://", "https://u:p@host", "https://host/path", "https://host/?a=b", "http://[::1"} {
		if _, err := New(Options{Endpoint: ep, Credentials: creds}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		} else if strings.Contains(err.Error(), "u:p") {
			t.Errorf("error repeats user info: %v", err)
		}
	}
	if _, err := New(Options{Credentials: creds, MaxBodyBytes: -1}); err == nil {
		t.Error("negative MaxBodyBytes accepted")
	}
	for ep, want := range map[string]string{
		"":                         "https://dyvmsapi.aliyuncs.com/",
		"dyvmsapi.aliyuncs.com":    "https://dyvmsapi.aliyuncs.com/",
		"http://127.0.0.1:8080/":   "http://127.0.0.1:8080/",
		"https://vpc.example:8443": "https://vpc.example:8443/",
	} {
		c, err := New(Options{Endpoint: ep, Credentials: creds})
		if err != nil {
			t.Errorf("%q: %v", ep, err)
			continue
		}
		if c.endpoint.String() != want {
			t.Errorf("%q → %s, want %s", ep, c.endpoint, want)
		}
		if c.maxBody != 16<<20 || c.loc.String() != "Asia/Shanghai" || c.ua != "dyvms_exporter/unknown" {
			t.Errorf("defaults: %d %v %q", c.maxBody, c.loc, c.ua)
		}
	}
}

// TestRedirectNotFollowed: following a redirect would hand the STS token
// header to another host.
func TestRedirectNotFollowed(t *testing.T) {
	var rec recorder
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
	}))
	defer other.Close()
	c, mux, _ := setup(t, withSTS)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	_, err := c.CloudMonitorTask(context.Background(), 1, 2)
	if ErrorCode(err) != "http_307" {
		t.Errorf("ErrorCode = %q (%v)", ErrorCode(err), err)
	}
	if len(rec.all()) != 0 {
		t.Error("redirect was followed")
	}
}

func TestCloudQueryTaskPaging(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t)
	const total = 250
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := rec.record(r)
		start, _ := strconv.Atoi(x.query.Get("Start"))
		limit, _ := strconv.Atoi(x.query.Get("Limit"))
		var items []string
		for id := start; id < min(start+limit, total); id++ {
			items = append(items, fmt.Sprintf(`{"Id":%d,"Name":"task %d","Status":1,"Type":1,"EnterpriseId":"7000002","CreateTime":"2026-04-20 09:00:00"}`, id, id))
		}
		fmt.Fprintf(w, `{"RequestId":"R%d","Code":"OK","Message":"OK","Data":{"TaskProperties":[%s]}}`, start, strings.Join(items, ","))
	})
	running := int64(1)
	tasks, err := c.CloudQueryTask(context.Background(), TaskQuery{EnterpriseID: 7000002, Type: 1, Status: &running, Name: "外呼 task*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != total {
		t.Fatalf("%d tasks, want %d", len(tasks), total)
	}
	for i, task := range tasks {
		if task.ID != i64(int64(i)) || task.EnterpriseID != i64(7000002) || !task.CreateTime.Valid {
			t.Fatalf("task %d = %+v", i, task)
		}
	}
	reqs := rec.all()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		want := url.Values{
			"EnterpriseId": {"7000002"}, "Type": {"1"}, "Status": {"1"}, "Name": {"外呼 task*"},
			"Start": {strconv.Itoa(i * 100)}, "Limit": {"100"},
		}
		if fmt.Sprint(r.query) != fmt.Sprint(want) {
			t.Errorf("request %d query %v, want %v", i, r.query, want)
		}
		if !strings.Contains(r.rawQuery, "Name=%E5%A4%96%E5%91%BC%20task%2A") {
			t.Errorf("Name not RFC 3986 encoded: %q", r.rawQuery)
		}
		if r.header.Get("x-acs-action") != "CloudQueryTask" || r.method != "POST" || len(r.body) != 0 {
			t.Errorf("request %d: %s action %q body %q", i, r.method, r.header.Get("x-acs-action"), r.body)
		}
		if r.sigErr != nil {
			t.Error(r.sigErr)
		}
	}
}

func TestCloudQueryTaskPagingEdges(t *testing.T) {
	page := func(ids ...int) string {
		var items []string
		for _, id := range ids {
			items = append(items, fmt.Sprintf(`{"Id":%d}`, id))
		}
		return `{"Code":"OK","Data":{"TaskProperties":[` + strings.Join(items, ",") + `]}}`
	}
	t.Run("no status or name, exact multiple ends on an empty page", func(t *testing.T) {
		var rec recorder
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			x := rec.record(r)
			switch x.query.Get("Start") {
			case "0":
				io.WriteString(w, page(1, 2))
			case "2":
				io.WriteString(w, page(3, 4))
			default:
				io.WriteString(w, `{"Code":"OK","Data":{}}`)
			}
		})
		tasks, err := c.CloudQueryTask(context.Background(), TaskQuery{EnterpriseID: 5, Type: 2, PageSize: 2})
		if err != nil || len(tasks) != 4 {
			t.Fatalf("%d tasks, %v", len(tasks), err)
		}
		reqs := rec.all()
		if len(reqs) != 3 {
			t.Fatalf("%d requests", len(reqs))
		}
		if q := reqs[0].query; q.Has("Status") || q.Has("Name") || q.Get("Type") != "2" || q.Get("Limit") != "2" {
			t.Errorf("query %v", q)
		}
	})
	t.Run("duplicates across pages are kept once", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("Start") == "0" {
				io.WriteString(w, page(1, 2))
			} else {
				io.WriteString(w, page(2))
			}
		})
		tasks, err := c.CloudQueryTask(context.Background(), TaskQuery{PageSize: 2})
		if err != nil || len(tasks) != 2 || tasks[1].ID != i64(2) {
			t.Fatalf("%+v, %v", tasks, err)
		}
	})
	t.Run("server ignoring Start", func(t *testing.T) {
		var rec recorder
		c, mux, _ := setup(t)
		mux.HandleFunc("/", serveBody(&rec, 200, page(1, 2)))
		tasks, err := c.CloudQueryTask(context.Background(), TaskQuery{PageSize: 2})
		if err == nil || ErrorCode(err) != "bad_response" || tasks != nil || !strings.Contains(err.Error(), "repeats") {
			t.Fatalf("%v, %v", tasks, err)
		}
		if n := len(rec.all()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("never a short page", func(t *testing.T) {
		var mu sync.Mutex
		n := 0
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			mu.Unlock()
			start, _ := strconv.Atoi(r.URL.Query().Get("Start"))
			io.WriteString(w, page(start))
		})
		_, err := c.CloudQueryTask(context.Background(), TaskQuery{PageSize: 1})
		mu.Lock()
		defer mu.Unlock()
		if ErrorCode(err) != "bad_response" || n != maxPages {
			t.Fatalf("after %d requests: %v", n, err)
		}
	})
	t.Run("a failed page fails the listing", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("Start") == "0" {
				io.WriteString(w, page(1, 2))
				return
			}
			w.WriteHeader(503)
			io.WriteString(w, `{"Code":"ServiceUnavailable","Message":"try later"}`)
		})
		tasks, err := c.CloudQueryTask(context.Background(), TaskQuery{PageSize: 2})
		if tasks != nil || ErrorCode(err) != "ServiceUnavailable" || !IsRetryable(err) {
			t.Fatalf("%v, %v", tasks, err)
		}
	})
	t.Run("page size out of range", func(t *testing.T) {
		var rec recorder
		c, mux, _ := setup(t)
		mux.HandleFunc("/", serveBody(&rec, 200, page()))
		for _, size := range []int{-1, 101} {
			_, err := c.CloudQueryTask(context.Background(), TaskQuery{PageSize: size})
			if ErrorCode(err) != "invalid_argument" || !IsConfigError(err) || IsRetryable(err) {
				t.Errorf("PageSize %d: %v", size, err)
			}
		}
		if len(rec.all()) != 0 {
			t.Error("request sent with an invalid page size")
		}
	})
}
