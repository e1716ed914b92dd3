package charts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
)

// TestChartProbesWithWebConfig renders the chart with webConfig's TLS and
// basic auth on and off, starts the exporter with the web configuration
// the Secret would hold, and does what the kubelet would do with the
// rendered probes: every probe passes, in every combination. With basic
// auth, an HTTP GET of /-/healthy (what the probes did before) is refused,
// which is why the chart then checks the port instead.
func TestChartProbesWithWebConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name           string
		tls, basicAuth bool
		want           string // the liveness probe
	}{
		{"plain", false, false, "http /-/healthy"},
		{"tls", true, false, "https /-/healthy"},
		{"basic auth", false, true, "tcp"},
		{"tls and basic auth", true, true, "tcp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := minimalArgs()
			if c.tls || c.basicAuth {
				args = append(args, "--set", "webConfig.enabled=true", "--set", "webConfig.secretName=web",
					"--set", fmt.Sprintf("webConfig.tls=%v", c.tls), "--set", fmt.Sprintf("webConfig.basicAuth=%v", c.basicAuth))
			}
			out, err := render(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			o := decodeStrict(t, out)
			ctr := container(t, o.Deployment)
			if got := probeOf(ctr.LivenessProbe); got != c.want {
				t.Errorf("liveness probe %q, want %q", got, c.want)
			}

			// The pod's files: the configuration, the web configuration.
			pod := t.TempDir()
			writeFile(t, filepath.Join(pod, "config", "config.yml"), o.ConfigMaps[o.Deployment.Name].Data["config.yml"])
			var web strings.Builder
			if c.tls {
				fmt.Fprintf(&web, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile)
			}
			if c.basicAuth {
				fmt.Fprintf(&web, "basic_auth_users:\n  prometheus: %s\n", hash)
			}
			port := freePort(t)
			flags := []string{"--config.file=" + filepath.Join(pod, "config", "config.yml"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}
			for _, a := range ctr.Args {
				if f, ok := strings.CutPrefix(a, "--web.config.file="); ok {
					writeFile(t, filepath.Join(pod, "web", filepath.Base(f)), web.String())
					flags = append(flags, "--web.config.file="+filepath.Join(pod, "web", filepath.Base(f)))
				}
			}
			startExporter(t, flags)

			for name, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
				if err := kubeletProbe(p, port); err != nil {
					t.Errorf("%s probe %q fails against the exporter: %v", name, probeOf(p), err)
				}
			}
			if c.basicAuth {
				scheme := map[bool]string{false: "http", true: "https"}[c.tls]
				code, err := get(fmt.Sprintf("%s://127.0.0.1:%d/-/healthy", scheme, port))
				if err != nil || code != http.StatusUnauthorized {
					t.Errorf("GET /-/healthy without credentials: %d %v; want 401 (else the TCP probe is not needed)", code, err)
				}
			}
		})
	}
}

// kubeletProbe does what the kubelet does for a probe: connect for a TCP
// check; for an HTTP GET, success is a status from 200 to 399, and HTTPS
// is not verified.
func kubeletProbe(p *corev1.Probe, port int) error {
	switch {
	case p == nil:
		return fmt.Errorf("no probe")
	case p.TCPSocket != nil:
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	case p.HTTPGet != nil:
		code, err := get(fmt.Sprintf("%s://127.0.0.1:%d%s", strings.ToLower(string(p.HTTPGet.Scheme)), port, p.HTTPGet.Path))
		if err != nil {
			return err
		}
		if code < 200 || code >= 400 {
			return fmt.Errorf("status %d", code)
		}
		return nil
	}
	return fmt.Errorf("probe %+v: neither TCP nor HTTP", p)
}

func get(url string) (int, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the kubelet does not verify either
	}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startExporter runs the exporter until the test ends, and waits until
// it accepts connections.
func startExporter(t *testing.T, flags []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exporter(t), flags...)
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("exporter's log:\n%s", logs.String())
		}
	})
	addr := ""
	for _, f := range flags {
		if a, ok := strings.CutPrefix(f, "--web.listen-address="); ok {
			addr = a
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the exporter does not listen on %s:\n%s", addr, logs.String())
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dyvms-exporter"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	return certFile, keyFile
}
