// Package client is berth's Go client for the Docker Engine API as berthd serves it. It resolves
// DOCKER_HOST-style addresses, negotiates the API version with the daemon on first use, and maps
// non-2xx replies back to berth's error classes.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/api"
)

// DefaultHost is the daemon address used when none is configured.
const DefaultHost = "unix:///run/berth/berth.sock"

// defaultTCPPort is the port assumed for tcp:// addresses that name none.
const defaultTCPPort = "2375"

// Client talks to one berthd (or any Docker-compatible daemon).
type Client struct {
	host      string // the address as resolved, e.g. unix:///run/berth/berth.sock
	proto     string // "unix" or "tcp"
	addr      string // socket path or host:port
	basePath  string // path prefix from a tcp:// address, without trailing slash
	http      *http.Client
	userAgent string

	mu         sync.Mutex
	version    string // API version requests are sent with ("" until negotiated)
	negotiated bool   // true once version is settled (negotiated or fixed by WithVersion)
}

// Option configures a Client.
type Option func(*Client) error

// WithVersion fixes the API version and disables negotiation.
func WithVersion(v string) Option {
	return func(c *Client) error {
		v = strings.TrimPrefix(v, "v")
		if v == "" {
			return nil
		}
		c.version = v
		c.negotiated = true
		return nil
	}
}

// WithHTTPClient replaces the HTTP client; its transport must reach the daemon on its own.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) error {
		c.http = h
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// New returns a client for host (DOCKER_HOST syntax; "" means DefaultHost).
func New(host string, opts ...Option) (*Client, error) {
	proto, addr, basePath, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	c := &Client{
		proto:     proto,
		addr:      addr,
		basePath:  basePath,
		userAgent: "berth-client",
	}
	switch proto {
	case "unix":
		c.host = "unix://" + addr
	default:
		c.host = "tcp://" + addr + basePath
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.http == nil {
		c.http = &http.Client{Transport: newTransport(proto, addr)}
	}
	return c, nil
}

// dial opens a raw connection to the daemon, for the requests that take the connection over
// (attach, exec start).
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, c.proto, c.addr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &ConnectionError{Host: c.host, Err: err}
	}
	return conn, nil
}

func newTransport(proto, addr string) *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	t := &http.Transport{
		MaxIdleConns:        8,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if proto == "unix" {
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", addr)
		}
	} else {
		t.DialContext = dialer.DialContext
		t.Proxy = http.ProxyFromEnvironment
	}
	return t
}

// ParseHost splits a DOCKER_HOST-style address into protocol ("unix" or "tcp"), address (socket
// path or host:port) and, for tcp, a base path. "" yields DefaultHost; an address without a
// scheme is taken as tcp.
func ParseHost(host string) (proto, addr, basePath string, err error) {
	host = strings.TrimSpace(host)
	if host == "" {
		host = DefaultHost
	}
	scheme, rest, ok := strings.Cut(host, "://")
	if !ok {
		scheme, rest = "tcp", host
	}
	switch strings.ToLower(scheme) {
	case "unix":
		if rest == "" {
			rest = strings.TrimPrefix(DefaultHost, "unix://")
		}
		return "unix", rest, "", nil
	case "tcp", "http":
		u, perr := url.Parse("tcp://" + rest)
		if perr != nil {
			return "", "", "", fmt.Errorf("invalid bind address %q: %w", host, perr)
		}
		h, p := u.Hostname(), u.Port()
		if h == "" && p == "" {
			return "", "", "", fmt.Errorf("invalid bind address %q: no host", host)
		}
		if h == "" {
			h = "127.0.0.1"
		}
		if p == "" {
			p = defaultTCPPort
		}
		return "tcp", net.JoinHostPort(h, p), strings.TrimRight(u.Path, "/"), nil
	default:
		return "", "", "", fmt.Errorf("unsupported protocol %q in host %q (want unix:// or tcp://)", scheme, host)
	}
}

// Host is the daemon address this client connects to.
func (c *Client) Host() string { return c.host }

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// request describes one API call.
type request struct {
	method      string
	path        string // without the /vX.Y prefix
	query       url.Values
	body        io.Reader
	contentType string
	header      http.Header
	unversioned bool // true for /_ping
}

// do sends req and returns the response when its status is 2xx; otherwise it closes the body
// and returns the mapped error.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	hreq, err := c.newHTTPRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, responseError(resp, req.method)
	}
	return resp, nil
}

// newHTTPRequest builds the HTTP request for req: versioned path (negotiating first), query and
// headers.
func (c *Client) newHTTPRequest(ctx context.Context, req request) (*http.Request, error) {
	path := req.path
	if !req.unversioned {
		v, err := c.negotiate(ctx)
		if err != nil {
			return nil, err
		}
		if v != "" {
			path = "/v" + v + path
		}
	}
	u := url.URL{Scheme: "http", Host: c.urlHost(), Path: c.basePath + path}
	if len(req.query) > 0 {
		u.RawQuery = req.query.Encode()
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u.String(), req.body)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if req.contentType != "" {
		hreq.Header.Set("Content-Type", req.contentType)
	} else if req.body != nil && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "text/plain")
	}
	if c.userAgent != "" {
		hreq.Header.Set("User-Agent", c.userAgent)
	}
	return hreq, nil
}

func (c *Client) urlHost() string {
	if c.proto == "unix" {
		return "api.moby.localhost"
	}
	return c.addr
}

// transportError turns a failure to reach the daemon into the connection error; context
// cancellation is returned as is.
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return &ConnectionError{Host: c.host, Err: err}
	}
	return fmt.Errorf("error during connect: %w", err)
}

// getJSON performs a GET and decodes the JSON reply into out.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, out any) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, query: query})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeJSON(resp.Body, out)
}

// getJSONRaw is getJSON that also returns the bytes the daemon sent, for `inspect` to print as is.
func (c *Client) getJSONRaw(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, query: query})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return raw, fmt.Errorf("error decoding daemon response: %w", err)
	}
	return raw, nil
}

// sendJSON performs method with an optional JSON body and decodes the reply into out (if non-nil).
func (c *Client) sendJSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	req := request{method: method, path: path, query: query}
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		req.body = bytes.NewReader(raw)
		req.contentType = "application/json"
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return decodeJSON(resp.Body, out)
}

func decodeJSON(r io.Reader, out any) error {
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("error decoding daemon response: %w", err)
	}
	return nil
}

// ClientVersion is the API version requests are sent with: the negotiated one, or
// api.DefaultVersion before negotiation.
func (c *Client) ClientVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == "" {
		return api.DefaultVersion
	}
	return c.version
}
