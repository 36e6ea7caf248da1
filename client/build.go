package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/api/types"
)

// ImageBuildQuery sends a build context tar to POST /build with the query parameters as given
// (docker's names: t, dockerfile, buildargs, ...) and returns the JSON stream; the caller closes it.
func (c *Client) ImageBuildQuery(ctx context.Context, buildContext io.Reader, q url.Values) (io.ReadCloser, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/build", query: q, body: buildContext, contentType: "application/x-tar"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// BuildCachePrune removes build cache: all of it with all, else what no listed image needs;
// keepStorage bytes of the most recently used stay.
func (c *Client) BuildCachePrune(ctx context.Context, all bool, keepStorage int64, f filters.Args) (types.BuildCachePruneReport, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	if keepStorage > 0 {
		q.Set("keep-storage", strconv.FormatInt(keepStorage, 10))
	}
	if len(f) > 0 {
		q.Set("filters", f.Encode())
	}
	var rep types.BuildCachePruneReport
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/build/prune", query: q})
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	return rep, decodeJSON(resp.Body, &rep)
}
