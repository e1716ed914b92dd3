package config

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// validate judges the decoded values, reporting each problem at the line
// of the field. Lists are re-decoded item by item from their nodes: yaml.v3
// drops a list item that fails to decode, which would shift every later
// index and report the wrong task.
func (p *parser) validate(c *Config, filename string) {
	p.validateEndpoint(c)
	p.validateTimezone(c)
	p.validateCredentials(c, filepath.Dir(filename))
	p.validateAPI(&c.API)
	p.validateMetrics(&c.Metrics)
	discovery := p.validateDiscovery()
	tasks := p.validateTasks()
	p.validateCallRecords()
	p.validateEnterprises(c)
	p.validateAccounts(c, filepath.Dir(filename))
	p.warnEnterpriseAgentsUnread(c)

	// Deliberately an error, not a warning: a file with nothing to scrape
	// is far more often truncated or half-edited than intended, and
	// refusing it keeps a working configuration in force on reload.
	// An enterprises entry (the call-centre view) or a call_records entry
	// is a workload of its own: an exporter may watch only the inbound side
	// of a call centre, or only call outcomes.
	views := len(p.ix.items("enterprises")) + len(p.ix.items("call_records"))
	if discovery == 0 && tasks == 0 && views == 0 && !p.isPoisoned("tasks") && !p.isPoisoned("discovery") &&
		!p.isPoisoned("enterprises") && !p.isPoisoned("call_records") {
		at := ""
		for _, key := range []string{"tasks", "discovery", "enterprises", "call_records"} {
			if p.ix.node(key) != nil {
				at = key
				break
			}
		}
		p.addAt(at, "nothing to scrape: no tasks, discovery, enterprises or call_records entries; list at least one")
	}
}

func (p *parser) validateEndpoint(c *Config) { p.endpointAt("endpoint", c) }

// endpointAt checks c.Endpoint as written at path (the top level's or an
// account's) and normalises it.
func (p *parser) endpointAt(path string, c *Config) {
	if p.isPoisoned(path) {
		return
	}
	if c.Endpoint == "" {
		p.addAt(path, "must not be empty; remove the key to use %s", DefaultEndpoint)
		return
	}
	// The value is not echoed: a URL can carry a password.
	u, err := url.Parse(c.Endpoint)
	if err != nil || u.Host == "" || u.Opaque != "" {
		p.addAt(path, "must be an absolute URL such as %s", DefaultEndpoint)
		return
	}
	bad := false
	complain := func(format string, args ...any) { p.addAt(path, format, args...); bad = true }
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			complain("http:// is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q: requests carry credentials, which must never cross a network unencrypted; use https://", u.Hostname())
		}
	default:
		complain("scheme must be https (or http for a loopback test endpoint), not %q", u.Scheme)
	}
	if u.User != nil {
		complain("must not contain a user name or password")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			complain("port must be between 1 and 65535, not %s", port)
		}
	}
	if u.Path != "" && u.Path != "/" {
		complain("must not have a path (%q): the API is served at / of its host", u.Path)
	}
	if u.RawQuery != "" || u.ForceQuery {
		complain("must not have a query string: requests set their own")
	}
	if u.Fragment != "" {
		complain("must not have a fragment")
	}
	if !bad {
		c.Endpoint = scheme + "://" + u.Host
	}
}

// isLoopback accepts only names that cannot leave the machine. A name that
// merely resolves to 127.0.0.1 today could resolve elsewhere tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *parser) validateTimezone(c *Config) {
	const path = "timezone"
	if p.isPoisoned(path) {
		return
	}
	if c.Timezone == "" {
		p.addAt(path, "must not be empty; remove the key to use %s", DefaultTimezone)
		return
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		p.addAt(path, "unknown time zone %q; use an IANA name such as %s or UTC", c.Timezone, DefaultTimezone)
		return
	}
	c.Location = loc
}

func (p *parser) validateCredentials(c *Config, dir string) {
	const path = "credentials"
	if p.isPoisoned(path) {
		return
	}
	cr := c.Credentials
	if cr == nil {
		if n := p.ix.node(path); n != nil {
			p.addAt(path, "is empty; remove the key to use the default credential chain, or set access_key_id and access_key_secret")
		}
		return
	}
	cr.AccessKeyIDFile = p.filePair(path, "access_key_id", cr.AccessKeyIDFile, true, dir, func(at string) {
		switch {
		case cr.AccessKeyID == "":
			p.addAt(at, "must not be empty")
		case strings.ContainsFunc(cr.AccessKeyID, isSpace):
			p.addAt(at, "must not contain spaces")
		}
	})
	cr.AccessKeySecretFile = p.secretPair(path, "access_key_secret", cr.AccessKeySecret, cr.AccessKeySecretFile, true, dir)
	cr.SecurityTokenFile = p.secretPair(path, "security_token", cr.SecurityToken, cr.SecurityTokenFile, false, dir)
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// secretPair is filePair for a secret, whose inline value is never shown.
func (p *parser) secretPair(section, key string, inline Secret, file string, required bool, dir string) string {
	return p.filePair(section, key, file, required, dir, func(at string) {
		if inline == "" {
			p.addAt(at, "must not be empty")
		} else if strings.TrimSpace(string(inline)) != string(inline) {
			p.addAt(at, "has leading or trailing white space (value not shown)")
		}
	})
}

// filePair checks one inline/file pair (key and key_file: exactly one, or
// neither when not required), judges an inline value with checkInline, and
// returns the file path made absolute relative to dir. The file is read here
// so that a typo fails at start-up or reload rather than at the first
// scrape; it is read again at every use (credentials.Files), so rotating it
// needs no reload. Its content is never shown: it may be a secret.
func (p *parser) filePair(section, key, file string, required bool, dir string, checkInline func(path string)) string {
	inlinePath, filePath := section+"."+key, section+"."+key+"_file"
	inlineSet, fileSet := p.ix.has(inlinePath), p.ix.has(filePath)
	switch {
	case inlineSet && fileSet:
		p.addAt(filePath, "set either %s or %s_file, not both", key, key)
		return file
	case !inlineSet && !fileSet:
		if required {
			p.addAt(section, "one of %s or %s_file is required (or remove credentials to use the default credential chain)", key, key)
		}
		return file
	case inlineSet:
		checkInline(inlinePath)
		return file
	}
	if file == "" {
		p.addAt(filePath, "must not be empty")
		return file
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	if problem := checkCredentialFile(file); problem != "" {
		p.addAt(filePath, "%s", problem)
	}
	return file
}

// checkCredentialFile reads a credential file as credentials.Files will at
// every request and says what is wrong with it, or "". The open does not
// wait (O_NONBLOCK): a stat first and an open after would block a reload
// for ever if a FIFO took the file's place in between (a symbolic link
// swapped to a secret agent's named pipe), and fstat of the opened file
// judges what is read. The content is never shown: it may be a secret.
func checkCredentialFile(file string) string {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return fmt.Sprintf("cannot read %s: %s", file, pathErr(err))
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Sprintf("cannot read %s: %s", file, pathErr(err))
	case !info.Mode().IsRegular():
		return fmt.Sprintf("%s is not a regular file", file)
	case info.Size() > 64<<10:
		return fmt.Sprintf("%s is larger than 64 KiB, not a credential file", file)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	v := strings.TrimSpace(string(b))
	switch {
	case err != nil:
		return fmt.Sprintf("cannot read %s: %s", file, pathErr(err))
	case len(b) > 64<<10:
		return fmt.Sprintf("%s is larger than 64 KiB, not a credential file", file)
	case v == "":
		return fmt.Sprintf("%s is empty", file)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Sprintf("%s: white space or a control character inside the value (a credential file holds one line, without spaces)", file)
	}
	return ""
}

// pathErr drops the path that os errors repeat.
func pathErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func (p *parser) validateAPI(a *APIConfig) { p.validateAPIAt("api", a) }

// validateAPIAt checks an api section written at path (the top level's or
// an account's).
func (p *parser) validateAPIAt(path string, a *APIConfig) {
	if p.isPoisoned(path) {
		return
	}
	if r := a.RequestsPerSecond; math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		p.addAt(path+".requests_per_second", "must be a positive number, got %v", r)
	}
	if a.Burst < 1 {
		p.addAt(path+".burst", "must be at least 1, got %d", a.Burst)
	}
	if a.Concurrency < 1 {
		p.addAt(path+".concurrency", "must be at least 1, got %d", a.Concurrency)
	}
	if a.MinInterval < 0 {
		p.addAt(path+".min_interval", "must not be negative (0s turns it off), got %s", a.MinInterval)
	}
	if a.MaxRetries < 0 || a.MaxRetries > MaxRetries {
		p.addAt(path+".max_retries", "must be between 0 and %d (each retry spends the account's quota again), got %d", MaxRetries, a.MaxRetries)
	}
}

// validateDiscovery returns how many entries the file lists.
func (p *parser) validateDiscovery() int {
	items := p.ix.items("discovery")
	first := map[int64]int{} // enterprise id -> line of its first entry
	for i, item := range items {
		path := fmt.Sprintf("discovery[%d]", i)
		if p.isPoisoned(path) {
			continue
		}
		var d Discovery
		_ = item.Decode(&d) // already reported by the strict decode
		p.onePerEnterprise(path, d.EnterpriseID, first, "a discovery entry", "; put all its types and statuses in one entry")
		if len(d.Types) == 0 {
			p.addAt(path+".types", "required: list 1 (predictive), 2 (automatic) or both")
		}
		p.enumList(path+".types", d.Types, "must be 1 (predictive) or 2 (automatic)", TaskTypePredictive, TaskTypeAutomatic)
		p.enumList(path+".statuses", d.Statuses, "must be 0 (initial), 1 (running), 2 (paused) or 3 (finished)",
			TaskStatusInitial, TaskStatusRunning, TaskStatusPaused, TaskStatusFinished)
		if d.RefreshInterval < MinRefreshInterval {
			p.addAt(path+".refresh_interval", "must be at least %s (listing tasks spends the account's quota), got %s", MinRefreshInterval, d.RefreshInterval)
		}
	}
	return len(items)
}

func (p *parser) enumList(path string, values []int, msg string, allowed ...int) {
	seen := map[int]bool{}
	for j, v := range values {
		item := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case !slices.Contains(allowed, v):
			p.addAt(item, "%s, got %d", msg, v)
		case seen[v]:
			p.addAt(item, "%d is listed twice", v)
		}
		seen[v] = true
	}
}

// validateTasks returns how many tasks the file lists.
func (p *parser) validateTasks() int {
	items := p.ix.items("tasks")
	type key struct{ ent, task int64 }
	first := map[key]int{}
	for i, item := range items {
		path := fmt.Sprintf("tasks[%d]", i)
		if p.isPoisoned(path) {
			continue
		}
		var t Task
		_ = item.Decode(&t) // already reported by the strict decode
		okEnt := p.positiveID(path+".enterprise_id", t.EnterpriseID)
		okTask := p.positiveID(path+".task_id", t.TaskID)
		if !okEnt || !okTask || p.isPoisoned(path+".enterprise_id") || p.isPoisoned(path+".task_id") {
			continue
		}
		k := key{t.EnterpriseID, t.TaskID}
		if line, dup := first[k]; dup {
			p.addAt(path+".task_id", "duplicate task (enterprise_id %d, task_id %d), first listed at line %d", k.ent, k.task, line)
			continue
		}
		first[k] = p.ix.line(path + ".task_id")
	}
	return len(items)
}

// positiveID tells a missing id from a wrong one, since the fixes differ.
func (p *parser) positiveID(path string, v int64) bool {
	if v > 0 {
		return true
	}
	if n := p.ix.node(path); n == nil || isNull(n) {
		p.addAt(path, "required (a positive integer)")
	} else {
		p.addAt(path, "must be a positive integer, got %d", v)
	}
	return false
}
