package credentials

import (
	"context"
	"fmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Static returns the same access key on every call; it is what an inline
// access_key_secret in the configuration file becomes.
type Static struct {
	sealed
}

// NewStatic wraps a fixed access key, optionally with an STS token. An STS
// token given this way expires and is never renewed; it suits short tests,
// not a long-running exporter.
func NewStatic(accessKeyID, accessKeySecret, securityToken string) *Static {
	c := apiclient.Credentials{
		AccessKeyID:     accessKeyID,
		AccessKeySecret: accessKeySecret,
		SecurityToken:   securityToken,
	}
	return &Static{sealed{
		creds: func(context.Context) (apiclient.Credentials, error) { return c, nil },
		desc:  "static credentials " + c.String(),
	}}
}

// GoString makes %#v as safe as %v.
func (s Static) GoString() string { return "credentials.Static{" + s.String() + "}" }

// Format keeps every verb away from the secret.
func (s Static) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String(), s.GoString()) }
