package apiclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/version"
)

const (
	// DefaultEndpoint serves every region ("central" endpoint rule).
	DefaultEndpoint = "https://dyvmsapi.aliyuncs.com"
	// APIVersion is the dyvmsapi version every operation the client calls
	// belongs to.
	APIVersion = "2017-05-25"
	// DefaultMaxBodyBytes is far above any real answer (an agent row is
	// about 400 bytes, so even 10,000 agents stay under 5 MiB) and far
	// below what would hurt the exporter's memory.
	DefaultMaxBodyBytes = 16 << 20

	// MaxPageSize is the largest Limit CloudQueryTask accepts.
	MaxPageSize = 100
	// maxPages stops CloudQueryTask against a server that never returns a
	// short page: 1000 pages of 100 tasks is far beyond any call centre.
	maxPages = 1000

	// snippetLen bounds how much of an unreadable body an error quotes.
	snippetLen = 200
	// snippetScan is how much of the body is redacted and cleaned before
	// cutting the snippet; redacting all of a 16 MiB body would be slow.
	snippetScan = 4096
)

// Options configures a Client. Only Credentials is required.
type Options struct {
	Endpoint     string              // default DefaultEndpoint; scheme http or https, no path
	Credentials  CredentialsProvider // required
	HTTPClient   *http.Client        // default: a client with sane transport timeouts
	Location     *time.Location      // zone of the API's wall-clock times; default Asia/Shanghai
	MaxBodyBytes int64               // default DefaultMaxBodyBytes
	UserAgent    string              // default "dyvms_exporter/" + version.Version ("unknown" when unset)
	Now          func() time.Time    // clock for x-acs-date; default time.Now
	Nonce        func() string       // must be unique per request; default 32 hex chars from crypto/rand
	// Observe, if set, is called once per HTTP attempt with the operation,
	// ErrorCode of the attempt's outcome ("OK" on success) and its duration.
	Observe func(operation, code string, d time.Duration)
}

// Client calls the dyvmsapi operations the exporter needs (Operations). It never
// retries by itself: the caller owns the scrape deadline and decides with
// IsRetryable and Error.RetryAfter whether another attempt fits in it.
// A Client is safe for concurrent use.
type Client struct {
	endpoint *url.URL
	creds    CredentialsProvider
	hc       *http.Client
	loc      *time.Location
	maxBody  int64
	ua       string
	now      func() time.Time
	nonce    func() string
	observe  func(operation, code string, d time.Duration)

	ownsHC  bool        // hc was made here, not given in Options
	retired atomic.Bool // see Retire
}

// String identifies the client without its credentials: the unexported
// credentials field would otherwise be printed raw by %v, which does not
// call the provider's redacting formatter for unexported fields.
func (c *Client) String() string {
	return "apiclient.Client{endpoint=" + c.endpoint.String() + " user_agent=" + c.ua + "}"
}

// GoString makes %#v as safe as %v.
func (c *Client) GoString() string { return c.String() }

// Format routes every verb through String.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// New checks o and fills in its defaults.
func New(o Options) (*Client, error) {
	if o.Credentials == nil {
		return nil, errors.New("apiclient: Options.Credentials is required")
	}
	ep, err := parseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	if o.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("apiclient: Options.MaxBodyBytes must not be negative, got %d", o.MaxBodyBytes)
	}
	c := &Client{
		endpoint: ep,
		creds:    o.Credentials,
		loc:      o.Location,
		maxBody:  o.MaxBodyBytes,
		ua:       o.UserAgent,
		now:      o.Now,
		nonce:    o.Nonce,
		observe:  o.Observe,
	}
	if c.loc == nil {
		c.loc = defaultLocation()
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.ua == "" {
		v := version.Version
		if v == "" {
			v = "unknown"
		}
		c.ua = "dyvms_exporter/" + v
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.nonce == nil {
		c.nonce = randomNonce
	}
	if o.HTTPClient != nil {
		// A shallow copy shares the caller's transport and connection
		// pool; only redirects are turned off, because following one would
		// forward the STS token header to wherever it points.
		hc := *o.HTTPClient
		hc.CheckRedirect = noRedirects
		c.hc = &hc
	} else {
		c.hc, c.ownsHC = defaultHTTPClient(), true
	}
	return c, nil
}

// Retire tells the client it has been replaced (a reload built another):
// its idle connections are closed now, and the connection of each request
// still in flight when that request ends, rather than each idling for the
// transport's IdleConnTimeout (90 s) after every reload. A retired client
// still works, at the cost of a connection per request. A client made with
// Options.HTTPClient leaves that client's pool alone: it is the caller's.
func (c *Client) Retire() {
	if !c.ownsHC {
		return
	}
	c.retired.Store(true)
	c.hc.CloseIdleConnections()
}

func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultEndpoint
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("apiclient: invalid endpoint %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("apiclient: endpoint %q: scheme must be http or https", s)
	case u.Host == "":
		return nil, fmt.Errorf("apiclient: endpoint %q has no host", s)
	case u.User != nil:
		return nil, fmt.Errorf("apiclient: endpoint %q must not contain user info", u.Redacted())
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		// The RPC style signs path "/" and owns the query string.
		return nil, fmt.Errorf("apiclient: endpoint %q must have no path, query or fragment", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// setupTimeout bounds each step of opening a connection (TCP connect, TLS
// handshake): a peer that cannot even be reached in 5 s is better tried
// again on a fresh connection, within the deadline, than waited for.
const setupTimeout = 5 * time.Second

// defaultHTTPClient leaves the wait for the answer to the caller's
// context, which carries the scrape's budget (up to --scrape.max-timeout):
// no http.Client.Timeout and no ResponseHeaderTimeout, whose fixed 30 s
// used to fail every answer slower than that whatever the budget. Only
// connection set-up has fixed bounds (setupTimeout).
func defaultHTTPClient() *http.Client { return newHTTPClient(setupTimeout) }

// newHTTPClient lets tests shorten the set-up bounds.
func newHTTPClient(setup time.Duration) *http.Client {
	return &http.Client{
		CheckRedirect: noRedirects,
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   setup,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   setup,
			ExpectContinueTimeout: time.Second, // never used: requests have no body
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   16,
		},
	}
}

// randomNonce is 128 random bits: a nonce the server has seen is rejected
// (SignatureNonceUsed), and concurrent scrapes from several exporters must
// never collide.
func randomNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24; it crashes instead
	return hex.EncodeToString(b[:])
}

// CloudMonitorTask returns the monitoring view of one outbound call task.
func (c *Client) CloudMonitorTask(ctx context.Context, enterpriseID, taskID int64) (*CloudMonitorTaskResponse, error) {
	q := url.Values{
		"EnterpriseId": {strconv.FormatInt(enterpriseID, 10)},
		"TaskId":       {strconv.FormatInt(taskID, 10)},
	}
	var out *CloudMonitorTaskResponse
	err := c.call(ctx, OpCloudMonitorTask, q, func(body []byte) error {
		r, err := DecodeCloudMonitorTask(body, c.loc)
		out = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CloudQueryTask lists the tasks matching q, paging with Start/Limit until
// a page comes back shorter than Limit (the API returns no total). A task
// that shows up twice, because the list shifted between pages, is kept
// once (first wins). Any failed page fails the whole listing: a partial
// list would look like tasks disappeared.
func (c *Client) CloudQueryTask(ctx context.Context, q TaskQuery) ([]TaskSummary, error) {
	const op = OpCloudQueryTask
	limit := q.PageSize
	if limit == 0 {
		limit = MaxPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, &requestError{Operation: op, class: classInvalidArgument, config: true,
			msg: fmt.Sprintf("page size %d outside 1..%d", q.PageSize, MaxPageSize)}
	}
	params := url.Values{
		"EnterpriseId": {strconv.FormatInt(q.EnterpriseID, 10)},
		"Type":         {strconv.FormatInt(q.Type, 10)},
		"Limit":        {strconv.Itoa(limit)},
	}
	if q.Status != nil {
		params.Set("Status", strconv.FormatInt(*q.Status, 10))
	}
	if q.Name != "" {
		params.Set("Name", q.Name)
	}

	var (
		all  []TaskSummary
		prev []TaskSummary
		seen = make(map[int64]bool)
	)
	for page := 0; page < maxPages; page++ {
		params.Set("Start", strconv.Itoa(page*limit))
		var tasks []TaskSummary
		err := c.call(ctx, op, params, func(body []byte) error {
			r, err := DecodeCloudQueryTask(body, c.loc)
			if err == nil {
				tasks = r.Data.TaskProperties
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if page > 0 && len(tasks) > 0 && slices.Equal(tasks, prev) {
			return nil, &requestError{Operation: op, class: classBadResponse,
				msg: fmt.Sprintf("page at Start=%d repeats the previous page; the server seems to ignore Start", page*limit)}
		}
		for _, t := range tasks {
			if t.ID.Valid {
				if seen[t.ID.Value] {
					continue
				}
				seen[t.ID.Value] = true
			}
			all = append(all, t)
		}
		if len(tasks) < limit {
			return all, nil
		}
		prev = tasks
	}
	return nil, &requestError{Operation: op, class: classBadResponse,
		msg: fmt.Sprintf("no short page after %d pages of %d tasks", maxPages, limit)}
}

// call performs one signed request and hands a 2xx body to decode.
func (c *Client) call(ctx context.Context, op string, params url.Values, decode func([]byte) error) error {
	creds, err := c.creds.Credentials(ctx)
	if err != nil {
		return credentialsError(ctx, op, err)
	}
	if creds.AccessKeyID == "" || creds.AccessKeySecret == "" {
		return &requestError{Operation: op, class: classCredentials, config: true,
			msg: "credentials have an empty access key id or secret"}
	}
	red := newRedactor(creds)

	u := *c.endpoint
	u.RawQuery = CanonicalQueryString(params)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return &requestError{Operation: op, class: classOther, msg: "cannot build request", err: err}
	}
	req.Header.Set("x-acs-action", op)
	req.Header.Set("x-acs-version", APIVersion)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	signRequest(req, creds, c.now(), c.nonce())

	start := time.Now()
	err = c.attempt(ctx, op, req, red, decode)
	if c.observe != nil {
		c.observe(op, ErrorCode(err), time.Since(start))
	}
	if c.retired.Load() {
		c.hc.CloseIdleConnections()
	}
	return err
}

func (c *Client) attempt(ctx context.Context, op string, req *http.Request, red redactor, decode func([]byte) error) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, op, "request failed", err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return transportError(ctx, op, "reading response failed", err)
	}
	if int64(len(body)) > c.maxBody {
		return &requestError{Operation: op, class: classBodyTooLarge,
			msg: "response body exceeds " + formatBytes(c.maxBody) + " limit"}
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		err = decode(body)
	} else {
		err = errorResponse(op, body)
	}
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		ae.HTTPStatus = resp.StatusCode
		ae.RetryAfter = retryAfter(resp.Header)
		for _, f := range []*string{&ae.Code, &ae.Message, &ae.RequestID, &ae.HostID, &ae.Recommend} {
			*f = truncateUTF8(red.redact(oneLine(*f)), snippetLen)
		}
		if ae.Code == "" && ae.Message == "" && !bodyIsPersonal[op] {
			ae.Message = snippet(body, red)
		}
		return ae
	}
	// A decoding failure: keep only the redacted text, never the raw error,
	// whose message may quote a value the server echoed.
	msg := err.Error()
	if re, ok := err.(*requestError); ok {
		msg = re.msg
	}
	quoted := snippet(body, red)
	if bodyIsPersonal[op] {
		quoted = "(not quoted: it holds personal data)"
	}
	return &requestError{Operation: op, class: classBadResponse,
		msg: red.redact(oneLine(msg)) + "; HTTP " + strconv.Itoa(resp.StatusCode) + ", body: " + quoted}
}

// bodyIsPersonal names the operations whose answers carry personal data
// (call records: customers' numbers, recordings; online agents: their bound
// phones); an unreadable answer of theirs is never quoted in an error.
var bodyIsPersonal = map[string]bool{opCdr: true, OpCloudQueryIbCdr: true, OpCloudListOnlineAgent: true}

// errorResponse turns a non-2xx answer into *Error, with the Code of its
// body when it has one (the vendor's error JSON), else just the status (a
// proxy's HTML page).
func errorResponse(op string, body []byte) error {
	var env envelope
	if jsonErr := json.Unmarshal(body, &env); jsonErr == nil && env.Code != "" && env.Code != "OK" {
		return env.apiError(op)
	}
	return &Error{Operation: op}
}

// transportError classifies a failure to send or to read: the caller's
// context running out is final, anything else failed only this attempt.
func transportError(ctx context.Context, op, msg string, err error) error {
	re := &requestError{Operation: op, msg: msg, err: err}
	if !classifyContext(ctx, err, re) {
		re.class, re.retryable = classNetwork, true
	}
	return re
}

// credentialsError classifies a provider's failure. A provider gives up
// when the caller's context ends (the default chain returns ctx.Err()):
// that is a timeout or a cancellation like any other, not a missing key;
// "credentials" is left for a provider that has none to give.
func credentialsError(ctx context.Context, op string, err error) error {
	re := &requestError{Operation: op, msg: "cannot get credentials", err: err}
	if !classifyContext(ctx, err, re) {
		re.class = classCredentials
		// A provider that could not reach its source (STS for an assumed
		// role, the metadata service) failed this attempt only. Not any
		// net.Error: a file's syscall.Errno satisfies that interface too.
		if unreachable(err) {
			re.class, re.retryable = classNetwork, true
		}
	}
	return re
}

// unreachable tells whether err is a failure to reach a server: an HTTP
// client's *url.Error or a dial's *net.OpError.
func unreachable(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &oe)
}

// classifyContext sets re's class when the failure is the end of a
// context, and reports whether it was: the caller's own context (final:
// no time is left to retry in), or a timeout of one step while the
// caller's context is alive (a net timeout, a deadline of the attempt's
// own): retryable. A context cancelled with DeadlineExceeded as its cause
// (the pacer's shared calls end so at their latest waiter's deadline) is
// a timeout like one that reached its own deadline.
func classifyContext(ctx context.Context, err error, re *requestError) bool {
	var ne net.Error
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		re.class = classTimeout
	case ctx.Err() != nil:
		re.class = classCanceled
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		re.class, re.retryable = classTimeout, true
	case errors.Is(err, context.Canceled):
		re.class, re.retryable = classCanceled, true
	default:
		return false
	}
	return true
}

// snippet quotes the start of an unreadable body on one line, redacted.
func snippet(body []byte, red redactor) string {
	if len(body) == 0 {
		return "(empty)"
	}
	s := string(body[:min(len(body), snippetScan)])
	return truncateUTF8(oneLine(red.redact(s)), snippetLen)
}

func formatBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	if n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
