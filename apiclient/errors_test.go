package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Error bodies as the gateway sends them, one per documented code.
func TestAPIErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		code      string
		status    int
		retryable bool
		config    bool
	}{
		{"Throttling", 400, true, false},
		{"Throttling.User", 400, true, false},
		{"Throttling.Api", 429, true, false},
		{"ServiceUnavailable", 503, true, false},
		{"InternalError", 500, true, false},
		{"SignatureNonceUsed", 400, true, false},
		{"isv.BUSINESS_LIMIT_CONTROL", 200, true, false},
		{"isp.SYSTEM_ERROR", 200, true, false},
		{"InvalidAccessKeyId.NotFound", 404, false, true},
		{"InvalidAccessKeyId.Inactive", 403, false, true},
		{"SignatureDoesNotMatch", 400, false, true},
		{"IncompleteSignature", 400, false, true},
		{"MissingParameter", 400, false, true},
		{"Forbidden.RAM", 403, false, true},
		{"InvalidParameter", 400, false, true},
		{"InvalidTimeStamp.Expired", 400, false, true},
		{"InvalidAction.NotFound", 404, false, true},
		{"isp.RAM_PERMISSION_DENY", 200, false, true},
		{"isv.INVALID_PARAMETERS", 200, false, true},
		{"isv.PRODUCT_UNSUBSCRIBE", 200, false, true},
		{"SomethingNew.Unknown", 400, false, false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			c, mux, _ := setup(t)
			body := fmt.Sprintf(`{"RequestId":"5A2C-%[1]s","HostId":"dyvmsapi.aliyuncs.com","Code":"%[1]s","Message":"message of %[1]s","Recommend":"https://api.aliyun.com/troubleshoot?q=%[1]s"}`, tc.code)
			mux.HandleFunc("/", serveBody(nil, tc.status, body))
			r, err := c.CloudMonitorTask(context.Background(), 1, 2)
			if r != nil {
				t.Error("response with error")
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("%T %v, want *Error", err, err)
			}
			want := Error{Operation: "CloudMonitorTask", HTTPStatus: tc.status, Code: tc.code, Message: "message of " + tc.code,
				RequestID: "5A2C-" + tc.code, HostID: "dyvmsapi.aliyuncs.com", Recommend: "https://api.aliyun.com/troubleshoot?q=" + tc.code}
			if *ae != want {
				t.Errorf("got  %+v\nwant %+v", *ae, want)
			}
			if ErrorCode(err) != tc.code || IsRetryable(err) != tc.retryable || IsConfigError(err) != tc.config {
				t.Errorf("ErrorCode %q IsRetryable %v IsConfigError %v", ErrorCode(err), IsRetryable(err), IsConfigError(err))
			}
			msg := err.Error()
			for _, w := range []string{"CloudMonitorTask", tc.code, "message of " + tc.code, "RequestId 5A2C-" + tc.code} {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "configuration problem") != tc.config {
				t.Errorf("%q: configuration hint present = %v, want %v", msg, !tc.config, tc.config)
			}
		})
	}
}

func TestHTTPErrorWithoutCode(t *testing.T) {
	page := "<!DOCTYPE html>\n<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\t" + strings.Repeat("nginx ", 300) + "</body></html>"
	for _, tc := range []struct {
		status    int
		body      string
		code      string
		retryable bool
	}{
		{502, page, "http_502", true},
		{503, "", "http_503", true},
		{429, "Too Many Requests", "http_429", true},
		{404, "404 page not found\n", "http_404", false},
		{403, `{"Code":"OK","Message":"odd"}`, "http_403", false},
		{500, `{"Message":"no code"}`, "http_500", true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.HandleFunc("/", serveBody(nil, tc.status, tc.body))
			_, err := c.CloudMonitorTask(context.Background(), 1, 2)
			var ae *Error
			if !errors.As(err, &ae) || ae.HTTPStatus != tc.status || ae.Code != "" {
				t.Fatalf("%#v", err)
			}
			if ErrorCode(err) != tc.code || IsRetryable(err) != tc.retryable || IsConfigError(err) {
				t.Errorf("ErrorCode %q IsRetryable %v IsConfigError %v", ErrorCode(err), IsRetryable(err), IsConfigError(err))
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r\t") {
				t.Errorf("multi-line error %q", msg)
			}
			if len(ae.Message) > snippetLen+8 {
				t.Errorf("Message has %d bytes: %q", len(ae.Message), ae.Message)
			}
			if tc.status == 502 && (!strings.Contains(msg, `: <!DOCTYPE html> <html> <head><title>502 Bad Gateway</title></head> <body> nginx nginx`) || !strings.Contains(msg, "…")) {
				t.Errorf("snippet missing or not cut: %q", msg)
			}
			if tc.body == "" && !strings.Contains(msg, "(empty)") {
				t.Errorf("%q", msg)
			}
		})
	}
}

func TestUnreadableSuccessBody(t *testing.T) {
	for name, body := range map[string]string{
		"truncated JSON": `{"RequestId":"R","Code":"OK","Data":{"AgentInfo":{"TotalCount":2`,
		"HTML":           "<html><body>\n<h1>Welcome to nginx!</h1>\n</body></html>",
		"empty":          "",
		"wrong shape":    `{"Code":"OK","Data":{"AgentInfo":"lots"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mux, _ := setup(t)
			mux.HandleFunc("/", serveBody(nil, 200, body))
			_, err := c.CloudMonitorTask(context.Background(), 1, 2)
			if ErrorCode(err) != "bad_response" || IsRetryable(err) || IsConfigError(err) {
				t.Fatalf("ErrorCode %q for %v", ErrorCode(err), err)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("multi-line: %q", msg)
			}
			if quoted := oneLine(body); quoted != "" && !strings.Contains(msg, quoted) {
				t.Errorf("%q does not quote the body %q", msg, quoted)
			}
			if !strings.Contains(msg, "HTTP 200") {
				t.Errorf("%q lacks the status", msg)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Run("default 16 MiB", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			chunk := strings.Repeat(" ", 1<<20)
			io.WriteString(w, `{"Code":"OK"`)
			for range 16 {
				io.WriteString(w, chunk)
			}
			io.WriteString(w, "}")
		})
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "body_too_large" || IsRetryable(err) {
			t.Fatalf("ErrorCode %q: %v", ErrorCode(err), err)
		}
		if !strings.Contains(err.Error(), "response body exceeds 16 MiB limit") {
			t.Errorf("%q", err)
		}
	})
	t.Run("exactly at and one past a custom limit", func(t *testing.T) {
		example := string(readExample(t))
		limit := int64(len(example) + 100)
		c, mux, _ := setup(t, func(o *Options) { o.MaxBodyBytes = limit })
		pad := 100
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, example+strings.Repeat("\n", pad))
		})
		if _, err := c.CloudMonitorTask(context.Background(), 1, 2); err != nil {
			t.Fatalf("body of exactly the limit: %v", err)
		}
		pad = 101
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "body_too_large" || !strings.Contains(err.Error(), fmt.Sprintf("response body exceeds %d bytes limit", limit)) {
			t.Fatalf("one byte over: %v", err)
		}
	})
}

// manualCtx is a context whose expiry the test triggers: deadline tests
// without timers.
type manualCtx struct {
	context.Context
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newManualCtx() *manualCtx {
	return &manualCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *manualCtx) Done() <-chan struct{} { return c.done }

func (c *manualCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *manualCtx) expire(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
}

// blockingHandler reports each arrival and holds the request until the
// client gives up on it.
func blockingHandler(t *testing.T, arrived chan<- struct{}) http.HandlerFunc {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestContextEndsInFlight(t *testing.T) {
	for _, tc := range []struct {
		cause error
		code  string
	}{
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			var observed []string
			c, mux, _ := setup(t, func(o *Options) {
				o.Observe = func(_, code string, _ time.Duration) { observed = append(observed, code) }
			})
			mux.HandleFunc("/", blockingHandler(t, arrived))
			ctx := newManualCtx()
			go func() {
				<-arrived
				ctx.expire(tc.cause)
			}()
			_, err := c.CloudMonitorTask(ctx, 1, 2)
			if ErrorCode(err) != tc.code || IsRetryable(err) || IsConfigError(err) {
				t.Fatalf("ErrorCode %q IsRetryable %v: %v", ErrorCode(err), IsRetryable(err), err)
			}
			if !errors.Is(err, tc.cause) {
				t.Errorf("%v does not wrap %v", err, tc.cause)
			}
			if len(observed) != 1 || observed[0] != tc.code {
				t.Errorf("Observe saw %v", observed)
			}
		})
	}
	t.Run("already expired", func(t *testing.T) {
		var rec recorder
		c, mux, _ := setup(t)
		mux.HandleFunc("/", serveBody(&rec, 200, "{}"))
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		_, err := c.CloudMonitorTask(ctx, 1, 2)
		if ErrorCode(err) != "timeout" || IsRetryable(err) {
			t.Fatalf("%q %v", ErrorCode(err), err)
		}
		if len(rec.all()) != 0 {
			t.Error("request sent with an expired context")
		}
	})
	// The pacer runs a shared call under a context without a deadline and
	// cancels it with DeadlineExceeded as the cause when the latest
	// waiter's deadline passes: that is a timeout, as before, not a
	// cancellation; a plain cancellation stays "canceled".
	for cause, want := range map[error]string{context.DeadlineExceeded: "timeout", context.Canceled: "canceled", errors.New("gone"): "canceled"} {
		t.Run("cancelled with cause "+cause.Error()+" while waiting", func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			c, mux, _ := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				cancel(cause)
				<-r.Context().Done()
			})
			_, err := c.CloudMonitorTask(ctx, 1, 2)
			if ErrorCode(err) != want || IsRetryable(err) {
				t.Fatalf("%q (retryable %v) %v, want %q, final", ErrorCode(err), IsRetryable(err), err, want)
			}
		})
	}
	t.Run("canceled during paging", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			cancel() // the first page arrives, then the caller gives up
			io.WriteString(w, `{"Code":"OK","Data":{"TaskProperties":[{"Id":1},{"Id":2}]}}`)
		})
		_, err := c.CloudQueryTask(ctx, TaskQuery{PageSize: 2})
		if ErrorCode(err) != "canceled" {
			t.Fatalf("%q %v", ErrorCode(err), err)
		}
	})
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSingleAttemptFailuresAreRetryable(t *testing.T) {
	t.Run("transport timeout", func(t *testing.T) {
		c, _, _ := setup(t, func(o *Options) {
			o.HTTPClient = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
			})}
		})
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "timeout" || !IsRetryable(err) {
			t.Fatalf("%q %v %v", ErrorCode(err), IsRetryable(err), err)
		}
	})
	t.Run("attempt deadline wrapping DeadlineExceeded", func(t *testing.T) {
		c, _, _ := setup(t, func(o *Options) {
			o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("attempt budget: %w", context.DeadlineExceeded)
			})}
		})
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "timeout" || !IsRetryable(err) {
			t.Fatalf("%q %v %v", ErrorCode(err), IsRetryable(err), err)
		}
	})
	t.Run("http.Client.Timeout", func(t *testing.T) {
		// The caller's context is fine; only the attempt's own deadline,
		// already over when the request starts, ran out.
		c, mux, srv := setup(t, func(o *Options) {})
		mux.HandleFunc("/", serveBody(nil, 200, "{}"))
		hc := srv.Client()
		hc.Timeout = time.Nanosecond
		c.hc.Transport, c.hc.Timeout = hc.Transport, hc.Timeout
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "timeout" || !IsRetryable(err) {
			t.Fatalf("%q %v %v", ErrorCode(err), IsRetryable(err), err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		c, _, srv := setup(t)
		srv.Close()
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "network" || !IsRetryable(err) || IsConfigError(err) {
			t.Fatalf("%q %v", ErrorCode(err), err)
		}
	})
	t.Run("connection cut mid-body", func(t *testing.T) {
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"Code\":\"OK\"")
			buf.Flush()
		})
		_, err := c.CloudMonitorTask(context.Background(), 1, 2)
		if ErrorCode(err) != "network" || !IsRetryable(err) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%q %v", ErrorCode(err), err)
		}
	})
}

func TestCredentialsFailures(t *testing.T) {
	var rec recorder
	c, mux, _ := setup(t, func(o *Options) { o.Credentials = failingProvider{} })
	mux.HandleFunc("/", serveBody(&rec, 200, "{}"))
	_, err := c.CloudMonitorTask(context.Background(), 1, 2)
	if ErrorCode(err) != "credentials" || IsRetryable(err) || IsConfigError(err) || !errors.Is(err, errNoMetadata) {
		t.Errorf("%q %v", ErrorCode(err), err)
	}
	c2, mux2, _ := setup(t, func(o *Options) { o.Credentials = StaticCredentials{AccessKeyID: testAK} })
	mux2.HandleFunc("/", serveBody(&rec, 200, "{}"))
	_, err = c2.CloudQueryTask(context.Background(), TaskQuery{})
	if ErrorCode(err) != "credentials" || !IsConfigError(err) {
		t.Errorf("empty secret: %q %v", ErrorCode(err), err)
	}
	if len(rec.all()) != 0 {
		t.Error("request sent without credentials")
	}
}

var errNoMetadata = errors.New("metadata service unreachable")

type failingProvider struct{}

func (failingProvider) Credentials(context.Context) (Credentials, error) {
	return Credentials{}, errNoMetadata
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		h    map[string]string
		want time.Duration
	}{
		{nil, 0},
		{map[string]string{"x-ratelimit-user": "Limit:1,Remain:0,TimeLeft:2000,Reset:1234"}, 2 * time.Second},
		{map[string]string{"x-ratelimit-user-api": "Limit:1,Remain:0,TimeLeft:2000,Reset:1234"}, 2 * time.Second},
		{map[string]string{"x-ratelimit-user-api": "Limit:1,Remain:0,TimeLeft:2000,Reset:1234", "x-ratelimit-user": "Limit:1,Remain:0,TimeLeft:0,Reset:1234"}, 2 * time.Second},
		{map[string]string{"x-ratelimit-user-api": "Limit:1,Remain:0,TimeLeft:150,Reset:1", "x-ratelimit-user": "Limit:1,Remain:0,TimeLeft:900,Reset:1"}, 900 * time.Millisecond},
		{map[string]string{"x-ratelimit-user-api": "Limit:1, Remain:0, TimeLeft: 250 ,Reset:1"}, 250 * time.Millisecond},
		{map[string]string{"x-ratelimit-user-api": "TimeLeft:abc"}, 0},
		{map[string]string{"x-ratelimit-user-api": "TimeLeft:-5"}, 0},
		{map[string]string{"x-ratelimit-user-api": "TimeLeft:99999999999999999"}, time.Hour},
		{map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0},
		{map[string]string{"Retry-After": "3", "x-ratelimit-user": "TimeLeft:500"}, 500 * time.Millisecond},
	} {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		if got := retryAfter(h); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}

	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ratelimit-user-api", "Limit:10,Remain:0,TimeLeft:1500,Reset:1776650400")
		w.WriteHeader(400)
		io.WriteString(w, `{"RequestId":"R","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`)
	})
	_, err := c.CloudMonitorTask(context.Background(), 1, 2)
	var ae *Error
	if !errors.As(err, &ae) || ae.RetryAfter != 1500*time.Millisecond || !IsRetryable(err) {
		t.Fatalf("%#v", err)
	}
	if !strings.Contains(err.Error(), "retry after 1.5s") {
		t.Errorf("%q", err)
	}
}

func TestClassifiers(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("collector: task 19: %w", err) }
	for _, tc := range []struct {
		err       error
		code      string
		retryable bool
		config    bool
	}{
		{nil, "OK", false, false},
		{&Error{Code: "Throttling.User"}, "Throttling.User", true, false},
		{wrap(&Error{Code: "Throttling.Concurrent"}), "Throttling.Concurrent", true, false},
		{wrap(&Error{Code: "Forbidden.AccessKeyDisabled"}), "Forbidden.AccessKeyDisabled", false, true},
		{&Error{Code: "InvalidParameter.TaskId"}, "InvalidParameter.TaskId", false, true},
		{&Error{Code: "MissingTaskId"}, "MissingTaskId", false, true},
		{&Error{Code: "InvalidSecurityToken.Expired"}, "InvalidSecurityToken.Expired", false, true},
		{&Error{Code: "InvalidAccessKeyId"}, "InvalidAccessKeyId", false, true},
		{&Error{Code: "isp.SYSTEM_ERROR"}, "isp.SYSTEM_ERROR", true, false},
		{&Error{Code: "weird code\n" + strings.Repeat("x", 100)}, "weird_code_" + strings.Repeat("x", 53), false, false},
		{&Error{HTTPStatus: 500}, "http_500", true, false},
		{&Error{HTTPStatus: 400}, "http_400", false, false},
		{&Error{}, "bad_response", false, false},
		{&requestError{class: classNetwork, retryable: true}, "network", true, false},
		{wrap(&requestError{class: classBodyTooLarge}), "body_too_large", false, false},
		{context.DeadlineExceeded, "timeout", false, false},
		{wrap(context.Canceled), "canceled", false, false},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, "network", false, false},
		{&url.Error{Op: "Post", URL: "x", Err: timeoutError{}}, "timeout", false, false},
		{errors.New("something else"), "other", false, false},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := IsRetryable(tc.err); got != tc.retryable {
			t.Errorf("IsRetryable(%v) = %v", tc.err, got)
		}
		if got := IsConfigError(tc.err); got != tc.config {
			t.Errorf("IsConfigError(%v) = %v", tc.err, got)
		}
	}
}

// secretWindows lists every 12-byte run of the secrets: none may appear in
// any error text.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range []string{testSK, testToken} {
		for i := 0; i+partialWindow <= len(sec); i++ {
			if strings.Contains(s, sec[i:i+partialWindow]) {
				t.Fatalf("%s leaks %q: %s", what, sec[i:i+partialWindow], s)
			}
		}
	}
}

// TestSecretsNeverInErrors drives every error path with a server that
// echoes the Authorization header, the STS token and the secret back.
func TestSecretsNeverInErrors(t *testing.T) {
	esc := strings.ReplaceAll(testToken, "/", `\/`)
	for name, respond := range map[string]func(w http.ResponseWriter, auth, tok string){
		"200 not JSON": func(w http.ResponseWriter, auth, tok string) {
			io.WriteString(w, "echo: "+auth+" token="+tok+" secret="+testSK)
		},
		"200 JSON-escaped echo, not JSON": func(w http.ResponseWriter, auth, tok string) {
			io.WriteString(w, `{"Code":"OK","Token":"`+esc+`","Data":`)
		},
		"URL-encoded echo": func(w http.ResponseWriter, auth, tok string) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>"+url.QueryEscape(tok)+" "+PercentEncode(testSK)+"</html>")
		},
		"error JSON echoing everywhere": func(w http.ResponseWriter, auth, tok string) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"RequestId":%q,"HostId":%q,"Code":"InvalidParameter","Message":%q,"Recommend":%q}`,
				tok, testSK, "bad: "+auth+" "+tok+" "+testSK, "https://x/?t="+esc)
		},
		"token as Code": func(w http.ResponseWriter, auth, tok string) {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"Code":%q}`, tok)
		},
		// (A secret in a numeric field is unreadable, not an error: see
		// TestUnreadableNeverQuotesTheValue.)
		"token in place of a block": func(w http.ResponseWriter, auth, tok string) {
			fmt.Fprintf(w, `{"Code":"OK","Data":{"AgentInfo":%q}}`, tok)
		},
		"secret in place of a block": func(w http.ResponseWriter, auth, tok string) {
			fmt.Fprintf(w, `{"Code":"OK","Data":{"AgentInfo":%q}}`, testSK)
		},
		"token prefix at the snippet cut": func(w http.ResponseWriter, auth, tok string) {
			io.WriteString(w, strings.Repeat("x", snippetLen-20)+tok[:60])
		},
		"token in 502 HTML": func(w http.ResponseWriter, auth, tok string) {
			w.WriteHeader(502)
			io.WriteString(w, "<html><pre>\n"+auth+"\nx-acs-security-token: "+tok+"\n</pre></html>")
		},
		"oversize echo": func(w http.ResponseWriter, auth, tok string) {
			io.WriteString(w, tok+strings.Repeat(" ", 5000))
		},
		"truncated after the token": func(w http.ResponseWriter, auth, tok string) {
			fmt.Fprintf(w, `{"Code":"OK","RequestId":%q,"Data":{`, tok)
		},
	} {
		t.Run(name, func(t *testing.T) {
			var codes []string
			c, mux, _ := setup(t, withSTS, func(o *Options) {
				o.MaxBodyBytes = 4096
				o.Observe = func(_, code string, _ time.Duration) { codes = append(codes, code) }
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				respond(w, r.Header.Get("Authorization"), r.Header.Get("x-acs-security-token"))
			})
			_, err := c.CloudMonitorTask(context.Background(), 1, 2)
			if err == nil {
				t.Fatal("no error")
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				assertNoSecrets(t, verb, fmt.Sprintf(verb, err))
			}
			var ae *Error
			if errors.As(err, &ae) {
				assertNoSecrets(t, "*Error %#v", fmt.Sprintf("%#v", *ae))
			}
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				assertNoSecrets(t, "chain", e.Error())
			}
			assertNoSecrets(t, "ErrorCode", ErrorCode(err))
			assertNoSecrets(t, "Observe", strings.Join(codes, " "))
			_, err = c.CloudQueryTask(context.Background(), TaskQuery{})
			assertNoSecrets(t, "CloudQueryTask", fmt.Sprintf("%+v", err))
			assertNoSecrets(t, "client", fmt.Sprintf("%v %+v %#v", c, c, c))
		})
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor(Credentials{AccessKeyID: "id", AccessKeySecret: testSK, SecurityToken: testToken})
	for _, in := range []string{
		testToken, "a" + testToken + "b", testSK + testSK, testToken[:13], testToken[50:90],
		strings.ReplaceAll(testToken, "/", `\/`), url.QueryEscape(testToken),
		testSK[:12] + "\n" + testSK[12:],
	} {
		out := r.redact(in)
		assertNoSecrets(t, "redact", out)
		if !strings.Contains(out, redacted) {
			t.Errorf("redact(%q) = %q: no marker", in, out)
		}
	}
	if got := r.redact("id and ordinary text"); got != "id and ordinary text" {
		t.Errorf("ordinary text changed: %q", got)
	}
	// Short secrets are replaced whole only, and never loop.
	short := newRedactor(Credentials{AccessKeySecret: "redact", SecurityToken: "abc"})
	if got := short.redact("redact <redacted> abc"); strings.Count(got, "redact") < 1 {
		t.Errorf("%q", got)
	}
}

func TestCredentialsFormattingRedacts(t *testing.T) {
	c := Credentials{AccessKeyID: testAK, AccessKeySecret: testSK, SecurityToken: testToken}
	s := StaticCredentials(c)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assertNoSecrets(t, verb, fmt.Sprintf(verb, c))
		assertNoSecrets(t, verb, fmt.Sprintf(verb, s))
		assertNoSecrets(t, verb, fmt.Sprintf(verb, &s))
		assertNoSecrets(t, verb, fmt.Sprintf(verb, Options{Credentials: s}))
	}
}

// ctxProvider fails the way a provider fails when the caller's context
// ends before it has an answer: with ctx.Err(), possibly wrapped.
type ctxProvider struct{ wrap bool }

func (p ctxProvider) Credentials(ctx context.Context) (Credentials, error) {
	<-ctx.Done()
	if p.wrap {
		return Credentials{}, fmt.Errorf("provider gave up: %w", ctx.Err())
	}
	return Credentials{}, ctx.Err()
}

// errProvider has no credentials to give, or a step of its own timed out.
type errProvider struct{ err error }

func (p errProvider) Credentials(context.Context) (Credentials, error) { return Credentials{}, p.err }

// TestCredentialFailureClasses: the end of the caller's context while the
// provider works is timeout or canceled (final, not a configuration
// error), a provider's own timeout is a retryable timeout, and only a
// provider that has nothing to give is "credentials".
func TestCredentialFailureClasses(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-expired.Done()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for _, c := range []struct {
		name           string
		p              CredentialsProvider
		ctx            context.Context
		code           string
		retryable, cfg bool
	}{
		{"deadline", ctxProvider{}, expired, "timeout", false, false},
		{"deadline, wrapped", ctxProvider{wrap: true}, expired, "timeout", false, false},
		{"cancelled", ctxProvider{}, cancelled, "canceled", false, false},
		{"cancelled, wrapped", ctxProvider{wrap: true}, cancelled, "canceled", false, false},
		{"provider's own timeout", errProvider{fmt.Errorf("metadata: %w", context.DeadlineExceeded)}, context.Background(), "timeout", true, false},
		{"none found", errProvider{errors.New("no credentials")}, context.Background(), "credentials", false, false},
	} {
		cl, err := New(Options{Endpoint: "http://127.0.0.1:1", Credentials: c.p})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.CloudMonitorTask(c.ctx, 1, 1)
		if got := ErrorCode(err); got != c.code || IsRetryable(err) != c.retryable || IsConfigError(err) != c.cfg {
			t.Errorf("%s: code %q retryable %v config %v (%v); want %q %v %v", c.name, got, IsRetryable(err), IsConfigError(err), err, c.code, c.retryable, c.cfg)
		}
	}
}

func TestCodeLabel(t *testing.T) {
	for code, want := range map[string]string{
		"OK": "OK", "Throttling.User": "Throttling.User", "isv.BUSINESS_LIMIT_CONTROL": "isv.BUSINESS_LIMIT_CONTROL",
		"Forbidden.RAM": "Forbidden.RAM", "InvalidAccessKeyId.NotFound": "InvalidAccessKeyId.NotFound",
		"isp.RAM_PERMISSION_DENY": "isp.RAM_PERMISSION_DENY", "MissingParameter": "MissingParameter",
		"timeout": "timeout", "canceled": "canceled", "network": "network", "bad_response": "bad_response",
		"body_too_large": "body_too_large", "credentials": "credentials", "invalid_argument": "invalid_argument",
		"other": "other", "rate_limited": "rate_limited",
		"http_503": "http_503", "http_429": "http_429", "http_504": "http_504", "http_502": "http_502", "http_400": "http_400", "http_403": "http_403", "http_599": "http_other", "http_0503": "http_other", "http_x": "http_other",
		"Forbidden.Whatever": "Forbidden.other", "Throttling.New": "Throttling.other",
		"InvalidAccessKeyId.Z": "InvalidAccessKeyId.other", "InvalidParameter.Q": "InvalidParameter.other",
		"InvalidSecurityToken.Q": "InvalidSecurityToken.other",
		"Gateway.Code123":        "other", "": "other", "ok": "other", "Forbidden": "Forbidden",
	} {
		if got := CodeLabel(code); got != want {
			t.Errorf("CodeLabel(%q) = %q, want %q", code, got, want)
		}
	}
	// Every code the client acts on keeps its own value.
	for c := range retryableCodes {
		if CodeLabel(c) != c {
			t.Errorf("retryable code %s loses its label", c)
		}
	}
	for c := range configCodes {
		if CodeLabel(c) != c {
			t.Errorf("configuration code %s loses its label", c)
		}
	}
}
