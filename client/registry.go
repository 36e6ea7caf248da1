package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/distribution/reference"
	apiregistry "github.com/moby/moby/api/types/registry"
)

// ImagePush asks the daemon to push ref (POST /images/{name}/push); a bare name pushes every local
// tag of the repository. registryAuth is the X-Registry-Auth value. It returns the daemon's JSON
// progress stream, whose aux message carries the pushed digest; the caller closes it.
func (c *Client) ImagePush(ctx context.Context, ref, registryAuth string) (io.ReadCloser, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if tagged, ok := named.(reference.Tagged); ok {
		q.Set("tag", tagged.Tag())
	}
	req := request{method: http.MethodPost, path: "/images/" + reference.FamiliarName(named) + "/push", query: q, body: bytes.NewReader(nil),
		header: http.Header{"X-Registry-Auth": []string{registryAuth}}}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// RegistryLogin asks the daemon to check credentials against a registry (POST /auth).
func (c *Client) RegistryLogin(ctx context.Context, auth apiregistry.AuthConfig) (apiregistry.AuthResponse, error) {
	var out apiregistry.AuthResponse
	raw, err := json.Marshal(auth)
	if err != nil {
		return out, err
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/auth", body: bytes.NewReader(raw), contentType: "application/json"})
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	return out, json.NewDecoder(resp.Body).Decode(&out)
}
