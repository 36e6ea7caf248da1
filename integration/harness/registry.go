package harness

import (
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
	"testing"
	"time"
)

// RegistryBinary is Debian's reference distribution registry.
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is a docker-registry on 127.0.0.1 for one test.
type Registry struct {
	Addr string // 127.0.0.1:PORT
	Dir  string
	// User and Password are set when the registry requires them (htpasswd).
	User, Password string
	// CertsDir, with TLS, holds Addr/ca.crt in docker's certs.d layout (berthd --registry-certs-dir).
	CertsDir string
	CAPEM    []byte
}

// RegistryOptions choose how the registry is protected.
type RegistryOptions struct {
	// Secure serves TLS with a certificate from a fresh CA and requires htpasswd basic auth.
	Secure bool
}

// StartRegistry runs docker-registry on a free port until the test ends; it skips the test when
// the registry is not installed.
func StartRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	if _, err := os.Stat(RegistryBinary); err != nil {
		t.Skipf("%s not installed (apt-get install docker-registry)", RegistryBinary)
	}
	r := &Registry{Dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(r.Dir, "data"), r.Addr)
	if opts.Secure {
		r.User, r.Password = "berth", "s3cret-pass"
		out, err := exec.Command("htpasswd", "-Bbn", r.User, r.Password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		htpasswd := filepath.Join(r.Dir, "htpasswd")
		if err := os.WriteFile(htpasswd, out, 0o600); err != nil {
			t.Fatal(err)
		}
		cert, key := r.makeCerts(t)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\nauth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", cert, key, htpasswd)
	}
	cfgPath := filepath.Join(r.Dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(r.Dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(RegistryBinary, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(r.Dir, "registry.log"))
			t.Logf("registry log:\n%s", b)
		}
	})
	r.waitReady(t, done)
	return r
}

// URL is the registry's base URL.
func (r *Registry) URL() string {
	if r.CAPEM != nil {
		return "https://" + r.Addr
	}
	return "http://" + r.Addr
}

func (r *Registry) waitReady(t testing.TB, done <-chan struct{}) {
	client := &http.Client{Timeout: time.Second}
	if r.CAPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(r.CAPEM)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(r.Dir, "registry.log"))
			t.Fatalf("docker-registry exited during start:\n%s", b)
		default:
		}
		if resp, err := client.Get(r.URL() + "/v2/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("docker-registry did not answer within 20s")
}

// makeCerts writes a CA (also into CertsDir/Addr/ca.crt) and a server certificate for 127.0.0.1.
func (r *Registry) makeCerts(t testing.TB) (certPath, keyPath string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	r.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPath, keyPath = filepath.Join(r.Dir, "server.crt"), filepath.Join(r.Dir, "server.key")
	r.CertsDir = filepath.Join(r.Dir, "certs.d")
	hostDir := filepath.Join(r.CertsDir, r.Addr)
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string][]byte{
		certPath:                         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPath:                          pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		filepath.Join(hostDir, "ca.crt"): r.CAPEM,
	} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certPath, keyPath
}
