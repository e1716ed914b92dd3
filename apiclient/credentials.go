package apiclient

import (
	"context"
	"fmt"
)

// Credentials is one Alibaba Cloud access key, optionally with an STS token.
// Its formatting methods redact the secret and the token so that a stray
// %v or %+v in a log line cannot leak them.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string // empty unless the key is an STS key
}

// String shows only the key id; the secret and token are never printed.
func (c Credentials) String() string {
	tok := ""
	if c.SecurityToken != "" {
		tok = " security_token=<redacted>"
	}
	return fmt.Sprintf("access_key_id=%s access_key_secret=<redacted>%s", c.AccessKeyID, tok)
}

// GoString makes %#v as safe as %v.
func (c Credentials) GoString() string { return "apiclient.Credentials{" + c.String() + "}" }

// Format routes every verb (%v, %+v, %s, %q, %#v) through String/GoString.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// CredentialsProvider supplies credentials for each request. Implementations
// may refresh expiring credentials; the client calls it once per request.
// A static key, a key read from files, and the vendor's default credential
// chain all plug in here.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// StaticCredentials is a CredentialsProvider that always returns itself.
type StaticCredentials Credentials

// Credentials implements CredentialsProvider.
func (s StaticCredentials) Credentials(context.Context) (Credentials, error) {
	return Credentials(s), nil
}

// String redacts like Credentials.String.
func (s StaticCredentials) String() string { return Credentials(s).String() }

// GoString redacts like Credentials.GoString.
func (s StaticCredentials) GoString() string { return Credentials(s).GoString() }

// Format redacts like Credentials.Format.
func (s StaticCredentials) Format(f fmt.State, verb rune) { Credentials(s).Format(f, verb) }
