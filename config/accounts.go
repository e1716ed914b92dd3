package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// DefaultAccountName is the account label of the top-level credentials: the
// account that owns every enterprise no entry of accounts: claims. It is
// reserved, so that no configured account can share its series.
const DefaultAccountName = "default"

// Account is one more Alibaba Cloud account: the enterprises it owns are
// read with its identity and paced by its own quota, because the API quota
// and the RAM permissions belong to an account, not to the exporter.
type Account struct {
	// Name is shown in logs and in the account label: [a-z0-9_-]+, unique.
	Name string `yaml:"name"`
	// Enterprises are owned by this account; an enterprise is owned at
	// most once, and one no account owns belongs to the default account.
	Enterprises []int64 `yaml:"enterprises"`
	// Endpoint defaults to the top-level endpoint.
	Endpoint string `yaml:"endpoint,omitempty"`
	// Credentials is required: keys (inline or in files, as the top-level
	// block), or a RAM role assumed through STS.
	Credentials *AccountCredentials `yaml:"credentials"`
	// API is this account's quota and pacing. A key it leaves out takes
	// the top-level api's value, so every account starts from the
	// operator's tuning but spends its own bucket. Never nil once parsed.
	API *APIConfig `yaml:"api,omitempty"`
}

// AccountCredentials is the top-level credentials block plus a role. With
// role_arn and no keys, the role is assumed with the default account's
// identity (the top-level credentials, or the default chain: on ACK with
// RRSA, the pod's own role), the cross-account pattern; with keys, those
// keys assume it.
type AccountCredentials struct {
	Credentials `yaml:",inline"`
	// RoleARN is acs:ram::<account uid>:role/<role name>.
	RoleARN string `yaml:"role_arn,omitempty"`
	// ExternalID is what the role's trust policy demands in
	// sts:ExternalId. It is not a secret but is not logged either.
	ExternalID string `yaml:"external_id,omitempty"`
	// RoleSessionName defaults to dyvms-exporter-<account name>; it shows
	// in the owner's ActionTrail.
	RoleSessionName string `yaml:"role_session_name,omitempty"`
	// STSEndpoint (a host, optionally with a port) or Region picks the
	// STS endpoint; neither: sts.aliyuncs.com.
	STSEndpoint string `yaml:"sts_endpoint,omitempty"`
	Region      string `yaml:"region,omitempty"`
}

// HasKeys tells whether any part of an access key is given.
func (c *AccountCredentials) HasKeys() bool {
	k := c.Credentials
	return k.AccessKeyID != "" || k.AccessKeyIDFile != "" || k.AccessKeySecret != "" ||
		k.AccessKeySecretFile != "" || k.SecurityToken != "" || k.SecurityTokenFile != ""
}

// String never shows a secret or the external id.
func (c AccountCredentials) String() string {
	var parts []string
	if c.HasKeys() {
		parts = append(parts, c.Credentials.String())
	}
	if c.RoleARN != "" {
		parts = append(parts, "role_arn="+c.RoleARN)
		if c.ExternalID != "" {
			parts = append(parts, "external_id=<set>")
		}
	}
	return strings.Join(parts, " ")
}

// GoString makes %#v as safe as %v.
func (c AccountCredentials) GoString() string {
	return "config.AccountCredentials{" + c.String() + "}"
}

// Format: see Credentials.Format.
func (c AccountCredentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// AccountOf names the account that owns an enterprise: DefaultAccountName
// unless an entry of accounts lists it.
func (c *Config) AccountOf(enterprise int64) string {
	for i := range c.Accounts {
		for _, e := range c.Accounts[i].Enterprises {
			if e == enterprise {
				return c.Accounts[i].Name
			}
		}
	}
	return DefaultAccountName
}

// Owners maps every enterprise an account owns to the account's name;
// enterprises not in it belong to DefaultAccountName.
func (c *Config) Owners() map[int64]string {
	m := make(map[int64]string)
	for i := range c.Accounts {
		for _, e := range c.Accounts[i].Enterprises {
			m[e] = c.Accounts[i].Name
		}
	}
	return m
}

var (
	reAccountName = regexp.MustCompile(`^[a-z0-9_-]+$`)
	// reRoleARN is a RAM role's ARN. Role names are up to 64 letters,
	// digits, '.', '-' and '_'; a path before the name is allowed.
	reRoleARN = regexp.MustCompile(`^acs:ram::[0-9]+:role/(?:[A-Za-z0-9._-]+/)*[A-Za-z0-9._-]{1,64}$`)
	// reSessionName is STS's RoleSessionName: 2 to 64 of these.
	reSessionName = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)
	reRegion      = regexp.MustCompile(`^[a-z]{2,}(?:-[a-z0-9]+)+$`)
	// reExternalID is STS's ExternalId's alphabet; its length (2 to
	// 1224, past RE2's repeat limit) is checked apart.
	reExternalID = regexp.MustCompile(`^[A-Za-z0-9=,.@:/_-]+$`)
)

// validateAccounts checks the accounts: section. It runs after the
// top-level endpoint and api are validated, whose values accounts inherit.
func (p *parser) validateAccounts(c *Config, dir string) {
	if p.isPoisoned("accounts") {
		return
	}
	names := map[string]int{}     // name -> line
	owners := map[int64]ownerAt{} // enterprise -> first owner
	for i := range c.Accounts {
		a := &c.Accounts[i]
		path := fmt.Sprintf("accounts[%d]", i)
		if p.isPoisoned(path) {
			continue
		}
		p.validateAccountName(path, a.Name, names)
		p.validateAccountEnterprises(path, a, owners)
		if p.ix.has(path + ".endpoint") {
			p.validateEndpointAt(path+".endpoint", &a.Endpoint)
		} else {
			a.Endpoint = c.Endpoint
		}
		// Keys absent from an account's api take the top level's values.
		api := c.API
		if n := p.ix.node(path + ".api"); n != nil && !isNull(n) && !p.isPoisoned(path+".api") {
			type plain APIConfig
			_ = n.Decode((*plain)(&api)) // errors already reported by the strict decode
			p.validateAPIAt(path+".api", &api)
		}
		a.API = &api
		p.validateAccountCredentials(path, a, dir)
	}
}

type ownerAt struct {
	account string
	line    int
}

func (p *parser) validateAccountName(path, name string, names map[string]int) {
	at := path + ".name"
	if p.isPoisoned(at) {
		return
	}
	switch {
	case !p.ix.has(at):
		p.addAt(at, "required: a name of lower-case letters, digits, '-' and '_', shown in logs and in the account label")
		return
	case !reAccountName.MatchString(name):
		p.addAt(at, "%q is not a valid account name: use only lower-case letters, digits, '-' and '_'", name)
		return
	case name == DefaultAccountName:
		p.addAt(at, "%q is the name of the top-level credentials' account; choose another", name)
		return
	}
	if line, dup := names[name]; dup {
		p.addAt(at, "account %q is already defined at line %d", name, line)
		return
	}
	names[name] = p.ix.line(at)
}

func (p *parser) validateAccountEnterprises(path string, a *Account, owners map[int64]ownerAt) {
	at := path + ".enterprises"
	if p.isPoisoned(at) {
		return
	}
	if len(a.Enterprises) == 0 {
		p.warnAt(path, "account %q owns no enterprises: nothing is read with it; list its enterprise ids in enterprises", a.Name)
		return
	}
	for j, id := range a.Enterprises {
		item := fmt.Sprintf("%s[%d]", at, j)
		if p.isPoisoned(item) {
			continue
		}
		if id <= 0 {
			p.addAt(item, "must be a positive integer (an enterprise id), got %d", id)
			continue
		}
		line := p.ix.line(item)
		if first, dup := owners[id]; dup {
			if first.account == a.Name {
				p.addAt(item, "enterprise %d is listed twice in account %q (lines %d and %d)", id, a.Name, first.line, line)
			} else {
				p.addAt(item, "enterprise %d is owned by two accounts: %q at line %d and %q at line %d; an enterprise belongs to exactly one account", id, first.account, first.line, a.Name, line)
			}
			continue
		}
		owners[id] = ownerAt{a.Name, line}
	}
}

func (p *parser) validateAccountCredentials(path string, a *Account, dir string) {
	section := path + ".credentials"
	if p.isPoisoned(section) {
		return
	}
	cr := a.Credentials
	if cr == nil {
		p.addAt(path, "credentials: required: an access key (access_key_id and access_key_secret, inline or *_file) or a role (role_arn); an account without its own identity would read its enterprises as the default account")
		return
	}
	hasRole := p.ix.has(section + ".role_arn")
	if cr.HasKeys() || !hasRole {
		// Keys, either to read with or to assume the role with; the same
		// forms and checks as the top-level block.
		k := &cr.Credentials
		k.AccessKeyIDFile = p.accountPair(section, "access_key_id", k.AccessKeyIDFile, hasRole, dir, func(at string) {
			switch {
			case k.AccessKeyID == "":
				p.addAt(at, "must not be empty")
			case strings.ContainsFunc(k.AccessKeyID, isSpace):
				p.addAt(at, "must not contain spaces")
			}
		})
		k.AccessKeySecretFile = p.accountPair(section, "access_key_secret", k.AccessKeySecretFile, hasRole, dir, func(at string) {
			if k.AccessKeySecret == "" {
				p.addAt(at, "must not be empty")
			} else if strings.TrimSpace(string(k.AccessKeySecret)) != string(k.AccessKeySecret) {
				p.addAt(at, "has leading or trailing white space (value not shown)")
			}
		})
		k.SecurityTokenFile = p.secretPair(section, "security_token", k.SecurityToken, k.SecurityTokenFile, false, dir)
	}
	roleKeys := []string{"external_id", "role_session_name", "sts_endpoint", "region"}
	if !hasRole {
		for _, key := range roleKeys {
			if p.ix.has(section + "." + key) {
				p.addAt(section+"."+key, "is a setting of an assumed role, but role_arn is not set")
			}
		}
		return
	}
	if !reRoleARN.MatchString(cr.RoleARN) {
		p.addAt(section+".role_arn", "%q is not a RAM role ARN; write acs:ram::<account uid>:role/<role name>", cr.RoleARN)
	}
	if p.ix.has(section+".external_id") && (!reExternalID.MatchString(cr.ExternalID) || len(cr.ExternalID) < 2 || len(cr.ExternalID) > 1224) {
		p.addAt(section+".external_id", "must be 2 to 1224 letters, digits or = , . @ : / - _ (STS's ExternalId; value not shown)")
	}
	if cr.RoleSessionName == "" {
		cr.RoleSessionName = "dyvms-exporter-" + a.Name
		if len(cr.RoleSessionName) > 64 {
			cr.RoleSessionName = cr.RoleSessionName[:64]
		}
	} else if !reSessionName.MatchString(cr.RoleSessionName) {
		p.addAt(section+".role_session_name", "must be 2 to 64 letters, digits, '.', '@', '-' or '_' (STS's RoleSessionName), got %q", cr.RoleSessionName)
	}
	switch hasEP, hasRegion := p.ix.has(section+".sts_endpoint"), p.ix.has(section+".region"); {
	case hasEP && hasRegion:
		p.addAt(section+".region", "set either sts_endpoint or region, not both")
	case hasEP:
		if host, msg := stsHost(cr.STSEndpoint); msg != "" {
			p.addAt(section+".sts_endpoint", "%s", msg)
		} else {
			cr.STSEndpoint = host
		}
	case hasRegion:
		if !reRegion.MatchString(cr.Region) {
			p.addAt(section+".region", "%q is not a region id such as cn-hangzhou", cr.Region)
		}
	}
}

// accountPair is filePair for an account's key part. Without a role the
// key is required, as at the top level; with a role, a part is required
// only once another part is given (keys that assume the role must be a
// whole key).
func (p *parser) accountPair(section, key, file string, hasRole bool, dir string, checkInline func(string)) string {
	inlinePath, filePath := section+"."+key, section+"."+key+"_file"
	if !p.ix.has(inlinePath) && !p.ix.has(filePath) {
		if hasRole {
			p.addAt(section, "the role's source identity is incomplete: %s or %s_file is required with the other key parts (or give no key, to assume the role with the default account's identity)", key, key)
		} else {
			p.addAt(section, "one of %s or %s_file is required, or role_arn to assume a role", key, key)
		}
		return file
	}
	return p.filePair(section, key, file, true, dir, checkInline)
}

// stsHost reads sts_endpoint as the vendor's library takes it: a host and
// optional port, always over https. An https:// URL is accepted and reduced
// to its host; anything else is refused, since the library would prepend
// https:// to whatever is there.
func stsHost(v string) (string, string) {
	const usage = "must be a host name with an optional port, such as sts.cn-hangzhou.aliyuncs.com (STS is always reached over https)"
	if v == "" {
		return "", "must not be empty; remove the key to use sts.aliyuncs.com"
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return "", usage
		}
		v = u.Host
	}
	host := v
	if h, port, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", usage
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, "/?#@ \t") {
		return "", usage
	}
	return v, ""
}

// validateEndpointAt is validateEndpoint for an account's endpoint.
func (p *parser) validateEndpointAt(path string, ep *string) {
	c := Config{Endpoint: *ep}
	p.endpointAt(path, &c)
	*ep = c.Endpoint
}
