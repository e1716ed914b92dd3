// Package config reads the exporter's configuration file, fills in
// defaults and rejects anything doubtful before it can reach the vendor's
// API: an exporter that guesses sends wrong requests against a quota shared
// by the whole Alibaba Cloud account, and its mistakes only show up later as
// missing series. Every problem found is reported at once, as
// "file:line: field: message", sorted by line.
package config

import (
	"fmt"
	"strings"
	"time"

	// The default time zone (Asia/Shanghai) must resolve even in a scratch
	// container without /usr/share/zoneinfo; the embedded copy costs ~450 KB.
	_ "time/tzdata"
)

// Defaults. Each is documented, with its reason, in the example config.yml.
const (
	DefaultEndpoint = "https://dyvmsapi.aliyuncs.com"
	// DefaultTimezone is how the service writes StartTime and OverTime:
	// call-centre local time with no zone, China Standard Time.
	DefaultTimezone = "Asia/Shanghai"
	// MinRefreshInterval keeps discovery from spending the account-wide
	// quota on listing tasks, which change on a human time scale.
	MinRefreshInterval = 30 * time.Second
	// MaxRetries bounds api.max_retries: every retry spends the shared
	// quota again, and more than a few cannot fit in a scrape deadline.
	MaxRetries = 10
)

var (
	// DefaultAPIConfig is polite towards a quota nobody has published (the
	// vendor documents no QPS for CloudMonitorTask or CloudQueryTask) and
	// that every RAM user of the account, and every Prometheus scraping this
	// exporter, draws from. 20 requests per second lets one scrape of 100
	// tasks finish in about 5 s, inside a 10 s scrape timeout, while an HA
	// pair stays at 40 rps. A burst equal to the rate lets each scrape start
	// at full concurrency. 8 requests in flight fill 20 rps at the 100-400 ms
	// a request takes from outside mainland China. 2 retries ride out a
	// throttled or 503 answer without doubling the load of a failing scrape.
	DefaultAPIConfig = APIConfig{
		RequestsPerSecond: 20,
		Burst:             20,
		Concurrency:       8,
		MinInterval:       0,
		MaxRetries:        2,
	}

	// DefaultDiscovery: tasks are created by people, so listing them every
	// 5 minutes finds a new one soon enough and costs a few calls an hour.
	DefaultDiscovery = Discovery{RefreshInterval: 5 * time.Minute}
)

// Task types and statuses as CloudQueryTask spells them.
const (
	TaskTypePredictive = 1
	TaskTypeAutomatic  = 2

	TaskStatusInitial  = 0
	TaskStatusRunning  = 1
	TaskStatusPaused   = 2
	TaskStatusFinished = 3
)

// Config is one parsed and validated configuration file. Treat it as
// read-only: the service hands the same value to every scrape.
type Config struct {
	// Endpoint is scheme://host[:port] without a trailing slash.
	Endpoint string `yaml:"endpoint"`
	// Timezone is the name as written; Location is what it resolved to.
	Timezone string         `yaml:"timezone"`
	Location *time.Location `yaml:"-"`
	// Credentials is nil when the vendor's default credential chain is to
	// be used.
	Credentials *Credentials `yaml:"credentials,omitempty"`
	API         APIConfig    `yaml:"api"`
	// Discovery and Tasks may name the same task; whoever merges them must
	// drop the repetition (Tasks alone never repeat).
	Discovery []Discovery `yaml:"discovery,omitempty"`
	Tasks     []Task      `yaml:"tasks"`
	Metrics   Metrics     `yaml:"metrics"`
	// Warnings are what is doubtful but allowed (an excluded family that
	// a shipped rule reads, say), as "file:line: field: message".
	Warnings []Problem `yaml:"-"`
	// CallRecords lists the enterprises whose call records are polled
	// (callrecords.go); empty: none.
	CallRecords []CallRecords `yaml:"call_records,omitempty"`
	// Enterprises are views of whole call centres: online agents, inbound
	// calls, queues (enterprises.go); empty: none.
	Enterprises []Enterprise `yaml:"enterprises,omitempty"`
	// Accounts are the Alibaba Cloud accounts besides the default one
	// (accounts.go); empty: every enterprise is read with credentials.
	Accounts []Account `yaml:"accounts,omitempty"`
}

// Credentials is an access key given in the file. Relative file paths are
// taken relative to the configuration file's directory, so that a config and
// its secrets can move together. The id is not a secret, but it may live in a
// file too (access_key_id_file), so that an id and secret rotated together in
// one Secret need no configuration change.
type Credentials struct {
	AccessKeyID         string `yaml:"access_key_id,omitempty"`
	AccessKeyIDFile     string `yaml:"access_key_id_file,omitempty"`
	AccessKeySecret     Secret `yaml:"access_key_secret,omitempty"`
	AccessKeySecretFile string `yaml:"access_key_secret_file,omitempty"`
	SecurityToken       Secret `yaml:"security_token,omitempty"`
	SecurityTokenFile   string `yaml:"security_token_file,omitempty"`
}

// APIConfig is how hard the exporter may press on the account's API quota.
type APIConfig struct {
	// RequestsPerSecond and Burst size one token bucket shared by every
	// call of this process, scrapes and discovery alike.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
	// Concurrency is how many tasks one scrape fetches at once.
	Concurrency int `yaml:"concurrency"`
	// MinInterval, when positive, lets a scrape reuse an answer younger
	// than this instead of asking again: two Prometheus servers of an HA
	// pair then cost the quota of one.
	MinInterval time.Duration `yaml:"min_interval"`
	// MaxRetries is per request, for throttling and server errors.
	MaxRetries int `yaml:"max_retries"`
}

// Discovery lists an enterprise's tasks through CloudQueryTask.
type Discovery struct {
	EnterpriseID int64 `yaml:"enterprise_id"`
	// Types is required: CloudQueryTask takes exactly one type per call,
	// so each listed type costs its own calls.
	Types []int `yaml:"types"`
	// Statuses empty means every status (no filter).
	Statuses        []int         `yaml:"statuses,omitempty"`
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Task is one call-centre task to monitor.
type Task struct {
	EnterpriseID int64 `yaml:"enterprise_id"`
	TaskID       int64 `yaml:"task_id"`
}

// defaultConfig is also what an empty document decodes to, so that the
// "nothing to scrape" check sees the same thing either way.
func defaultConfig() Config {
	return Config{Endpoint: DefaultEndpoint, Timezone: DefaultTimezone, API: DefaultAPIConfig, Metrics: DefaultMetrics}
}

// UnmarshalYAML fills in defaults before decoding, so that an absent key
// keeps its default while an explicit zero stays zero and is judged by
// validation. It uses the function-style interface on purpose: yaml.v3
// passes its own decoder into it, so KnownFields strictness and the
// collection of all type errors carry on into the fields. Validation itself
// happens after decoding, where the line of every field is known.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = defaultConfig()
	type plain Config
	return unmarshal((*plain)(c))
}

// UnmarshalYAML: see Config.UnmarshalYAML.
func (a *APIConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*a = DefaultAPIConfig
	type plain APIConfig
	return unmarshal((*plain)(a))
}

// UnmarshalYAML: see Config.UnmarshalYAML.
func (d *Discovery) UnmarshalYAML(unmarshal func(any) error) error {
	*d = DefaultDiscovery
	type plain Discovery
	return unmarshal((*plain)(d))
}

// Load reads and parses a configuration file.
func Load(path string) (*Config, error) {
	data, err := readFile(path) // at most MaxFileSize
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	return Parse(data, path)
}

// Secret is a string that formats and marshals as "<secret>", so that a
// Config printed or dumped as YAML (for a /config page, a debug log) never
// shows a key. string(s) gives the value.
type Secret string

const secretMask = "<secret>"

// String hides the value but still tells set from unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString makes %#v as safe as %v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format routes every verb through String, so %x or %q cannot reveal it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalYAML writes the mask instead of the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON writes the mask instead of the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.String())), nil }

// KeyName names the access key without reading a file: the inline id, or
// "access_key_id_file <path>" when the id is read from a file. It is what a
// log line at load time shows and what keys the per-credential rate limiter:
// the id in a file may change at any request, the path only with a reload.
// It cannot be mistaken for an id, which validation keeps free of spaces.
func (c *Credentials) KeyName() string {
	if c.AccessKeyIDFile != "" {
		return "access_key_id_file " + c.AccessKeyIDFile
	}
	return c.AccessKeyID
}

// String shows which parts are set and where from, never a secret.
func (c Credentials) String() string {
	var b strings.Builder
	if c.AccessKeyID != "" || c.AccessKeyIDFile == "" {
		b.WriteString("access_key_id=" + c.AccessKeyID)
	}
	if c.AccessKeyIDFile != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("access_key_id_file=" + c.AccessKeyIDFile)
	}
	for _, part := range []struct {
		key, file string
		inline    Secret
	}{
		{"access_key_secret", c.AccessKeySecretFile, c.AccessKeySecret},
		{"security_token", c.SecurityTokenFile, c.SecurityToken},
	} {
		if part.inline != "" {
			b.WriteString(" " + part.key + "=" + secretMask)
		}
		if part.file != "" {
			b.WriteString(" " + part.key + "_file=" + part.file)
		}
	}
	return b.String()
}

// GoString makes %#v as safe as %v.
func (c Credentials) GoString() string { return "config.Credentials{" + c.String() + "}" }

// Format is needed on top of Secret's: for a verb that does not fit a
// pointer (%s or %q on a *Credentials inside Config), fmt prints the
// pointed-to struct with every method switched off, Secret's included.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}
