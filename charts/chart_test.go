package charts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// helmVersion is the Helm .ci/run builds (.ci/tools.sh: HELM_VERSION).
const helmVersion = "v3.22.0"

const (
	chartDir  = "dyvms-exporter"
	namespace = "monitoring"
	release   = "dyvms"
	// defaultSelector is the job selector as rules/dyvms.alerts.yml writes
	// it; the chart replaces it with jobSelector.
	defaultSelector = `job=~"dyvms.*"`
)

// valuesSet is one way of installing the chart, and what it must render.
type valuesSet struct {
	name string
	file string // under testdata/; "" for the chart's defaults
	want expect
}

type expect struct {
	serviceMonitorPath string // "" for no ServiceMonitor
	serviceMonitorJob  string
	scrapeConfig       bool
	prometheusRule     bool
	dashboards         bool
	secret             bool // the Secret mounted, the config naming its files
	// secretFiles are the config's credentials keys that must name files
	// in the Secret's mount; keyID is the inline access_key_id ("" when
	// the id must come from the Secret).
	secretFiles []string
	keyID       string
	rrsaWebhook string
	rrsaManual  bool
	jobSelector string
	// namespace of every object, "" for the release's; monitorNamespace
	// that of the ServiceMonitor or PodMonitor, "" for namespace.
	namespace, monitorNamespace string
	podMonitor                  bool
	networkPolicy               bool
	pdb                         bool
	webTLS, webBasicAuth        bool
	// accountSecrets are the accounts whose Secret is mounted, by name.
	accountSecrets []string
}

func (e expect) ns() string {
	if e.namespace != "" {
		return e.namespace
	}
	return namespace
}

var valuesSets = []valuesSet{
	{name: "minimal", file: "minimal.yaml", want: expect{jobSelector: "dyvms.*"}},
	{name: "sharded", file: "sharded.yaml", want: expect{
		serviceMonitorPath: "/exporter-metrics", serviceMonitorJob: "dyvms_exporter", scrapeConfig: true,
		prometheusRule: true, dashboards: true, jobSelector: "dyvms.*"}},
	{name: "rrsa", file: "rrsa.yaml", want: expect{
		serviceMonitorPath: "/metrics", serviceMonitorJob: "dyvms", prometheusRule: true,
		rrsaWebhook: "dyvms-exporter-reader", jobSelector: "dyvms.*"}},
	{name: "rrsa-manual", file: "rrsa-manual.yaml", want: expect{rrsaManual: true, jobSelector: "dyvms.*"}},
	{name: "secret", file: "secret.yaml", want: expect{
		serviceMonitorPath: "/metrics", serviceMonitorJob: "callcentre_exporter", prometheusRule: true,
		dashboards: true, secret: true, jobSelector: "callcentre_.*",
		secretFiles: []string{"access_key_id_file", "access_key_secret_file", "security_token_file"}}},
	{name: "secret-inline-id", file: "secret-inline-id.yaml", want: expect{
		secret: true, jobSelector: "dyvms.*",
		secretFiles: []string{"access_key_secret_file"}, keyID: "LTAI5tExampleKeyId0000000"}},
	{name: "full", file: "full.yaml", want: expect{
		serviceMonitorPath: "/metrics", serviceMonitorJob: "dyvms", prometheusRule: true, dashboards: true,
		jobSelector: "dyvms.*", namespace: "callcentre-monitoring", monitorNamespace: "monitoring",
		networkPolicy: true, pdb: true, webTLS: true}},
	{name: "podmonitor", file: "podmonitor.yaml", want: expect{
		serviceMonitorPath: "/metrics", serviceMonitorJob: "dyvms", podMonitor: true, jobSelector: "dyvms.*", webBasicAuth: true}},
	{name: "accounts", file: "accounts.yaml", want: expect{
		rrsaWebhook: "dyvms-exporter-reader", jobSelector: "dyvms.*", accountSecrets: []string{"client-b"}}},
	{name: "bigid", file: "bigid.yaml", want: expect{jobSelector: "dyvms.*"}},
	{name: "callcentre", file: "callcentre.yaml", want: expect{jobSelector: "dyvms.*"}},
}

func (v valuesSet) args() []string {
	if v.file == "" {
		return nil
	}
	return []string{"-f", filepath.Join("testdata", v.file)}
}

func helmBin(t *testing.T) string {
	t.Helper()
	return testutil.ToolFromEnv(t, "DYVMS_HELM", testutil.CachedToolPath("helm", helmVersion, "helm"),
		"run .ci/run once, or: go install helm.sh/helm/v3/cmd/helm@"+helmVersion+" and set DYVMS_HELM")
}

// helmError is a failed helm command: its arguments, and its standard
// error, which is what a user would see.
type helmError struct {
	args   []string
	err    error
	stderr string
}

func (e *helmError) Error() string {
	return fmt.Sprintf("helm %s: %v\n%s", strings.Join(e.args, " "), e.err, e.stderr)
}

// runHelm runs helm and returns its standard output. Standard error is
// kept apart: Helm notes there, on every command, that it follows the
// chart's symbolic links.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &helmError{args: args, err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

func render(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runHelm(t, append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
}

func TestChartLint(t *testing.T) {
	// The defaults too: lint reports the chart's refusal to render
	// without a task as information, which is what it is.
	for _, v := range append([]valuesSet{{name: "defaults"}}, valuesSets...) {
		t.Run(v.name, func(t *testing.T) {
			out, err := runHelm(t, append([]string{"lint", "--strict", chartDir}, v.args()...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Errorf("helm lint --strict:\n%s", out)
			}
		})
	}
}

// objects are the rendered objects, each decoded into its upstream type.
type objects struct {
	Deployment     *appsv1.Deployment
	Service        *corev1.Service
	ServiceAccount *corev1.ServiceAccount
	ConfigMaps     map[string]*corev1.ConfigMap
	ServiceMonitor *monitoringv1.ServiceMonitor
	PrometheusRule *monitoringv1.PrometheusRule
	ScrapeConfig   *monitoringv1alpha1.ScrapeConfig
	PodMonitor     *monitoringv1.PodMonitor
	PDB            *policyv1.PodDisruptionBudget
	NetworkPolicy  *networkingv1.NetworkPolicy
	// rawRuleGroups is spec.groups of the PrometheusRule as rendered.
	rawRuleGroups any
	// namespaces of the objects, by apiVersion/kind/name; all, every
	// name rendered.
	namespaces map[string]string
	all        []string
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeStrict decodes helm template output: every document must be an
// object of a known kind, and decode into its Go type with no unknown or
// duplicate field (sigs.k8s.io/json, the API server's strict decoding,
// case-sensitive).
func decodeStrict(t *testing.T, out string) objects {
	t.Helper()
	objs := objects{ConfigMaps: map[string]*corev1.ConfigMap{}, namespaces: map[string]string{}}
	seen := map[string]bool{}
	for i, doc := range docSep.Split(out, -1) {
		var probe any
		if err := yaml.Unmarshal([]byte(doc), &probe); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if probe == nil {
			continue // comments only
		}
		j, err := sigsyaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(j, &meta); err != nil {
			t.Fatal(err)
		}
		id := meta.APIVersion + "/" + meta.Kind + "/" + meta.Metadata.Name
		if seen[id] {
			t.Errorf("%s rendered twice", id)
		}
		seen[id] = true
		objs.namespaces[id] = meta.Metadata.Namespace
		objs.all = append(objs.all, id)
		var into any
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/Deployment":
			objs.Deployment = &appsv1.Deployment{}
			into = objs.Deployment
		case "v1/Service":
			objs.Service = &corev1.Service{}
			into = objs.Service
		case "v1/ServiceAccount":
			objs.ServiceAccount = &corev1.ServiceAccount{}
			into = objs.ServiceAccount
		case "v1/ConfigMap":
			cm := &corev1.ConfigMap{}
			objs.ConfigMaps[meta.Metadata.Name] = cm
			into = cm
		case "monitoring.coreos.com/v1/ServiceMonitor":
			objs.ServiceMonitor = &monitoringv1.ServiceMonitor{}
			into = objs.ServiceMonitor
		case "monitoring.coreos.com/v1/PrometheusRule":
			objs.PrometheusRule = &monitoringv1.PrometheusRule{}
			into = objs.PrometheusRule
			var raw struct {
				Spec struct {
					Groups any `yaml:"groups"`
				} `yaml:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
				t.Fatal(err)
			}
			objs.rawRuleGroups = raw.Spec.Groups
		case "monitoring.coreos.com/v1/PodMonitor":
			objs.PodMonitor = &monitoringv1.PodMonitor{}
			into = objs.PodMonitor
		case "policy/v1/PodDisruptionBudget":
			objs.PDB = &policyv1.PodDisruptionBudget{}
			into = objs.PDB
		case "networking.k8s.io/v1/NetworkPolicy":
			objs.NetworkPolicy = &networkingv1.NetworkPolicy{}
			into = objs.NetworkPolicy
		case "monitoring.coreos.com/v1alpha1/ScrapeConfig":
			objs.ScrapeConfig = &monitoringv1alpha1.ScrapeConfig{}
			into = objs.ScrapeConfig
		default:
			t.Fatalf("document %d: %s: no Go type known for it; add it to decodeStrict", i, id)
		}
		strictErrs, err := kjson.UnmarshalStrict(j, into, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, e := range strictErrs {
			t.Errorf("%s: %v", id, e)
		}
	}
	return objs
}

func TestChartRendersStrictly(t *testing.T) {
	for _, v := range valuesSets {
		t.Run(v.name, func(t *testing.T) {
			out, err := render(t, v.args()...)
			if err != nil {
				t.Fatal(err)
			}
			o := decodeStrict(t, out)
			if o.Deployment == nil || o.Service == nil || o.ServiceAccount == nil {
				t.Fatalf("want a Deployment, a Service and a ServiceAccount; got %+v", o)
			}
			checkNamespaces(t, o, v.want)
			cfg := checkDeployment(t, o, v.want)
			checkConfig(t, cfg, v.want)
			checkMonitoring(t, o, v.want)
			checkRules(t, o, v.want, v.file)
			checkDashboards(t, o, v.want, v.file)
			checkPolicies(t, o, v.want)
		})
	}
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// checkDeployment checks the hardening, the probes and the mounts, and
// returns the configuration file the pod reads.
func checkDeployment(t *testing.T, o objects, want expect) string {
	t.Helper()
	pod := o.Deployment.Spec.Template.Spec
	c := container(t, o.Deployment)
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || sc == nil {
		t.Fatal("pod or container securityContext missing")
	}
	is := func(b *bool) bool { return b != nil && *b }
	isNot := func(b *bool) bool { return b != nil && !*b }
	if !is(psc.RunAsNonRoot) || psc.RunAsUser == nil || *psc.RunAsUser != 65534 || !is(sc.RunAsNonRoot) || sc.RunAsUser == nil || *sc.RunAsUser != 65534 {
		t.Errorf("not running as 65534: pod %+v, container %+v", psc, sc)
	}
	if !is(sc.ReadOnlyRootFilesystem) || !isNot(sc.AllowPrivilegeEscalation) || !isNot(sc.Privileged) {
		t.Errorf("container securityContext: readOnlyRootFilesystem %v, allowPrivilegeEscalation %v, privileged %v",
			sc.ReadOnlyRootFilesystem, sc.AllowPrivilegeEscalation, sc.Privileged)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v, want drop [ALL] and nothing added", sc.Capabilities)
	}
	if !isNot(pod.AutomountServiceAccountToken) {
		t.Error("the pod mounts a Kubernetes API token it never uses")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http-metrics" || c.Ports[0].ContainerPort != 10681 {
		t.Errorf("ports %+v, want http-metrics 10681", c.Ports)
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/-/healthy", c.ReadinessProbe: "/-/ready"} {
		switch {
		case probe == nil:
			t.Errorf("no probe for %s", path)
		case want.webBasicAuth:
			// The kubelet cannot authenticate: a TCP check.
			if probe.TCPSocket == nil || probe.TCPSocket.Port.String() != "http-metrics" || probe.HTTPGet != nil {
				t.Errorf("with basic auth: probe %+v, want a TCP check of http-metrics", probe)
			}
		default:
			scheme := corev1.URISchemeHTTP
			if want.webTLS {
				scheme = corev1.URISchemeHTTPS
			}
			if probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "http-metrics" || probe.HTTPGet.Scheme != scheme {
				t.Errorf("probe %+v, want %s GET %s on http-metrics", probe, scheme, path)
			}
		}
	}
	webArg := ""
	for _, a := range c.Args {
		if f, ok := strings.CutPrefix(a, "--web.config.file="); ok {
			webArg = f
		}
	}
	if (webArg != "") != (want.webTLS || want.webBasicAuth) {
		t.Errorf("--web.config.file=%q with webConfig TLS %v, basic auth %v", webArg, want.webTLS, want.webBasicAuth)
	}
	if !slices.Contains(c.Args, "--web.listen-address=:10681") {
		t.Errorf("args %q: no --web.listen-address=:10681", c.Args)
	}

	// The configuration: a ConfigMap mounted where --config.file points.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volume %s mounted writable", m.Name)
		}
		mounts[m.Name] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	var configFile string
	for _, a := range c.Args {
		if f, ok := strings.CutPrefix(a, "--config.file="); ok {
			configFile = f
		}
	}
	cfgVol, ok := volumes["config"]
	if !ok || cfgVol.ConfigMap == nil || mounts["config"].MountPath != filepath.Dir(configFile) {
		t.Fatalf("--config.file=%s is not in the config ConfigMap's mount (%+v, %+v)", configFile, mounts["config"], cfgVol)
	}
	cm := o.ConfigMaps[cfgVol.ConfigMap.Name]
	if cm == nil {
		t.Fatalf("ConfigMap %s is mounted but not rendered", cfgVol.ConfigMap.Name)
	}
	cfg, ok := cm.Data[filepath.Base(configFile)]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, filepath.Base(configFile))
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(cfg, "\n")))
	if got := o.Deployment.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("pod annotation checksum/config %q is not the configuration's sha256 %x", got, sum)
	}

	if webArg != "" {
		wv := volumes["web-config"]
		if wv.Secret == nil || wv.Secret.SecretName != "dyvms-web-config" || mounts["web-config"].MountPath != filepath.Dir(webArg) {
			t.Errorf("--web.config.file=%s is not in the web-config Secret's mount (%+v, %+v)", webArg, mounts["web-config"], wv)
		}
	}
	// Each account with a Secret: the Secret mounted whole where the
	// configuration's ../accounts/<name>/ resolves.
	var mountedAccounts []string
	for _, v := range pod.Volumes {
		if !strings.HasPrefix(v.Name, "account-") {
			continue
		}
		m := mounts[v.Name]
		if v.Secret == nil || m.SubPath != "" || filepath.Dir(m.MountPath) != filepath.Join(filepath.Dir(filepath.Dir(configFile)), "accounts") {
			t.Errorf("account volume %+v mounted as %+v", v, m)
		}
		mountedAccounts = append(mountedAccounts, filepath.Base(m.MountPath))
	}
	if !slices.Equal(mountedAccounts, want.accountSecrets) {
		t.Errorf("accounts' Secrets mounted: %v, want %v", mountedAccounts, want.accountSecrets)
	}

	// Credentials.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	credVol, hasSecret := volumes["credentials"]
	if hasSecret != want.secret {
		t.Errorf("credentials volume present: %v, want %v", hasSecret, want.secret)
	}
	if want.secret {
		if credVol.Secret == nil || credVol.Secret.SecretName != "dyvms-exporter-credentials" || len(credVol.Secret.Items) > 0 {
			t.Errorf("credentials volume %+v: want the whole Secret dyvms-exporter-credentials", credVol)
		}
		if m := mounts["credentials"]; m.SubPath != "" {
			t.Errorf("the Secret is mounted with subPath %q: the kubelet would never update it", m.SubPath)
		}
	}
	rrsa := want.rrsaManual || want.rrsaWebhook != ""
	if rrsa != (env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] == "true") {
		t.Errorf("with RRSA %v: ALIBABA_CLOUD_ECS_METADATA_DISABLED=%q (RRSA must not fall back to the node's role)", rrsa, env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"])
	}
	if got := o.ServiceAccount.Annotations["pod-identity.alibabacloud.com/role-name"]; got != want.rrsaWebhook {
		t.Errorf("ServiceAccount role-name annotation %q, want %q", got, want.rrsaWebhook)
	}
	if o.ServiceAccount.Name != pod.ServiceAccountName {
		t.Errorf("pod runs as ServiceAccount %q, the chart creates %q", pod.ServiceAccountName, o.ServiceAccount.Name)
	}
	tokenFile := env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]
	if want.rrsaManual {
		if env["ALIBABA_CLOUD_ROLE_ARN"] == "" || env["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"] == "" || tokenFile == "" {
			t.Errorf("manual RRSA: env %v lacks the credential chain's OIDC variables", env)
		}
		tok, ok := volumes["rrsa-token"]
		if !ok || tok.Projected == nil || len(tok.Projected.Sources) != 1 || tok.Projected.Sources[0].ServiceAccountToken == nil {
			t.Fatalf("manual RRSA: no projected ServiceAccount token volume: %+v", tok)
		}
		sat := tok.Projected.Sources[0].ServiceAccountToken
		if sat.Audience != "sts.aliyuncs.com" || filepath.Join(mounts["rrsa-token"].MountPath, sat.Path) != tokenFile {
			t.Errorf("token %+v mounted at %s, ALIBABA_CLOUD_OIDC_TOKEN_FILE=%s", sat, mounts["rrsa-token"].MountPath, tokenFile)
		}
	} else if tokenFile != "" {
		t.Errorf("ALIBABA_CLOUD_OIDC_TOKEN_FILE=%s without manual RRSA", tokenFile)
	}
	if want.secret {
		// The configuration names the secret files relative to itself.
		var doc struct {
			Credentials map[string]string `yaml:"credentials"`
		}
		if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range want.secretFiles {
			f, ok := doc.Credentials[k]
			if p := filepath.Join(filepath.Dir(configFile), f); !ok || filepath.Dir(p) != mounts["credentials"].MountPath {
				t.Errorf("credentials.%s %q resolves to %s, outside the Secret's mount %s", k, f, p, mounts["credentials"].MountPath)
			}
		}
		wantKeys := len(want.secretFiles)
		if want.keyID != "" {
			wantKeys++
		}
		if len(doc.Credentials) != wantKeys {
			t.Errorf("credentials %v: want exactly %v and access_key_id %q", doc.Credentials, want.secretFiles, want.keyID)
		}
		if got := doc.Credentials["access_key_id"]; got != want.keyID {
			t.Errorf("credentials.access_key_id %q, want %q", got, want.keyID)
		}
	}
	return cfg
}

var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "dyvms-charts-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	testutil.RemoveBuilds()
	os.Exit(code)
}

// exporter is the exporter built from this module once per test binary.
func exporter(t *testing.T) string {
	t.Helper()
	testutil.Tool(t, "go", "the Go toolchain builds the exporter")
	return testutil.BuildExporter(t)
}

// checkConfig runs the exporter's --config.check on the rendered
// configuration, laid out as in the pod (config/config.yml, the Secret's
// files in secrets/), and checks that it holds no secret.
func checkConfig(t *testing.T, cfg string, want expect) {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("config.yml: %v", err)
	}
	creds, _ := doc["credentials"].(map[string]any)
	for k := range creds {
		if k != "access_key_id" && !strings.HasSuffix(k, "_file") {
			t.Errorf("config.yml holds credentials.%s inline: a secret in a ConfigMap", k)
		}
	}
	accounts, _ := doc["accounts"].([]any)
	for i, a := range accounts {
		ac, _ := a.(map[string]any)["credentials"].(map[string]any)
		for k := range ac {
			switch {
			case strings.HasSuffix(k, "_file"), slices.Contains([]string{"access_key_id", "role_arn", "external_id", "role_session_name", "sts_endpoint", "region"}, k):
			default:
				t.Errorf("config.yml holds accounts[%d].credentials.%s inline: a secret in a ConfigMap", i, k)
			}
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "config.yml"), cfg)
	if want.secret {
		writeFile(t, filepath.Join(dir, "secrets", "access_key_id"), "LTAI5tDummyKeyId0000000\n")
		writeFile(t, filepath.Join(dir, "secrets", "access_key_secret"), "dummy-secret\n")
		writeFile(t, filepath.Join(dir, "secrets", "security_token"), "dummy-token\n")
	}
	for _, a := range want.accountSecrets {
		writeFile(t, filepath.Join(dir, "accounts", a, "access_key_id"), "LTAI5tDummyKeyId"+a+"\n")
		writeFile(t, filepath.Join(dir, "accounts", a, "access_key_secret"), "dummy-secret\n")
		writeFile(t, filepath.Join(dir, "accounts", a, "security_token"), "dummy-token\n")
	}
	cmd := exec.Command(exporter(t), "--config.check", "--config.file="+filepath.Join(dir, "config", "config.yml"))
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("--config.check of the rendered config.yml: %v\n%s\n---- config.yml:\n%s", err, out, cfg)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func matchesSelector(t *testing.T, selector, job string) bool {
	t.Helper()
	re, err := regexp.Compile("^(?:" + selector + ")$")
	if err != nil {
		t.Fatalf("jobSelector %q: %v", selector, err)
	}
	return re.MatchString(job)
}

func checkMonitoring(t *testing.T, o objects, want expect) {
	t.Helper()
	svc := o.Service
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 10681 || svc.Spec.Ports[0].TargetPort.String() != "http-metrics" {
		t.Errorf("Service ports %+v", svc.Spec.Ports)
	}
	podLabels := o.Deployment.Spec.Template.Labels
	for k, v := range svc.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("Service selects %s=%s, the pod has %q", k, v, podLabels[k])
		}
	}
	if (o.ServiceMonitor != nil) != (want.serviceMonitorPath != "" && !want.podMonitor) {
		t.Fatalf("ServiceMonitor rendered: %v, want %v", o.ServiceMonitor != nil, !want.podMonitor && want.serviceMonitorPath != "")
	}
	if (o.PodMonitor != nil) != want.podMonitor {
		t.Fatalf("PodMonitor rendered: %v, want %v", o.PodMonitor != nil, want.podMonitor)
	}
	// The endpoint, from the ServiceMonitor or the PodMonitor.
	var ep *monitorEndpoint
	if sm := o.ServiceMonitor; sm != nil {
		for k, v := range sm.Spec.Selector.MatchLabels {
			if svc.Labels[k] != v {
				t.Errorf("ServiceMonitor selects %s=%s, the Service has %q", k, v, svc.Labels[k])
			}
		}
		if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{want.ns()}) {
			t.Errorf("ServiceMonitor selects namespaces %v, want %s", sm.Spec.NamespaceSelector.MatchNames, want.ns())
		}
		if len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
		}
		e := sm.Spec.Endpoints[0]
		ep = &monitorEndpoint{port: e.Port, path: e.Path, scheme: e.Scheme.String(), relabel: e.RelabelConfigs,
			tls: e.TLSConfig != nil, basicAuth: e.BasicAuth != nil}
	}
	if pm := o.PodMonitor; pm != nil {
		for k, v := range pm.Spec.Selector.MatchLabels {
			if podLabels[k] != v {
				t.Errorf("PodMonitor selects %s=%s, the pod has %q", k, v, podLabels[k])
			}
		}
		if len(pm.Spec.PodMetricsEndpoints) != 1 || pm.Spec.PodMetricsEndpoints[0].Port == nil {
			t.Fatalf("PodMonitor endpoints %+v", pm.Spec.PodMetricsEndpoints)
		}
		e := pm.Spec.PodMetricsEndpoints[0]
		ep = &monitorEndpoint{port: *e.Port, path: e.Path, scheme: e.Scheme.String(), relabel: e.RelabelConfigs,
			tls: e.TLSConfig != nil, basicAuth: e.BasicAuth != nil}
	}
	if ep != nil {
		if ep.port != "http-metrics" || ep.path != want.serviceMonitorPath {
			t.Errorf("monitor endpoint port %q path %q, want http-metrics %s", ep.port, ep.path, want.serviceMonitorPath)
		}
		job := relabelJob(t, ep.relabel)
		if job != want.serviceMonitorJob || !matchesSelector(t, want.jobSelector, job) {
			t.Errorf("monitor sets job %q, want %q matching jobSelector %q", job, want.serviceMonitorJob, want.jobSelector)
		}
		if wantScheme := map[bool]string{false: "http", true: "https"}[want.webTLS]; ep.scheme != wantScheme {
			t.Errorf("monitor scheme %q, want %q (webConfig TLS %v)", ep.scheme, wantScheme, want.webTLS)
		}
		if ep.tls != want.webTLS || ep.basicAuth != want.webBasicAuth {
			t.Errorf("monitor tlsConfig %v, basicAuth %v; want %v, %v (as webConfig)", ep.tls, ep.basicAuth, want.webTLS, want.webBasicAuth)
		}
	}
	sc := o.ScrapeConfig
	if (sc != nil) != want.scrapeConfig {
		t.Fatalf("ScrapeConfig rendered: %v, want %v", sc != nil, want.scrapeConfig)
	}
	if sc != nil {
		wantURL := fmt.Sprintf("http://%s.%s.svc:%d/sd", svc.Name, want.ns(), svc.Spec.Ports[0].Port)
		if len(sc.Spec.HTTPSDConfigs) != 1 || string(sc.Spec.HTTPSDConfigs[0].URL) != wantURL {
			t.Errorf("ScrapeConfig http_sd %+v, want %s", sc.Spec.HTTPSDConfigs, wantURL)
		}
		if sc.Spec.HonorLabels == nil || !*sc.Spec.HonorLabels {
			t.Error("ScrapeConfig without honorLabels: /probe's enterprise_id and task_id would become exported_*")
		}
		if sc.Spec.JobName == nil || !matchesSelector(t, want.jobSelector, *sc.Spec.JobName) {
			t.Errorf("ScrapeConfig jobName %v does not match jobSelector %q", sc.Spec.JobName, want.jobSelector)
		}
		checkSharding(t, sc.Spec.RelabelConfigs)
	}
}

// monitorEndpoint is what the checks read of a ServiceMonitor's or a
// PodMonitor's endpoint.
type monitorEndpoint struct {
	port, path, scheme string
	relabel            []monitoringv1.RelabelConfig
	tls, basicAuth     bool
}

// relabelJob returns the job label a ServiceMonitor's relabelings set.
func relabelJob(t *testing.T, rcs []monitoringv1.RelabelConfig) string {
	t.Helper()
	job := ""
	for _, rc := range rcs {
		if rc.TargetLabel == "job" && rc.Replacement != nil && len(rc.SourceLabels) == 0 {
			job = *rc.Replacement
		}
	}
	return job
}

// TestChartRefuses checks the values the chart must reject, each with a
// message naming the value.
func TestChartRefuses(t *testing.T) {
	for _, c := range []struct {
		name, want string
		args       []string
	}{
		{"secret in config", "config.credentials", []string{"--set", "config.credentials.access_key_id=LTAI", "--set", "config.credentials.access_key_secret=s3cr3t"}},
		{"secret without name", "credentials.secret.name", []string{"--set", "credentials.source=secret", "--set", "credentials.secret.accessKeyId=LTAI"}},
		{"secret without an id", "credentials.secret.accessKeyIdKey", []string{"--set", "credentials.source=secret", "--set", "credentials.secret.name=dyvms", "--set", "credentials.secret.accessKeyIdKey="}},
		{"rrsa without role", "credentials.rrsa", []string{"--set", "credentials.source=rrsa"}},
		{"unknown source", "at '/credentials/source': value must be one of 'none', 'secret', 'rrsa'", []string{"--set", "credentials.source=env"}},
		{"nothing to scrape (the defaults)", "config: nothing to monitor: add at least one task (config.tasks", nil},
		{"nothing to scrape (discovery emptied)", "config: nothing to monitor", []string{"--set", "config.tasks=null", "--set", "config.api.burst=5"}},
		{"config.tasks not a list", "at '/config/tasks'", []string{"--set", "config.discovery[0].enterprise_id=1", "--set-json", `config.tasks={"enterprise_id":1}`}},
		{"config.timezone not a string", "at '/config/timezone'", []string{"--set", "config.tasks[0].enterprise_id=1", "--set", "config.tasks[0].task_id=2", "--set-json", "config.timezone=8"}},
		{"accounts in config", "config.accounts: list the accounts under accounts", []string{"--set", "config.tasks[0].enterprise_id=1", "--set", "config.tasks[0].task_id=2", "--set", "config.accounts[0].name=b"}},
		{"secret literal in extraEnv", "extraEnv[1] (ALIBABA_CLOUD_ACCESS_KEY_SECRET): a literal value of a secret-looking variable", []string{"--set", "extraEnv[0].name=ALIBABA_CLOUD_STS_REGION", "--set", "extraEnv[0].value=cn-hangzhou", "--set", "extraEnv[1].name=ALIBABA_CLOUD_ACCESS_KEY_SECRET", "--set", "extraEnv[1].value=s3cr3t"}},
		{"token literal in extraEnv", "use credentials.secret (an existing Secret mounted as files) or valueFrom.secretKeyRef", []string{"--set", "extraEnv[0].name=ALIBABA_CLOUD_SECURITY_TOKEN", "--set", "extraEnv[0].value=s3cr3t"}},
		{"both monitors", "serviceMonitor.enabled and podMonitor.enabled: choose one", []string{"--set", "serviceMonitor.enabled=true", "--set", "podMonitor.enabled=true"}},
		{"webConfig without its Secret", "webConfig.secretName: required", []string{"--set", "webConfig.enabled=true"}},
		{"unknown disabled alert", `prometheusRule.disabledAlerts: "DyvmsAbandonedHigh" is not an alert of rules/`, []string{"--set", "prometheusRule.enabled=true", "--set", "prometheusRule.disabledAlerts[0]=DyvmsAbandonedHigh"}},
		{"unknown overridden alert", `prometheusRule.alertOverrides: "DyvmsNope" is not an alert of rules/`, []string{"--set", "prometheusRule.enabled=true", "--set", "prometheusRule.alertOverrides.DyvmsNope.for=5m"}},
		{"threshold the rule does not hold", `prometheusRule.alertOverrides.DyvmsAgentOccupancyHigh.thresholds: the expression has no "> 0.8"; its comparisons: >= 3, > 0.9`, []string{"--set", "prometheusRule.enabled=true", "--set-json", `prometheusRule.alertOverrides.DyvmsAgentOccupancyHigh={"thresholds":{"> 0.8":0.95}}`}},
		{"account without an identity", "accounts[0] (client-b): give it secret", []string{"--set", "accounts[0].name=client-b", "--set", "accounts[0].enterprises[0]=7000003"}},
		{"id above int64", "config.tasks[0].task_id: 9223372036854775808 is above the largest id", []string{"--set", "config.tasks[0].enterprise_id=1", "--set", "config.tasks[0].task_id=2", "--set-string", "config.tasks[0].task_id=9223372036854775808"}},
		{"account with a bad name", `at '/accounts/0/name': 'Client B' does not match pattern`, []string{"--set", "accounts[0].name=Client B", "--set", "accounts[0].enterprises[0]=7000003", "--set", "accounts[0].secret.name=b"}},
		{"job outside the selector", "serviceMonitor.jobName", []string{"--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.jobName=callcentre"}},
		{"sharded job outside the selector", "scrapeConfig.jobName", []string{"--set", "scrapeConfig.enabled=true", "--set", "jobSelector=dyvms", "--set", "serviceMonitor.jobName=dyvms"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if !strings.HasPrefix(c.name, "nothing to scrape") && !strings.HasPrefix(c.name, "config.") && !slices.Contains(args, "config.tasks[0].task_id=2") {
				args = append(minimalArgs(), args...)
			}
			out, err := render(t, args...)
			if err == nil {
				t.Fatalf("rendered:\n%.2000s", out)
			}
			var he *helmError
			if !errors.As(err, &he) {
				t.Fatal(err)
			}
			if !strings.Contains(he.stderr, c.want) {
				t.Errorf("the chart's error does not name %s: %v", c.want, err)
			}
			if strings.Contains(he.stderr, "s3cr3t") {
				t.Errorf("the error quotes the secret: %s", he.stderr)
			}
		})
	}
}

// TestChartConfigChangeRollsThePod: the checksum annotation follows the
// configuration, so an upgrade with another configuration rolls the pod.
func TestChartConfigChangeRollsThePod(t *testing.T) {
	sums := map[string]string{}
	for _, task := range []string{"19", "20"} {
		out, err := render(t, "--set", "config.tasks[0].enterprise_id=7000002", "--set", "config.tasks[0].task_id="+task)
		if err != nil {
			t.Fatal(err)
		}
		o := decodeStrict(t, out)
		sums[task] = o.Deployment.Spec.Template.Annotations["checksum/config"]
	}
	if sums["19"] == "" || sums["19"] == sums["20"] {
		t.Errorf("checksum/config %v: does not change with the configuration", sums)
	}
}

// TestChartPackage: helm package stores the files behind the chart's
// symbolic links, so the packaged chart renders exactly as the directory
// does (the README's claim for users who install from a .tgz).
func TestChartPackage(t *testing.T) {
	dir := t.TempDir()
	if out, err := runHelm(t, "package", chartDir, "--destination", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tgz, err := filepath.Glob(filepath.Join(dir, "dyvms-exporter-*.tgz"))
	if err != nil || len(tgz) != 1 {
		t.Fatalf("helm package wrote %v (%v)", tgz, err)
	}
	args := []string{"-f", filepath.Join("testdata", "sharded.yaml")}
	fromDir, err := render(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	fromTgz, err := runHelm(t, append([]string{"template", release, tgz[0], "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	if fromDir != fromTgz {
		t.Errorf("the packaged chart renders differently from the directory")
	}
	if !strings.Contains(fromTgz, "kind: PrometheusRule") || !strings.Contains(fromTgz, "dyvms-task.json: |") {
		t.Errorf("the packaged chart lacks the rules or the dashboards")
	}
}

// TestChartImage: the image reference is registry/repository, then the
// digest when one is set (it wins over the tag), else the tag, else the
// chart's appVersion.
func TestChartImage(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		AppVersion string `yaml:"appVersion"`
	}
	if err := yaml.Unmarshal(chart, &meta); err != nil || meta.AppVersion == "" {
		t.Fatalf("Chart.yaml: appVersion %q (%v)", meta.AppVersion, err)
	}
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "ghcr.io/dyvms-community/dyvms_exporter:" + meta.AppVersion},
		{"tag", []string{"--set", "image.tag=0.2.0-rc.1"}, "ghcr.io/dyvms-community/dyvms_exporter:0.2.0-rc.1"},
		{"digest wins", []string{"--set", "image.tag=0.2.0", "--set", "image.digest=" + digest}, "ghcr.io/dyvms-community/dyvms_exporter@" + digest},
		{"mirror", []string{"--set", "image.registry=registry.cn-hangzhou.aliyuncs.com", "--set", "image.repository=ops/dyvms_exporter"}, "registry.cn-hangzhou.aliyuncs.com/ops/dyvms_exporter:" + meta.AppVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := render(t, append(minimalArgs(), c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if got := container(t, decodeStrict(t, out).Deployment).Image; got != c.want {
				t.Errorf("image %q, want %q", got, c.want)
			}
		})
	}
}

// minimalArgs are the values every render needs: one task.
func minimalArgs() []string {
	return []string{"--set", "config.tasks[0].enterprise_id=7000002", "--set", "config.tasks[0].task_id=19"}
}
