package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/filters"
)

// VolumeCreate creates a volume (an empty name lets the daemon pick one).
func (c *Client) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	var v volume.Volume
	err := c.sendJSON(ctx, http.MethodPost, "/volumes/create", nil, req, &v)
	return v, err
}

// VolumeList returns GET /volumes.
func (c *Client) VolumeList(ctx context.Context, f filters.Args) (volume.ListResponse, error) {
	q := url.Values{}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var out volume.ListResponse
	err := c.getJSON(ctx, "/volumes", q, &out)
	return out, err
}

// VolumeInspect returns GET /volumes/{name} decoded and as the raw bytes the daemon sent.
func (c *Client) VolumeInspect(ctx context.Context, name string) (volume.Volume, []byte, error) {
	var v volume.Volume
	if name == "" {
		return v, nil, errors.New("volume name must not be empty")
	}
	raw, err := c.getJSONRaw(ctx, "/volumes/"+name, nil, &v)
	return v, raw, err
}

// VolumeRemove removes a volume; force ignores a missing one.
func (c *Client) VolumeRemove(ctx context.Context, name string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	return c.sendJSON(ctx, http.MethodDelete, "/volumes/"+name, q, nil, nil)
}

// VolumePrune removes unused volumes matching f (anonymous ones only unless f has all=true).
func (c *Client) VolumePrune(ctx context.Context, f filters.Args) (volume.PruneReport, error) {
	q := url.Values{}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var report volume.PruneReport
	err := c.sendJSON(ctx, http.MethodPost, "/volumes/prune", q, nil, &report)
	return report, err
}

// VolumeExport returns a tar stream of the volume's content (berth only); the caller closes it.
func (c *Client) VolumeExport(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/berth/volumes/" + name + "/export"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// VolumeImport unpacks a tar stream into the volume (berth only).
func (c *Client) VolumeImport(ctx context.Context, name string, r io.Reader) error {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/berth/volumes/" + name + "/import", body: r, contentType: "application/x-tar"})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
