package credentials

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	alicred "github.com/aliyun/credentials-go/credentials"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Chain asks the vendor's default credential chain (credentials-go,
// credentials.NewCredential(nil)) for a key. It looks, in this order, at the
// environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN), at
// OIDC/RRSA on Kubernetes (ALIBABA_CLOUD_ROLE_ARN, _OIDC_PROVIDER_ARN,
// _OIDC_TOKEN_FILE), at the CLI profile ~/.aliyun/config.json, at
// ~/.alibabacloud/credentials, at the ECS instance's RAM role through the
// metadata service (skipped with ALIBABA_CLOUD_ECS_METADATA_DISABLED=true),
// and at ALIBABA_CLOUD_CREDENTIALS_URI.
//
// Refresh: the vendor's session providers (ECS RAM role, OIDC, credentials
// URI, RAM role ARN profiles) renew lazily inside GetCredential once less
// than 180 s of validity remain. The API client asks for credentials before
// every request, which is therefore all the refreshing needed; there is no
// background timer.
//
// Two vendor pitfalls shape this type. Its providers take no lock, so calls
// are serialised here. And the vendor chain remembers the last provider it
// tried even when that attempt failed, and from then on asks only that one:
// a chain that failed once (say, the exporter started before the environment
// or the profile file was in place) keeps failing after the problem is fixed.
// So a chain that fails is dropped and the next call builds a fresh one.
//
// The vendor's error text is not passed on: some of its messages quote a
// whole unparsable ~/.aliyun/config.json, secrets included, or the body of
// an HTTP answer. Chain's own error lists the sources it looked at and what
// it saw of each from the outside (variable set or not, file present or
// not), which is what an operator needs to fix the setup.
type Chain struct {
	sealed
}

type chainState struct {
	// sem is a one-slot semaphore rather than a mutex so that a caller can
	// give up waiting when its context ends.
	sem   chan struct{}
	cred  alicred.Credential // nil until built, and again after a failure
	build func() (alicred.Credential, error)
}

// NewChain builds nothing yet: the vendor chain snapshots parts of the
// environment when built, so it is built at first use.
func NewChain() *Chain {
	return newChain(func() (alicred.Credential, error) { return alicred.NewCredential(nil) })
}

// newChain lets tests replace the vendor chain.
func newChain(build func() (alicred.Credential, error)) *Chain {
	st := &chainState{sem: make(chan struct{}, 1), build: build}
	return &Chain{sealed{creds: st.credentials, desc: "default credential chain"}}
}

// credentials serialises calls into the vendor chain. The vendor calls
// cannot be cancelled (the metadata and STS requests carry their own
// timeouts), so when ctx ends first this returns at once and the lookup
// finishes in the background, still holding the lock so that calls never
// overlap; whatever it obtained stays in the vendor chain for the next call.
func (st *chainState) credentials(ctx context.Context) (apiclient.Credentials, error) {
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return apiclient.Credentials{}, fmt.Errorf("credentials: waiting for the default credential chain: %w", ctx.Err())
	}
	type result struct {
		c   apiclient.Credentials
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-st.sem }()
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					st.cred = nil
					r = result{err: fmt.Errorf("credentials: the default credential chain panicked: %s", sourcesTried())}
				}
			}()
			r.c, r.err = st.get()
		}()
		done <- r
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
		return apiclient.Credentials{}, fmt.Errorf("credentials: the default credential chain did not answer in time (it goes on in the background): %w", ctx.Err())
	}
}

// get runs with the semaphore held.
func (st *chainState) get() (apiclient.Credentials, error) {
	if st.cred == nil {
		cred, err := st.build()
		if err != nil || cred == nil {
			return apiclient.Credentials{}, fmt.Errorf("credentials: cannot build the default credential chain: %s", sourcesTried())
		}
		st.cred = cred
	}
	m, err := st.cred.GetCredential()
	if err != nil || m == nil {
		st.cred = nil
		return apiclient.Credentials{}, fmt.Errorf("credentials: the default credential chain found no usable credentials: %s", sourcesTried())
	}
	c := apiclient.Credentials{
		AccessKeyID:     deref(m.AccessKeyId),
		AccessKeySecret: deref(m.AccessKeySecret),
		SecurityToken:   deref(m.SecurityToken),
	}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		st.cred = nil
		return apiclient.Credentials{}, fmt.Errorf("credentials: the default credential chain returned an empty access key id or secret (provider %s)", deref(m.ProviderName))
	}
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GoString makes %#v as safe as %v.
func (c Chain) GoString() string { return "credentials.Chain{" + c.String() + "}" }

// Format keeps fmt's reflection away from the vendor credential inside.
func (c Chain) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// sourcesTried describes, in the vendor's order, each source of the default
// chain as seen from outside: which variables are set, which files exist.
// It reads no file content and prints no variable's value except paths,
// profile and role names and the host of a credentials URI.
func sourcesTried() string {
	home := os.Getenv("HOME")
	if runtime.GOOS == "windows" {
		home = os.Getenv("USERPROFILE")
	}
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }

	// 1. Environment.
	switch id, sec := os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"); {
	case id == "" && sec == "":
		add("environment ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set")
	case id == "":
		add("environment: ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not")
	case sec == "":
		add("environment: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not")
	default:
		add("environment ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET: set")
	}

	// 2. OIDC / RRSA.
	var missing []string
	tokenFile := os.Getenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
	if tokenFile == "" && os.Getenv("ALIBABA_CLOUD_OIDC_TOKEN") == "" {
		missing = append(missing, "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
	}
	for _, v := range []string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_ROLE_ARN"} {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	switch {
	case len(missing) == 3:
		add("OIDC/RRSA (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE): not set")
	case len(missing) > 0:
		add("OIDC/RRSA: incomplete, %s not set", strings.Join(missing, ", "))
	case tokenFile != "" && !exists(tokenFile):
		add("OIDC/RRSA: token file %s not found", tokenFile)
	default:
		add("OIDC/RRSA: configured, but the token exchange with STS failed (check the role's trust policy and the token)")
	}

	// 3. Aliyun CLI profile.
	profile := os.Getenv("ALIBABA_CLOUD_PROFILE")
	if strings.EqualFold(os.Getenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"), "true") {
		add("CLI profile: disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true")
	} else {
		name := profile
		if name == "" {
			name = "current"
		}
		add("CLI profile %s", fileState(os.Getenv("ALIBABA_CLOUD_CONFIG_FILE"), home, ".aliyun/config.json", name))
	}

	// 4. Shared credentials file.
	name := profile
	if name == "" {
		name = "default"
	}
	add("credentials file %s", fileState(os.Getenv("ALIBABA_CLOUD_CREDENTIALS_FILE"), home, ".alibabacloud/credentials", name))

	// 5. ECS RAM role.
	if strings.EqualFold(os.Getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "true") {
		add("ECS RAM role: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	} else {
		role := os.Getenv("ALIBABA_CLOUD_ECS_METADATA")
		if role != "" {
			role = " for role " + role
		}
		add("ECS RAM role%s: the metadata service 100.100.100.200 gave none (not an ECS instance, no RAM role attached, or unreachable)", role)
	}

	// 6. Credentials URI.
	if u := os.Getenv("ALIBABA_CLOUD_CREDENTIALS_URI"); u == "" {
		add("ALIBABA_CLOUD_CREDENTIALS_URI: not set")
	} else {
		host := "unparsable URL"
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			host = "host " + pu.Host
		}
		add("ALIBABA_CLOUD_CREDENTIALS_URI (%s): gave none", host)
	}

	return "sources tried: " + strings.Join(parts, "; ")
}

// fileState describes a profile file by path and presence only.
func fileState(override, home, rel, profile string) string {
	p := override
	if p == "" {
		if home == "" {
			return "~/" + rel + ": home directory unknown (HOME not set)"
		}
		p = filepath.Join(home, rel)
	}
	if !exists(p) {
		return p + ": not found"
	}
	return fmt.Sprintf("%s: present, but no usable credentials (unreadable, malformed, or profile %q missing or incomplete)", p, profile)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
