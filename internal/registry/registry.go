// Package registry is berth's client of OCI distribution registries, on top of
// go-containerregistry: which endpoints serve a registry (mirrors first), how to reach each one
// (TLS with per-registry CAs from certs.d directories, insecure registries), credentials, and the
// few operations the image service needs to pull and push. It knows nothing of HTTP serving or of
// berth's stores.
package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DockerHub is the domain distribution/reference gives Docker Hub's images.
const DockerHub = "docker.io"

// DefaultCertsDirs are read for per-registry certificates, berth's own directory first.
var DefaultCertsDirs = []string{"/etc/berth/certs.d", "/etc/docker/certs.d"}

// Config says how to reach registries.
type Config struct {
	// Insecure lists registries (host[:port]) and CIDRs whose TLS certificates are not verified and
	// that may be spoken to over plain HTTP.
	Insecure []string
	// Mirrors lists mirror URLs for Docker Hub, and "HOST=URL" entries for mirrors of any other
	// registry, tried in order before the registry itself.
	Mirrors []string
	// CertsDirs hold <host[:port]>/{*.crt,*.cert,*.key} as docker's certs.d does.
	CertsDirs []string
}

// Client reaches registries as its Config says; it is safe for concurrent use.
type Client struct {
	cfg      Config
	cidrs    []*net.IPNet
	hosts    map[string]bool
	mirrors  map[string][]endpoint
	mu       sync.Mutex
	transpts map[string]http.RoundTripper
}

// endpoint is one place a registry's content can be fetched from.
type endpoint struct {
	host     string // host[:port] as go-containerregistry takes it
	insecure bool
	mirror   bool
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.CertsDirs == nil {
		cfg.CertsDirs = DefaultCertsDirs
	}
	c := &Client{cfg: cfg, hosts: map[string]bool{}, mirrors: map[string][]endpoint{}, transpts: map[string]http.RoundTripper{}}
	for _, s := range cfg.Insecure {
		if _, n, err := net.ParseCIDR(s); err == nil {
			c.cidrs = append(c.cidrs, n)
			continue
		}
		c.hosts[strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://"), "/")] = true
	}
	for _, m := range cfg.Mirrors {
		registry, raw := DockerHub, m
		if k, v, ok := strings.Cut(m, "="); ok {
			registry, raw = k, v
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("invalid registry mirror %q: want http(s)://host[:port] or REGISTRY=http(s)://host[:port]", m)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("invalid registry mirror %q: a path is not supported", m)
		}
		c.mirrors[registry] = append(c.mirrors[registry], endpoint{host: u.Host, insecure: u.Scheme == "http" || c.isInsecure(u.Host), mirror: true})
	}
	return c, nil
}

// isInsecure reports whether host is listed as insecure, by name or by an address in a CIDR, as
// docker decides it (names are resolved).
func (c *Client) isInsecure(host string) bool {
	if c.hosts[host] {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if c.hosts[h] {
		return true
	}
	ips := []net.IP{net.ParseIP(h)}
	if ips[0] == nil {
		addrs, err := net.LookupIP(h)
		if err != nil {
			return false
		}
		ips = addrs
	}
	for _, ip := range ips {
		for _, n := range c.cidrs {
			if n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// endpoints lists where domain's content is fetched from for pulls: mirrors, then the registry.
func (c *Client) endpoints(domain string) []endpoint {
	eps := append([]endpoint(nil), c.mirrors[domain]...)
	return append(eps, c.registryEndpoint(domain))
}

func (c *Client) registryEndpoint(domain string) endpoint {
	return endpoint{host: domain, insecure: c.isInsecure(domain)}
}

// repository names repo (a path such as library/busybox) at endpoint ep.
func (ep endpoint) repository(repo string) (name.Repository, error) {
	var opts []name.Option
	if ep.insecure {
		opts = append(opts, name.Insecure)
	}
	return name.NewRepository(ep.host+"/"+repo, opts...)
}

// transport returns the round tripper for host with its TLS settings: verified against the system
// roots plus the host's certs.d CAs, or unverified for an insecure host that has no CA of its own.
// Unlike docker, a CA in certs.d is honoured even for a host in an insecure range: whoever put it
// there wants the host verified.
func (c *Client) transport(ep endpoint) (http.RoundTripper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.transpts[ep.host]; ok {
		return t, nil
	}
	tc, err := c.tlsConfig(ep)
	if err != nil {
		return nil, err
	}
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tc
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 2 * time.Minute
	c.transpts[ep.host] = t
	return t, nil
}

func (c *Client) tlsConfig(ep endpoint) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	hasCA := false
	for _, root := range c.cfg.CertsDirs {
		dir := filepath.Join(root, ep.host)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			switch {
			case strings.HasSuffix(e.Name(), ".crt"):
				pem, err := os.ReadFile(p)
				if err != nil {
					return nil, err
				}
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("no certificates in %s", p)
				}
				hasCA = true
			case strings.HasSuffix(e.Name(), ".cert"):
				key := strings.TrimSuffix(p, ".cert") + ".key"
				pair, err := tls.LoadX509KeyPair(p, key)
				if err != nil {
					return nil, fmt.Errorf("client certificate %s: %w", p, err)
				}
				tc.Certificates = append(tc.Certificates, pair)
			}
		}
	}
	tc.RootCAs = pool
	tc.InsecureSkipVerify = ep.insecure && !hasCA
	return tc, nil
}
