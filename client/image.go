package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/berth-project/berth/api/filters"
	"github.com/moby/moby/api/types/image"
)

// ImageList returns GET /images/json; all includes intermediate images.
func (c *Client) ImageList(ctx context.Context, f filters.Args, all bool) ([]image.Summary, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var images []image.Summary
	err := c.getJSON(ctx, "/images/json", q, &images)
	return images, err
}

// ImageInspect returns GET /images/{name}/json decoded and as the raw bytes the daemon sent.
func (c *Client) ImageInspect(ctx context.Context, name string) (image.InspectResponse, []byte, error) {
	var out image.InspectResponse
	if name == "" {
		return out, nil, errors.New("image name must not be empty")
	}
	raw, err := c.getJSONRaw(ctx, "/images/"+name+"/json", nil, &out)
	return out, raw, err
}

// ImageHistory returns GET /images/{name}/history.
func (c *Client) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	var h []image.HistoryResponseItem
	err := c.getJSON(ctx, "/images/"+name+"/history", nil, &h)
	return h, err
}

// ImageTag tags src as repo:tag (tag "" lets the daemon pick "latest").
func (c *Client) ImageTag(ctx context.Context, src, repo, tag string) error {
	q := url.Values{}
	q.Set("repo", repo)
	if tag != "" {
		q.Set("tag", tag)
	}
	return c.sendJSON(ctx, http.MethodPost, "/images/"+src+"/tag", q, nil, nil)
}

// ImageRemove removes (untags) name; noprune keeps untagged parents.
func (c *Client) ImageRemove(ctx context.Context, name string, force, noprune bool) ([]image.DeleteResponse, error) {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	if noprune {
		q.Set("noprune", "1")
	}
	var dels []image.DeleteResponse
	err := c.sendJSON(ctx, http.MethodDelete, "/images/"+name, q, nil, &dels)
	return dels, err
}

// ImagePrune removes unused images matching f.
func (c *Client) ImagePrune(ctx context.Context, f filters.Args) (image.PruneReport, error) {
	q := url.Values{}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var report image.PruneReport
	err := c.sendJSON(ctx, http.MethodPost, "/images/prune", q, nil, &report)
	return report, err
}

// LoadResponse is the reply of POST /images/load; Body must be closed.
type LoadResponse struct {
	Body io.ReadCloser
	JSON bool // Body is a newline-delimited JSON message stream
}

// ImageLoad uploads an image tar archive. With quiet the daemon reports no progress.
func (c *Client) ImageLoad(ctx context.Context, r io.Reader, quiet bool) (LoadResponse, error) {
	q := url.Values{}
	if quiet {
		q.Set("quiet", "1")
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/images/load", query: q, body: r, contentType: "application/x-tar"})
	if err != nil {
		return LoadResponse{}, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return LoadResponse{Body: resp.Body, JSON: mt == "application/json"}, nil
}

// ImageSave returns a tar archive of the named images; the caller closes it.
func (c *Client) ImageSave(ctx context.Context, names []string) (io.ReadCloser, error) {
	q := url.Values{}
	for _, n := range names {
		q.Add("names", n)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/images/get", query: q})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ImportSource is where an imported root filesystem comes from: a tar stream sent in the
// request body, or a URL the daemon fetches.
type ImportSource struct {
	Reader io.Reader
	URL    string
}

// ImportOptions are the query parameters of an import.
type ImportOptions struct {
	Repo     string   // repository, or repository:tag
	Tag      string   // tag, when not part of Repo
	Message  string   // commit message of the new image
	Changes  []string // Dockerfile instructions applied to the image config
	Platform string   // os[/arch[/variant]]
}

// ImageImport creates an image from a root filesystem tarball (POST /images/create?fromSrc=...).
// It returns the daemon's JSON message stream; the caller closes it.
func (c *Client) ImageImport(ctx context.Context, src ImportSource, opts ImportOptions) (io.ReadCloser, error) {
	q := url.Values{}
	req := request{method: http.MethodPost, path: "/images/create", query: q}
	switch {
	case src.URL != "":
		q.Set("fromSrc", src.URL)
	case src.Reader != nil:
		q.Set("fromSrc", "-")
		req.body = src.Reader
		req.contentType = "application/x-tar"
	default:
		return nil, errors.New("import needs a source: a reader or a URL")
	}
	if opts.Repo != "" {
		q.Set("repo", opts.Repo)
	}
	if opts.Tag != "" {
		q.Set("tag", opts.Tag)
	}
	if opts.Message != "" {
		q.Set("message", opts.Message)
	}
	if opts.Platform != "" {
		q.Set("platform", opts.Platform)
	}
	for _, ch := range opts.Changes {
		q.Add("changes", ch)
	}
	if req.body == nil {
		req.body = bytes.NewReader(nil)
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
