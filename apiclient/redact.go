package apiclient

import (
	"encoding/json"
	"net/url"
	"strings"
)

// The STS token travels in a request header, so a misbehaving server or
// proxy can echo it back in a body that ends up quoted in an error; the
// access key secret never travels, but a test double or a leaky gateway
// might still print it. Every piece of server-supplied text that goes into
// an error passes through a redactor built from the request's credentials.

const redacted = "<redacted>"

// minSecretLen: shorter "secrets" are not real keys, and redacting them
// would blank out ordinary words.
const minSecretLen = 4

// partialWindow is the shortest run of a secret that is redacted when it
// appears alone: a truncated echo (an error that quotes 40 bytes of a value,
// a body cut at the snippet limit) must not leak a token's prefix.
const partialWindow = 12

// The loop in redactPartial terminates only if a replaced run (at least
// partialWindow bytes) is longer than the marker that replaces it.
var _ = [partialWindow - len(redacted) - 1]struct{}{}

type redactor struct {
	secrets []string // raw secrets, for partial matches
	forms   []string // every spelling to replace whole, longest first
}

func newRedactor(c Credentials) redactor {
	var r redactor
	for _, s := range []string{c.SecurityToken, c.AccessKeySecret} {
		if len(s) < minSecretLen {
			continue
		}
		r.secrets = append(r.secrets, s)
		r.forms = append(r.forms, s, url.QueryEscape(s), PercentEncode(s))
		if j, err := json.Marshal(s); err == nil {
			esc := string(j[1 : len(j)-1])
			r.forms = append(r.forms, esc, strings.ReplaceAll(esc, "/", `\/`))
		}
	}
	return r
}

func (r redactor) redact(s string) string {
	if len(r.secrets) == 0 || s == "" {
		return s
	}
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	for _, sec := range r.secrets {
		s = redactPartial(s, sec)
	}
	return s
}

// redactPartial replaces every run of at least partialWindow bytes of s
// that also occurs in secret, extended as far as it keeps matching. Shorter
// secrets are only ever replaced whole (by redact).
func redactPartial(s, secret string) string {
	const k = partialWindow
	for i := 0; i+k <= len(secret); i++ {
		w := secret[i : i+k]
		for {
			j := strings.Index(s, w)
			if j < 0 {
				break
			}
			start, end := j, j+k
			for si := i + k; end < len(s) && si < len(secret) && s[end] == secret[si]; si++ {
				end++
			}
			for si := i; start > 0 && si > 0 && s[start-1] == secret[si-1]; si-- {
				start--
			}
			// The run is at least k bytes and the marker shorter, so s
			// shrinks on every pass and the loop ends.
			s = s[:start] + redacted + s[end:]
		}
	}
	return s
}
