package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// RoleConfig is a RAM role to assume through STS.
type RoleConfig struct {
	// Account names the account in errors and logs.
	Account string
	RoleARN string
	// ExternalID is sent as ExternalId when set; never printed.
	ExternalID      string
	RoleSessionName string
	// STSEndpoint (host[:port], always https) or Region; neither:
	// sts.aliyuncs.com.
	STSEndpoint string
	Region      string
	// Source is the identity that assumes the role: the account's own keys,
	// or the default account's provider (the cross-account pattern).
	Source apiclient.CredentialsProvider
	// OnRenewalFailure, when set, hears of every failed renewal that the
	// key in hand still covers (those fail no request, so nothing else
	// would tell); the error names account and role, never a secret.
	OnRenewalFailure func(error)
}

// Role assumes a RAM role through the vendor's RAM role ARN provider
// (credentials-go), which signs AssumeRole with the source identity and
// renews the temporary key lazily, inside the call that finds less than
// 180 s of validity left. Three things are added around it:
//
//   - Calls are serialised (the vendor provider takes no lock) and give up
//     when the caller's context ends, the lookup going on in the
//     background, as Chain does.
//   - A failed renewal does not fail a request while the key in hand is
//     still good. The vendor renews only once less than 180 s remain, and
//     it found more than that at the last call that did not renew; so the
//     key in hand stays in use until that call plus 180 s (less a margin)
//     and the renewal is retried at every call meanwhile. Nor does a slow
//     renewal hold a request: with a valid key in hand, a lookup that takes
//     longer than renewPatience finishes in the background, and calls
//     meanwhile go with the key in hand.
//   - An AssumeRole refusal becomes an *apiclient.Error with STS's Code
//     (NoPermission, EntityNotExist.Role, ...), so it is retried when it
//     is transient (Throttling, ServiceUnavailable) and counted under its
//     own code like any API error, and STS unreachable is a network error.
//     STS's Message is never passed on: for SignatureDoesNotMatch it
//     quotes the string to sign, source token included.
type Role struct {
	sealed
}

// renewMargin is kept between the last instant the key in hand is known to
// be valid and its use: a request signed just before expiry must still
// reach the gateway in time.
const renewMargin = 10 * time.Second

// vendorMargin is the vendor provider's renewal window: it renews once the
// key has this little validity left (needUpdateCredential).
const vendorMargin = 180 * time.Second

type roleState struct {
	sem    chan struct{}
	cfg    RoleConfig
	vendor interface {
		GetCredentials() (*providers.Credentials, error)
	}
	now func() time.Time

	mu        sync.Mutex
	last      apiclient.Credentials
	goodUntil time.Time // the key in hand is valid at least until then
}

// NewRole builds the provider; nothing is asked of STS until first use.
func NewRole(cfg RoleConfig) (*Role, error) {
	if cfg.Source == nil {
		return nil, fmt.Errorf("credentials: account %s: role %s has no source identity", cfg.Account, cfg.RoleARN)
	}
	src := &sourceAdapter{src: cfg.Source}
	b := providers.NewRAMRoleARNCredentialsProviderBuilder().
		WithCredentialsProvider(src).
		WithRoleArn(cfg.RoleARN).
		WithRoleSessionName(cfg.RoleSessionName).
		WithDurationSeconds(3600)
	if cfg.ExternalID != "" {
		b = b.WithExternalId(cfg.ExternalID)
	}
	switch {
	case cfg.STSEndpoint != "":
		b = b.WithStsEndpoint(cfg.STSEndpoint)
	case cfg.Region != "":
		b = b.WithStsRegionId(cfg.Region)
	}
	v, err := b.Build()
	if err != nil {
		// The builder's errors name missing settings, never values.
		return nil, fmt.Errorf("credentials: account %s: role %s: %v", cfg.Account, cfg.RoleARN, err)
	}
	return newRole(cfg, v, time.Now), nil
}

func newRole(cfg RoleConfig, v interface {
	GetCredentials() (*providers.Credentials, error)
}, now func() time.Time) *Role {
	st := &roleState{sem: make(chan struct{}, 1), cfg: cfg, vendor: v, now: now}
	desc := fmt.Sprintf("role %s of account %s (assumed with %v)", cfg.RoleARN, cfg.Account, cfg.Source)
	return &Role{sealed{creds: st.credentials, desc: desc}}
}

// GoString makes %#v as safe as %v.
func (r Role) GoString() string { return "credentials.Role{" + r.String() + "}" }

// Format keeps fmt's reflection away from the vendor provider inside.
func (r Role) Format(f fmt.State, verb rune) { formatRedacted(f, verb, r.String(), r.GoString()) }

func (st *roleState) credentials(ctx context.Context) (apiclient.Credentials, error) {
	select {
	case st.sem <- struct{}{}:
	default:
		// A lookup is in flight (a renewal, most likely): the key in
		// hand, while it is known valid, does not wait for it.
		if c, ok := st.inHand(); ok {
			return c, nil
		}
		select {
		case st.sem <- struct{}{}:
		case <-ctx.Done():
			return apiclient.Credentials{}, fmt.Errorf("credentials: account %s: waiting for role %s: %w", st.cfg.Account, st.cfg.RoleARN, ctx.Err())
		}
	}
	type result struct {
		c   apiclient.Credentials
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.err = fmt.Errorf("credentials: account %s: assuming role %s panicked", st.cfg.Account, st.cfg.RoleARN)
				}
			}()
			r.c, r.err = st.get()
		}()
		// Free the lookup before answering: a call that follows this
		// answer must find no lookup in flight, or it takes the key in
		// hand without the renewal it is due.
		<-st.sem
		done <- r
	}()
	// With a valid key in hand, a lookup that takes longer than a cached
	// answer would (a renewal's round trip to STS) is not waited for: the
	// request goes with the key in hand, and the renewal finishes in the
	// background. So a slow STS never costs a scrape its deadline.
	var patience <-chan time.Time
	if _, ok := st.inHand(); ok {
		t := time.NewTimer(renewPatience)
		defer t.Stop()
		patience = t.C
	}
	select {
	case r := <-done:
		return r.c, r.err
	case <-patience:
		if c, ok := st.inHand(); ok {
			return c, nil
		}
		select {
		case r := <-done:
			return r.c, r.err
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	return apiclient.Credentials{}, fmt.Errorf("credentials: account %s: role %s did not answer in time (it goes on in the background): %w", st.cfg.Account, st.cfg.RoleARN, ctx.Err())
}

// renewPatience is how long a request with a valid key in hand waits for
// a lookup: far more than the vendor's cached answer takes, far less than
// a scrape's deadline. A variable only so that a test of renewals can wait
// for each one on a loaded machine.
var renewPatience = 50 * time.Millisecond

// inHand is the key in hand when it is known valid now.
func (st *roleState) inHand() (apiclient.Credentials, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.last.AccessKeyID != "" && st.now().Before(st.goodUntil) {
		return st.last, true
	}
	return apiclient.Credentials{}, false
}

// get runs with the semaphore held.
func (st *roleState) get() (apiclient.Credentials, error) {
	start := st.now()
	m, err := st.vendor.GetCredentials()
	if err == nil && (m == nil || m.AccessKeyId == "" || m.AccessKeySecret == "" || m.SecurityToken == "") {
		err = errors.New("STS answered without a whole temporary key")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		if st.last.AccessKeyID != "" && start.Before(st.goodUntil) {
			if st.cfg.OnRenewalFailure != nil {
				st.cfg.OnRenewalFailure(st.describe(err))
			}
			return st.last, nil // renewal retried at the next call
		}
		return apiclient.Credentials{}, st.describe(err)
	}
	c := apiclient.Credentials{AccessKeyID: m.AccessKeyId, AccessKeySecret: m.AccessKeySecret, SecurityToken: m.SecurityToken}
	// Whether the vendor renewed or not, what it returns has more than
	// vendorMargin left as of this call (a role whose lifetime is shorter
	// is renewed at every call and gains nothing here).
	st.last, st.goodUntil = c, start.Add(vendorMargin-renewMargin)
	return c, nil
}

// describe turns the vendor's error into one that names the account and
// the role and carries STS's Code, never its Message or a secret.
func (st *roleState) describe(err error) error {
	var se *sourceError
	if errors.As(err, &se) {
		return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "the source identity failed", err: se.err}
	}
	var ue *url.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ue):
		// The URL's query holds the source's signature and token: keep
		// only what failed.
		return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "STS unreachable", err: &url.Error{Op: ue.Op, URL: "https://" + st.stsHost(), Err: ue.Err}}
	case errors.As(err, &oe):
		return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "STS unreachable", err: oe}
	}
	msg := err.Error()
	if body, ok := strings.CutPrefix(msg, "refresh session token failed: "); ok {
		var e struct{ Code, RequestId string }
		if json.Unmarshal([]byte(body), &e) == nil && e.Code != "" {
			return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, api: &apiclient.Error{
				Operation: "AssumeRole", Code: e.Code, RequestID: e.RequestId,
				Message: fmt.Sprintf("STS refused to assume role %s for account %s", st.cfg.RoleARN, st.cfg.Account),
			}}
		}
		return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "STS answered an error without a readable Code"}
	}
	if strings.HasPrefix(msg, "refresh RoleArn sts token err") || strings.Contains(msg, "parsing time") {
		return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "STS's answer could not be read"}
	}
	return &roleError{account: st.cfg.Account, arn: st.cfg.RoleARN, msg: "AssumeRole failed"}
}

// stsHost is where STS is asked, for messages.
func (st *roleState) stsHost() string {
	switch {
	case st.cfg.STSEndpoint != "":
		return st.cfg.STSEndpoint
	case st.cfg.Region != "":
		return "sts." + st.cfg.Region + ".aliyuncs.com"
	}
	return "sts.aliyuncs.com"
}

// roleError names the account and the role. It unwraps to the STS answer
// (an *apiclient.Error, for retry and the error code) or to the network or
// source failure.
type roleError struct {
	account, arn, msg string
	api               *apiclient.Error
	err               error
}

func (e *roleError) Error() string {
	s := "credentials: account " + e.account + ": assuming role " + e.arn + ": "
	if e.api != nil {
		return s + e.api.Error()
	}
	s += e.msg
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *roleError) Unwrap() error {
	if e.api != nil {
		return e.api
	}
	return e.err
}

// sourceAdapter lends the source identity to the vendor provider.
type sourceAdapter struct {
	src apiclient.CredentialsProvider
}

// sourceError marks a failure of the source identity, whose own error is
// already safe to show (our providers never print secrets).
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// sourceTimeout bounds one lookup of the source identity: the vendor
// provider passes no context.
const sourceTimeout = 30 * time.Second

func (a *sourceAdapter) GetCredentials() (*providers.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sourceTimeout)
	defer cancel()
	c, err := a.src.Credentials(ctx)
	if err != nil {
		return nil, &sourceError{err}
	}
	return &providers.Credentials{AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken, ProviderName: "dyvms_exporter"}, nil
}

func (a *sourceAdapter) GetProviderName() string { return "dyvms_exporter" }
