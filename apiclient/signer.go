package apiclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Alibaba Cloud signature V3 ("ACS3-HMAC-SHA256"). Each step is exported so
// that tests can check it against the vendor's published known-answer
// vectors one stage at a time, which is how a mismatch gets located.

const (
	// SignatureAlgorithm names the algorithm in StringToSign and Authorization.
	SignatureAlgorithm = "ACS3-HMAC-SHA256"
	// EmptyBodySHA256 is the lower-hex SHA-256 of an empty body, the
	// hashed payload of every request this client sends.
	EmptyBodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// DateLayout is the x-acs-date format; always UTC.
	DateLayout = "2006-01-02T15:04:05Z"
)

// PercentEncode is RFC 3986 encoding as the signature needs it: unreserved
// characters (A-Z a-z 0-9 - _ . ~) kept, every other byte %XY in upper-case
// hex, so a space is %20 and "*" is %2A. url.QueryEscape would write a space
// as "+", which the server would hash differently.
func PercentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// CanonicalQueryString sorts the parameters by encoded name (then value)
// and joins them as name=value with "&". The result is also a valid query
// string, so the client sends exactly what it signed.
func CanonicalQueryString(query url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(query))
	for k, vs := range query {
		ek := PercentEncode(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, PercentEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
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
	return b.String()
}

// signedHeader reports whether a (lower-case) header takes part in the
// signature: host, content-type and the x-acs-* family.
func signedHeader(name string) bool {
	return name == "host" || name == "content-type" || strings.HasPrefix(name, "x-acs-")
}

// CanonicalRequest builds the canonical request and the SignedHeaders list.
// header must include "host" (net/http keeps the Host outside Header, so
// the caller adds it); names may have any case, other headers are ignored.
func CanonicalRequest(method, path string, query url.Values, header http.Header, hashedPayload string) (canonical, signedHeaders string) {
	values := make(map[string]string, len(header))
	names := make([]string, 0, len(header))
	for k, vs := range header {
		name := strings.ToLower(k)
		if !signedHeader(name) {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.TrimSpace(v)
		}
		if _, dup := values[name]; !dup {
			names = append(names, name)
		} else {
			// "Host" and "host" in one map: fold them like a server would.
			trimmed = append([]string{values[name]}, trimmed...)
		}
		values[name] = strings.Join(trimmed, ",")
	}
	sort.Strings(names)

	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(canonicalPath(path))
	b.WriteByte('\n')
	b.WriteString(CanonicalQueryString(query))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(values[n])
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	signedHeaders = strings.Join(names, ";")
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(hashedPayload)
	return b.String(), signedHeaders
}

// canonicalPath encodes each segment like a query value, keeping the slashes.
func canonicalPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = PercentEncode(s)
	}
	return strings.Join(segs, "/")
}

// HashHex is the lower-hex SHA-256 used for the payload and the canonical
// request.
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// StringToSign is the algorithm name and the hashed canonical request.
func StringToSign(canonicalRequest string) string {
	return SignatureAlgorithm + "\n" + HashHex([]byte(canonicalRequest))
}

// Signature is the lower-hex HMAC-SHA256 of stringToSign under the secret.
func Signature(accessKeySecret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(accessKeySecret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Authorization formats the Authorization header value.
func Authorization(accessKeyID, signedHeaders, signature string) string {
	return SignatureAlgorithm + " Credential=" + accessKeyID + ",SignedHeaders=" + signedHeaders + ",Signature=" + signature
}

// signRequest adds the date, nonce, payload hash, STS token and
// Authorization headers to a request whose body is empty and whose
// x-acs-action / x-acs-version are already set. The time and nonce are
// parameters so that tests can reproduce published vectors.
func signRequest(req *http.Request, creds Credentials, now time.Time, nonce string) {
	h := req.Header
	h.Set("x-acs-date", now.UTC().Format(DateLayout))
	h.Set("x-acs-signature-nonce", nonce)
	h.Set("x-acs-content-sha256", EmptyBodySHA256)
	if creds.SecurityToken != "" {
		h.Set("x-acs-security-token", creds.SecurityToken)
	} else {
		h.Del("x-acs-security-token")
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	signed := make(http.Header, len(h)+1)
	for k, v := range h {
		signed[k] = v
	}
	signed["host"] = []string{host}
	canonical, signedHeaders := CanonicalRequest(req.Method, req.URL.Path, req.URL.Query(), signed, EmptyBodySHA256)
	sig := Signature(creds.AccessKeySecret, StringToSign(canonical))
	h.Set("Authorization", Authorization(creds.AccessKeyID, signedHeaders, sig))
}
