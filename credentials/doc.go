// Package credentials supplies Alibaba Cloud access keys to the API client
// from the three places an operator keeps them: inline in the configuration
// file (Static), in files that a secret manager rotates (Files), or wherever
// the vendor's default credential chain finds them (Chain).
//
// Every provider here implements apiclient.CredentialsProvider and formats
// itself without its secrets, so a provider that ends up in a log line via
// %v, %+v or %#v leaks nothing. Errors name paths, environment variables and
// sources, never a secret or the content of a file that may hold one.
package credentials

import (
	"context"
	"errors"
	"fmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// redacted is written wherever a secret would otherwise appear, so that the
// same word shows up in every log line and grep finds them all.
const redacted = "<redacted>"

// formatRedacted routes every fmt verb to the given safe strings. A type
// with a Format method wins over fmt's reflection, which would otherwise
// print unexported string fields verbatim under %+v and %#v.
func formatRedacted(f fmt.State, verb rune, str, goStr string) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, goStr)
		return
	}
	fmt.Fprint(f, str)
}

// sealed is the common core of the providers: whatever holds a secret is
// reachable only through closures. fmt prints a func as an address under
// every verb, whereas a pointer to a struct is expanded, strings and all, by
// a wrong verb such as %s (fmt's "%!s(*T=&{...})"), and fmt cannot call the
// redacting Format of a provider kept in another type's unexported field.
type sealed struct {
	creds func(context.Context) (apiclient.Credentials, error)
	desc  string // safe to print: no secret ever goes in here
}

// Credentials implements apiclient.CredentialsProvider.
func (s sealed) Credentials(ctx context.Context) (apiclient.Credentials, error) {
	if s.creds == nil {
		return apiclient.Credentials{}, errors.New("credentials: provider used without its constructor")
	}
	if err := ctx.Err(); err != nil {
		return apiclient.Credentials{}, err
	}
	return s.creds(ctx)
}

// String describes the provider without its secrets.
func (s sealed) String() string {
	if s.desc == "" {
		return "credentials provider (unset)"
	}
	return s.desc
}
