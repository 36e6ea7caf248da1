package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-project/berth/internal/errdefs"
)

// AuthConfig is the credentials docker clients send, in X-Registry-Auth and in POST /auth.
type AuthConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	Email         string `json:"email,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// DecodeAuthHeader decodes an X-Registry-Auth value: base64url JSON, padded or not (docker-py pads,
// the docker CLI does not always). An empty header means anonymous access.
func DecodeAuthHeader(h string) (AuthConfig, error) {
	var a AuthConfig
	if h == "" {
		return a, nil
	}
	trimmed := strings.TrimRight(h, "=")
	raw, err := base64.RawURLEncoding.DecodeString(trimmed)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(trimmed); err != nil {
			return a, errdefs.InvalidArgumentf("invalid X-Registry-Auth header: not base64: %v", err)
		}
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, errdefs.InvalidArgumentf("invalid X-Registry-Auth header: %v", err)
	}
	return a, nil
}

func (a AuthConfig) authenticator() authn.Authenticator {
	if a == (AuthConfig{}) {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// LoginHost is the registry host an AuthConfig's server address names: "https://index.docker.io/v1/"
// and an empty address mean Docker Hub; schemes and paths are dropped.
func LoginHost(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "index.docker.io", "registry-1.docker.io", DockerHub:
		return DockerHub
	}
	return s
}

// Login checks a's credentials against its registry: a token for bearer registries, an
// authenticated GET /v2/ for all.
func (c *Client) Login(ctx context.Context, a AuthConfig) error {
	host := LoginHost(a.ServerAddress)
	ep := c.registryEndpoint(host)
	var opts []name.Option
	if ep.insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return errdefs.InvalidArgumentf("invalid registry address %q: %v", a.ServerAddress, err)
	}
	base, err := c.transport(ep)
	if err != nil {
		return err
	}
	rt, err := transport.NewWithContext(ctx, reg, a.authenticator(), base, nil)
	if err != nil {
		return classify(err, "login to "+host)
	}
	u := fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return errdefs.Unavailablef("login to %s: %v", host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return errdefs.Unauthorizedf("login attempt to %s failed with status: %s", resp.Request.URL, resp.Status)
	case resp.StatusCode >= 300:
		return errdefs.Unavailablef("login attempt to %s failed with status: %s", resp.Request.URL, resp.Status)
	}
	return nil
}
