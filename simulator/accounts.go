package simulator

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultAccount is the account of the top-level credentials: it owns every
// enterprise that no entry of accounts lists. Role trust lists name it so.
const DefaultAccount = "default"

// Account is one more Alibaba Cloud account: its own RAM users' key pairs,
// the enterprises it owns, and RAM roles that others may assume through
// STS. A key of one account reading an enterprise of another gets
// Forbidden.RAM, as the gateway answers a RAM user without permission on
// the resource.
type Account struct {
	Name string `yaml:"name"`
	// UID is the account's numeric id, as role ARNs write it
	// (acs:ram::<uid>:role/<name>).
	UID         string       `yaml:"uid"`
	Enterprises []int64      `yaml:"enterprises"`
	Credentials []Credential `yaml:"credentials"`
	Roles       []Role       `yaml:"roles"`
}

// Role is a RAM role of an account, assumable through the STS endpoint
// (STSHandler).
type Role struct {
	Name string `yaml:"name"`
	// ExternalID, when set, must be sent as ExternalId (the trust policy's
	// sts:ExternalId condition); a missing or different one is NoPermission.
	ExternalID string `yaml:"external_id"`
	// Trust names the accounts whose identities may assume the role
	// (DefaultAccount for the top-level credentials); empty: the role's
	// own account only.
	Trust []string `yaml:"trust"`
	// Lifetime of the credentials issued, overriding the DurationSeconds
	// asked for; tests use short ones to watch them expire and be renewed.
	// 0: as asked (900 s to max_duration).
	Lifetime Duration `yaml:"lifetime"`
	// MaxDuration is the role's maximum session duration (default 1h).
	MaxDuration Duration `yaml:"max_duration"`
}

// ARN is the role's ARN within account a.
func (r Role) ARN(a Account) string { return "acs:ram::" + a.UID + ":role/" + r.Name }

var (
	reSimAccountName = regexp.MustCompile(`^[a-z0-9_-]+$`)
	reUID            = regexp.MustCompile(`^[0-9]{1,20}$`)
	reRoleName       = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// validateAccounts runs after the enterprises and top-level credentials
// are known.
func (c *Config) validateAccounts() error {
	names := map[string]int{DefaultAccount: -1}
	uids := map[string]int{}
	owner := map[int64]string{}
	keys := map[string]bool{}
	for _, cr := range c.Credentials {
		keys[cr.AccessKeyID] = true
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		where := fmt.Sprintf("simulator config: accounts[%d] (%s)", i, a.Name)
		if !reSimAccountName.MatchString(a.Name) {
			return fmt.Errorf("%s: name must be [a-z0-9_-]+", where)
		}
		if j, dup := names[a.Name]; dup {
			if j < 0 {
				return fmt.Errorf("%s: %q is the top-level credentials' account", where, a.Name)
			}
			return fmt.Errorf("%s: name repeats accounts[%d]", where, j)
		}
		names[a.Name] = i
		if !reUID.MatchString(a.UID) {
			return fmt.Errorf("%s: uid must be the account's numeric id", where)
		}
		if j, dup := uids[a.UID]; dup {
			return fmt.Errorf("%s: uid repeats accounts[%d]", where, j)
		}
		uids[a.UID] = i
		for _, e := range a.Enterprises {
			if o, dup := owner[e]; dup {
				return fmt.Errorf("%s: enterprise %d is already owned by account %s", where, e, o)
			}
			owner[e] = a.Name
		}
		if len(a.Credentials) == 0 && len(a.Roles) == 0 {
			return fmt.Errorf("%s: no credentials and no roles: nothing could read its enterprises", where)
		}
		for j, cr := range a.Credentials {
			if cr.AccessKeyID == "" || cr.AccessKeySecret == "" {
				return fmt.Errorf("%s: credentials[%d]: access_key_id and access_key_secret are required", where, j)
			}
			if keys[cr.AccessKeyID] {
				return fmt.Errorf("%s: credentials[%d]: access_key_id %s is used twice", where, j, cr.AccessKeyID)
			}
			keys[cr.AccessKeyID] = true
			if cr.ExpiresAt != "" {
				if cr.SecurityToken == "" {
					return fmt.Errorf("%s: credentials[%d]: expires_at needs a security_token", where, j)
				}
				if _, err := time.Parse(time.RFC3339, cr.ExpiresAt); err != nil {
					return fmt.Errorf("%s: credentials[%d]: expires_at is not RFC 3339", where, j)
				}
			}
		}
		roles := map[string]bool{}
		for j := range a.Roles {
			r := &a.Roles[j]
			if !reRoleName.MatchString(r.Name) {
				return fmt.Errorf("%s: roles[%d]: name must be 1 to 64 letters, digits, '.', '-' or '_'", where, j)
			}
			if roles[strings.ToLower(r.Name)] {
				return fmt.Errorf("%s: roles[%d]: role %s repeats", where, j, r.Name)
			}
			roles[strings.ToLower(r.Name)] = true
			if r.MaxDuration == 0 {
				r.MaxDuration = Duration(time.Hour)
			}
			if time.Duration(r.MaxDuration) < 15*time.Minute || time.Duration(r.MaxDuration) > 12*time.Hour {
				return fmt.Errorf("%s: roles[%d]: max_duration must be between 15m and 12h", where, j)
			}
			if r.Lifetime < 0 {
				return fmt.Errorf("%s: roles[%d]: lifetime must not be negative", where, j)
			}
		}
	}
	// Trust lists may name accounts defined later in the list.
	for i, a := range c.Accounts {
		for j, r := range a.Roles {
			for _, t := range r.Trust {
				if _, ok := names[t]; !ok {
					return fmt.Errorf("simulator config: accounts[%d] (%s): roles[%d]: trust names no account %q", i, a.Name, j, t)
				}
			}
		}
	}
	return nil
}

// accountState is what the gateway and STS know of one account.
type accountState struct {
	name  string
	uid   string
	roles map[string]*Role // by lower-case name (RAM role names are case-insensitive)
}

// keyring holds every key the gateway accepts: configured ones and the
// temporary ones STS issued, which come and go while requests are served.
type keyring struct {
	mu    sync.RWMutex
	keys  map[string]*credential
	temps []tempKey // issue order, for pruning
}

type tempKey struct {
	id      string
	expires time.Time
}

// maxTempKeys bounds the temporary keys remembered; past it the oldest are
// forgotten (and answer InvalidAccessKeyId.NotFound, as a long-expired
// STS key does).
const maxTempKeys = 100_000

func (k *keyring) get(id string) *credential {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[id]
}

// addTemp adds an issued key and forgets those expired for longer than
// the signature window, after which no request could be signed with them.
func (k *keyring) addTemp(c *credential, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	i := 0
	for ; i < len(k.temps); i++ {
		t := k.temps[i]
		if len(k.temps)-i < maxTempKeys && now.Sub(t.expires) < maxClockSkew {
			break
		}
		delete(k.keys, t.id)
	}
	k.temps = append(k.temps[i:], tempKey{c.id, c.expires})
	k.keys[c.id] = c
}
