package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/distribution/reference"
)

// PullOptions are the options of ImagePull.
type PullOptions struct {
	Platform     string // os[/arch[/variant]]
	RegistryAuth string // X-Registry-Auth header: base64url-encoded JSON credentials
	All          bool   // every tag of a bare repository name
}

// ImagePull asks the daemon to pull ref (POST /images/create?fromImage=...). It returns the
// daemon's JSON progress stream, which reports a failed pull in its last message; the caller
// closes it.
func (c *Client) ImagePull(ctx context.Context, ref string, opts PullOptions) (io.ReadCloser, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("fromImage", named.Name())
	if digested, ok := named.(reference.Digested); ok {
		q.Set("tag", digested.Digest().String())
	} else if tagged, ok := named.(reference.Tagged); ok {
		q.Set("tag", tagged.Tag())
	} else if !opts.All {
		q.Set("tag", "latest") // without a tag the daemon pulls them all
	}
	if opts.Platform != "" {
		q.Set("platform", opts.Platform)
	}
	req := request{method: http.MethodPost, path: "/images/create", query: q, body: bytes.NewReader(nil)}
	if opts.RegistryAuth != "" {
		req.header = http.Header{"X-Registry-Auth": []string{opts.RegistryAuth}}
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
