package simulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is STS's AssumeRole (version 2015-04-01) as the vendor's
// credential library (credentials-go, RAM role ARN provider) calls it: POST
// https://<sts endpoint>/ with the common parameters (Action, Version,
// Format, Timestamp, SignatureMethod HMAC-SHA1, SignatureVersion 1.0,
// SignatureNonce, AccessKeyId, SecurityToken for an STS caller, Signature)
// in the query string and RoleArn, RoleSessionName, DurationSeconds,
// ExternalId, Policy as a form body. The signature is the RPC style one,
// written here from the published algorithm: every parameter but Signature,
// percent-encoded (RFC 3986) and sorted, joined with & and =, the whole
// percent-encoded again behind "POST&%2F&", HMAC-SHA1 with the secret and
// "&", base64.
//
// Checks, in order, and their answers (HTTP status, Code):
//   - not POST /: 404 InvalidAction.NotFound; Action not AssumeRole:
//     404 InvalidAction.NotFound; Version not 2015-04-01: 400 InvalidVersion
//   - a common parameter missing: 400 MissingParameter (MissingSignature
//     for Signature); SignatureMethod not HMAC-SHA1 or SignatureVersion not
//     1.0: 400 InvalidParameter
//   - Timestamp unparsable: 400 InvalidTimeStamp.Format; more than 15
//     minutes away: 400 InvalidTimeStamp.Expired
//   - the key, its token and its expiry: as the gateway (InvalidAccessKeyId.*,
//     InvalidSecurityToken.*)
//   - wrong signature: 400 SignatureDoesNotMatch; nonce seen before:
//     400 SignatureNonceUsed
//   - injected faults with action AssumeRole (throttle, unavailable, ...)
//   - RoleArn missing: 400 MissingRoleArn; not acs:ram::<uid>:role/<name>:
//     400 InvalidParameter.RoleArn; unknown account or role: 404
//     EntityNotExist.Role
//   - RoleSessionName missing: 400 MissingRoleSessionName; not 2 to 64 of
//     [A-Za-z0-9.@_-]: 400 InvalidParameter.RoleSessionName
//   - DurationSeconds outside 900 to the role's max_duration:
//     400 InvalidParameter.DurationSeconds
//   - the caller's account not trusted, or ExternalId missing or wrong:
//     403 NoPermission
//
// A success issues a temporary key (STS.<id>, a secret, a token) of the
// role's account, valid for the role's lifetime or the DurationSeconds
// asked, which the gateway then accepts for that account's enterprises.

const (
	actionAssumeRole = "AssumeRole"
	stsVersion       = "2015-04-01"
	stsHostID        = "sts.aliyuncs.com"
	stsTimeLayout    = "2006-01-02T15:04:05Z"
)

// parseRoleARN splits acs:ram::<uid>:role/[<path>/]<name>.
func parseRoleARN(arn string) (uid, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	if !ok {
		return "", "", false
	}
	uid, path, ok := strings.Cut(rest, ":role/")
	if !ok || !reUID.MatchString(uid) || path == "" {
		return "", "", false
	}
	name = path[strings.LastIndexByte(path, '/')+1:]
	if !reRoleName.MatchString(name) {
		return "", "", false
	}
	return uid, name, true
}

// STSHandler is the STS endpoint. Serve it over TLS on its own listener
// (LoopbackCertificate): the vendor's library reaches STS only by https.
func (s *Simulator) STSHandler() http.Handler {
	return http.HandlerFunc(s.serveSTS)
}

func (s *Simulator) serveSTS(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	seq := s.seq.Add(1)
	reqID := requestID(s.seed, seq)
	s.stats.begin(actionAssumeRole)
	body, e, plan := s.assumeRole(r, now, seq, reqID)
	if plan.latency > 0 {
		s.sleep(r.Context(), plan.latency)
	}
	status, code := http.StatusOK, "OK"
	if e != nil {
		status, code = e.status, e.code
		w := jw{}
		w.open('{')
		w.str("RequestId", reqID)
		w.str("HostId", stsHostID)
		w.str("Code", e.code)
		w.str("Message", e.message)
		w.str("Recommend", "https://api.aliyun.com/troubleshoot?q="+e.code+"&product=Sts&requestId="+reqID)
		w.close('}')
		body = w.b
	}
	s.stats.finish(status, code, plan.kinds)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", reqID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Simulator) assumeRole(r *http.Request, now time.Time, seq uint64, reqID string) ([]byte, *apiError, faultPlan) {
	var plan faultPlan
	fail := func(e *apiError) ([]byte, *apiError, faultPlan) { return nil, e, plan }
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(b) > maxBody {
		return fail(&apiError{400, "InvalidParameter", "The request body could not be read."})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" && r.URL.Path != "" {
		return fail(&apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method (this STS serves POST /)."})
	}
	params := map[string]string{}
	for _, raw := range []string{r.URL.RawQuery, string(b)} {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return fail(&apiError{400, "InvalidParameter", "The query string or form body is not properly encoded."})
		}
		for k, v := range vals {
			params[k] = v[0]
		}
	}
	switch {
	case params["Action"] == "":
		return fail(missingParameter("Action"))
	case params["Action"] != actionAssumeRole:
		return fail(&apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."})
	case params["Version"] == "":
		return fail(missingParameter("Version"))
	case params["Version"] != stsVersion:
		return fail(&apiError{400, "InvalidVersion", "Specified parameter Version is not valid (STS is " + stsVersion + ")."})
	}
	for _, p := range []string{"AccessKeyId", "Timestamp", "SignatureMethod", "SignatureVersion", "SignatureNonce"} {
		if params[p] == "" {
			return fail(missingParameter(p))
		}
	}
	if params["Signature"] == "" {
		return fail(&apiError{400, "MissingSignature", "The input parameter \"Signature\" that is mandatory for processing this request is not supplied."})
	}
	if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" {
		return fail(&apiError{400, "InvalidParameter", "Only SignatureMethod HMAC-SHA1 with SignatureVersion 1.0 is supported here."})
	}
	date, err := time.Parse(stsTimeLayout, params["Timestamp"])
	if err != nil {
		return fail(&apiError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted (want " + stsTimeLayout + ")."})
	}
	if skew := now.Sub(date); skew > maxClockSkew || skew < -maxClockSkew {
		return fail(&apiError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."})
	}
	cred := s.keys.get(params["AccessKeyId"])
	if cred == nil {
		return fail(&apiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."})
	}
	if cred.disabled {
		return fail(&apiError{400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."})
	}
	token, hasToken := params["SecurityToken"]
	switch {
	case cred.token != "" && !hasToken:
		return fail(&apiError{400, "InvalidSecurityToken.Malformed", "This AccessKeyId is an STS key: SecurityToken is missing."})
	case cred.token == "" && hasToken:
		return fail(&apiError{400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey (this AccessKeyId is not an STS key)."})
	case cred.token != "" && !hmac.Equal([]byte(token), []byte(cred.token)):
		return fail(&apiError{400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey."})
	case cred.token != "" && !cred.expires.IsZero() && now.After(cred.expires):
		return fail(&apiError{400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."})
	}
	toSign := rpcStringToSign(r.Method, params)
	if !hmac.Equal([]byte(rpcSign(cred.secret, toSign)), []byte(params["Signature"])) {
		return fail(&apiError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + toSign})
	}
	forget := max(date.Unix(), now.Unix()) + int64((maxClockSkew+time.Second)/time.Second)
	if !s.nonces.use("sts:"+params["SignatureNonce"], now.Unix(), forget) {
		return fail(&apiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."})
	}

	s.faultsMu.RLock()
	plan = s.faults.plan(s.seed, seq, actionAssumeRole, 0, 0)
	s.faultsMu.RUnlock()
	if f := plan.fail; f != nil {
		return fail(&apiError{f.Status, f.Code, f.Message})
	}

	arn := params["RoleArn"]
	if arn == "" {
		return fail(&apiError{400, "MissingRoleArn", "RoleArn is mandatory for this action."})
	}
	uid, roleName, ok := parseRoleARN(arn)
	if !ok {
		return fail(&apiError{400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed."})
	}
	acct := s.byUID[uid]
	var role *Role
	if acct != nil {
		role = acct.roles[strings.ToLower(roleName)]
	}
	if role == nil {
		return fail(&apiError{404, "EntityNotExist.Role", "The specified Role not exists: " + arn})
	}
	session := params["RoleSessionName"]
	if session == "" {
		return fail(&apiError{400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action."})
	}
	if !reSTSSession(session) {
		return fail(&apiError{400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed."})
	}
	dur := time.Hour
	if raw := params["DurationSeconds"]; raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 900 || time.Duration(n)*time.Second > time.Duration(role.MaxDuration) {
			return fail(&apiError{400, "InvalidParameter.DurationSeconds", fmt.Sprintf("The Min/Max value of DurationSeconds is 900/%d seconds.", int(time.Duration(role.MaxDuration).Seconds()))})
		}
		dur = time.Duration(n) * time.Second
	}
	trusted := cred.account == acct.name && len(role.Trust) == 0 || slices.Contains(role.Trust, cred.account)
	if !trusted || role.ExternalID != "" && !hmac.Equal([]byte(params["ExternalId"]), []byte(role.ExternalID)) {
		return fail(&apiError{403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM."})
	}
	if role.Lifetime > 0 {
		dur = time.Duration(role.Lifetime)
	}

	// The issued key: reproducible from the seed and the request number,
	// like request ids.
	h := func(salt uint64) string {
		a := splitmix64(s.seed ^ seq*0x9e3779b97f4a7c15 ^ salt)
		return strconv.FormatUint(a, 36) + strconv.FormatUint(splitmix64(a), 36)
	}
	tmp := &credential{
		id:      "STS.NT" + strings.ToUpper(h(1)),
		secret:  h(2) + h(3),
		token:   "CAIS" + h(4) + h(5) + h(6) + h(7),
		expires: now.Add(dur).Truncate(time.Second),
		account: acct.name,
	}
	s.keys.addTemp(tmp, now)

	w := jw{}
	w.open('{')
	w.str("RequestId", reqID)
	w.key("AssumedRoleUser")
	w.open('{')
	w.str("AssumedRoleId", acct.uid+"9"+strconv.FormatUint(splitmix64(s.seed^seq)%1e8, 10)+":"+session)
	w.str("Arn", arn+"/"+session)
	w.close('}')
	w.key("Credentials")
	w.open('{')
	w.str("SecurityToken", tmp.token)
	w.str("AccessKeyId", tmp.id)
	w.str("AccessKeySecret", tmp.secret)
	w.str("Expiration", tmp.expires.UTC().Format(stsTimeLayout))
	w.close('}')
	w.close('}')
	return w.b, nil, plan
}

func reSTSSession(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !unreserved(c) && c != '@' || c == '~' {
			return false
		}
	}
	return true
}

// rpcStringToSign is step 1 to 3 of the RPC signature.
func rpcStringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(b.String())
}

func rpcSign(secret, toSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// LoopbackCertificate makes a self-signed certificate for 127.0.0.1, ::1
// and localhost, valid for a day, to serve STSHandler over https; certPEM
// is what a client must trust (a root CA file, or RootCAs).
func LoopbackCertificate() (cert tls.Certificate, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return cert, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "dyvms simulator STS"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return cert, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return cert, nil, err
	}
	cert, err = tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}
