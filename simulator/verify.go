package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file verifies ACS3-HMAC-SHA256 from the published algorithm only
// (Alibaba Cloud's V3 request signature documentation); it shares no code with the exporter's signer, so
// that the vendor's own client can referee between the two.

const (
	sigAlgorithm   = "ACS3-HMAC-SHA256"
	dateLayout     = "2006-01-02T15:04:05Z"
	maxClockSkew   = 15 * time.Minute
	hdrAction      = "x-acs-action"
	hdrVersion     = "x-acs-version"
	hdrDate        = "x-acs-date"
	hdrNonce       = "x-acs-signature-nonce"
	hdrContentHash = "x-acs-content-sha256"
	hdrToken       = "x-acs-security-token"
)

// apiError is a gateway or business error as the vendor reports it.
type apiError struct {
	status  int
	code    string
	message string
}

func incomplete(why string) *apiError {
	return &apiError{400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. " + why}
}

func missingParameter(name string) *apiError {
	return &apiError{400, "MissingParameter", `The input parameter "` + name + `" that is mandatory for processing this request is not supplied.`}
}

func invalidParameter(name string) *apiError {
	return &apiError{400, "InvalidParameter", `The specified parameter "` + name + `" is not valid.`}
}

// credential is a configured key pair prepared for look-ups.
type credential struct {
	id, secret, token string
	expires           time.Time // zero: never
	disabled          bool
	enterprises       map[int64]bool // nil: all of its account's
	account           string         // DefaultAccount for the top-level keys
}

// query is a request's parameters, decoded once and shared by the
// signature check and the operations.
type query map[string]string

// parseQuery decodes the query string and builds its canonical form:
// names and values percent-encoded RFC 3986 style, sorted by name.
func parseQuery(raw string) (query, string, *apiError) {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, 4)
	q := make(query, 4)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		var err error
		if k, err = url.QueryUnescape(k); err != nil {
			return nil, "", incomplete("The query string is not properly percent-encoded.")
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, "", incomplete("The query string is not properly percent-encoded.")
		}
		q[k] = v
		pairs = append(pairs, pair{percentEncode(k), percentEncode(v)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return q, b.String(), nil
}

func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// authorization is the parsed Authorization header.
type authorization struct {
	keyID         string
	signedHeaders []string
	signature     string
}

func parseAuthorization(h string) (authorization, *apiError) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigAlgorithm {
		return a, incomplete("Only " + sigAlgorithm + " in the Authorization header is supported here.")
	}
	var signed string
	for field := range strings.SplitSeq(rest, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "Credential":
			a.keyID = value
		case "SignedHeaders":
			signed = value
		case "Signature":
			a.signature = value
		}
	}
	if a.keyID == "" || signed == "" || a.signature == "" {
		return a, incomplete("Authorization needs Credential, SignedHeaders and Signature.")
	}
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

// canonicalRequest builds the canonical request of step 1 of the algorithm.
func canonicalRequest(method, path, canonicalQuery string, headerValue func(string) string, signed []string, hashedPayload string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery)
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(hashedPayload)
	return b.String()
}

// stringToSign hashes a canonical request (step 5).
func stringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigAlgorithm + "\n" + hex.EncodeToString(sum[:])
}

func sign(secret, toSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(toSign))
	return hex.EncodeToString(m.Sum(nil))
}

// requestHeader returns a header's canonical value: trimmed, several values
// sorted and joined by commas, and host from the request line.
func requestHeader(r *http.Request) func(string) string {
	return func(name string) string {
		if name == "host" {
			return strings.TrimSpace(r.Host)
		}
		vals := r.Header.Values(name)
		if len(vals) == 1 {
			return strings.TrimSpace(vals[0])
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = strings.TrimSpace(v)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
}

// verify authenticates a request whose required x-acs-* headers are
// present. Checks run in the order that gives the most specific answer:
// form of the signature, payload hash, time, key, token, signature, nonce.
func (s *Simulator) verify(r *http.Request, canonicalQuery string, body []byte, now time.Time) (*credential, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return nil, incomplete("The Authorization header is missing.")
	}
	a, aerr := parseAuthorization(authz)
	if aerr != nil {
		return nil, aerr
	}
	signed := make(map[string]bool, len(a.signedHeaders))
	for _, h := range a.signedHeaders {
		signed[h] = true
	}
	if !signed["host"] {
		return nil, incomplete("The host header must be signed.")
	}
	var unsigned []string
	for name := range r.Header {
		l := strings.ToLower(name)
		if (strings.HasPrefix(l, "x-acs-") || l == "content-type") && !signed[l] {
			unsigned = append(unsigned, l)
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned)
		return nil, incomplete("The header " + unsigned[0] + " must be signed.")
	}
	for _, h := range a.signedHeaders {
		if h != "host" && len(r.Header.Values(h)) == 0 {
			return nil, incomplete("The signed header " + h + " is not in the request.")
		}
	}

	sum := sha256.Sum256(body)
	hashedPayload := hex.EncodeToString(sum[:])
	if !strings.EqualFold(r.Header.Get(hdrContentHash), hashedPayload) {
		return nil, &apiError{400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the SHA-256 of the request body."}
	}

	date, err := time.Parse(dateLayout, r.Header.Get(hdrDate))
	if err != nil {
		return nil, &apiError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted (want " + dateLayout + " in UTC)."}
	}
	if skew := now.Sub(date); skew > maxClockSkew || skew < -maxClockSkew {
		return nil, &apiError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (more than 15 minutes from the server's time " + now.UTC().Format(dateLayout) + ")."}
	}

	cred := s.keys.get(a.keyID)
	if cred == nil {
		return nil, &apiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	if cred.disabled {
		return nil, &apiError{400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."}
	}
	token, hasToken := r.Header.Get(hdrToken), len(r.Header.Values(hdrToken)) > 0
	switch {
	case cred.token != "" && !hasToken:
		return nil, &apiError{400, "InvalidSecurityToken.Malformed", "This AccessKeyId is an STS key: the x-acs-security-token header is missing."}
	case cred.token == "" && hasToken:
		return nil, &apiError{400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey (this AccessKeyId is not an STS key)."}
	case cred.token != "" && !hmac.Equal([]byte(token), []byte(cred.token)):
		return nil, &apiError{400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey."}
	case cred.token != "" && !cred.expires.IsZero() && now.After(cred.expires):
		return nil, &apiError{400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."}
	}

	toSign := stringToSign(canonicalRequest(r.Method, "/", canonicalQuery, requestHeader(r), a.signedHeaders, hashedPayload))
	if !hmac.Equal([]byte(sign(cred.secret, toSign)), []byte(strings.ToLower(a.signature))) {
		// The real gateway echoes its string to sign too; it holds no secret.
		return nil, &apiError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + toSign}
	}

	forget := max(date.Unix(), now.Unix()) + int64((maxClockSkew+time.Second)/time.Second)
	if !s.nonces.use(r.Header.Get(hdrNonce), now.Unix(), forget) {
		return nil, &apiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	return cred, nil
}

// nonceCache remembers nonces until their request's date can no longer pass
// the time check, in at most max entries.
type nonceCache struct {
	mu        sync.Mutex
	seen      map[string]int64 // nonce → forget after (unix seconds)
	order     []nonceEntry     // insertion order, from head
	head      int
	max       int
	evictions uint64
}

type nonceEntry struct {
	nonce  string
	forget int64
}

func newNonceCache(max int) *nonceCache {
	return &nonceCache{seen: make(map[string]int64), max: max}
}

// use records nonce and reports whether it was new. Entries leave in
// insertion order, so one can outlive its forget time by a little; past max
// the oldest is forgotten early and counted.
func (c *nonceCache) use(nonce string, now, forget int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.order) && c.order[c.head].forget <= now {
		c.pop()
	}
	if _, dup := c.seen[nonce]; dup {
		return false
	}
	if len(c.seen) >= c.max {
		c.pop()
		c.evictions++
	}
	c.seen[nonce] = forget
	c.order = append(c.order, nonceEntry{nonce, forget})
	return true
}

func (c *nonceCache) pop() {
	delete(c.seen, c.order[c.head].nonce)
	c.order[c.head] = nonceEntry{}
	c.head++
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

func (c *nonceCache) evicted() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evictions
}
