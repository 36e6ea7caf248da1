package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

// networkPath is /networks/{ref} followed by suffix; an empty ref is refused before any request.
func networkPath(ref, suffix string) (string, error) {
	if ref == "" {
		return "", errdefs.InvalidArgumentf("network name or ID must not be empty")
	}
	return "/networks/" + ref + suffix, nil
}

// filtersQuery is the query string carrying f (none when f is empty).
func filtersQuery(f filters.Args) url.Values {
	q := url.Values{}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	return q
}

// NetworkCreate creates a network (POST /networks/create).
func (c *Client) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	var out network.CreateResponse
	err := c.sendJSON(ctx, http.MethodPost, "/networks/create", nil, req, &out)
	return out, err
}

// NetworkList returns the networks matching f.
func (c *Client) NetworkList(ctx context.Context, f filters.Args) ([]network.Summary, error) {
	var out []network.Summary
	err := c.getJSON(ctx, "/networks", filtersQuery(f), &out)
	return out, err
}

// NetworkInspectOptions are the query options of GET /networks/{id}.
type NetworkInspectOptions struct {
	Scope   string // only a network of this scope (local, global, swarm) matches
	Verbose bool
}

// NetworkInspect returns GET /networks/{id} decoded and as the raw bytes the daemon sent.
func (c *Client) NetworkInspect(ctx context.Context, ref string, opts NetworkInspectOptions) (network.Inspect, []byte, error) {
	var out network.Inspect
	path, err := networkPath(ref, "")
	if err != nil {
		return out, nil, err
	}
	q := url.Values{}
	if opts.Scope != "" {
		q.Set("scope", opts.Scope)
	}
	if opts.Verbose {
		q.Set("verbose", "true")
	}
	raw, err := c.getJSONRaw(ctx, path, q, &out)
	return out, raw, err
}

// NetworkRemove removes a network.
func (c *Client) NetworkRemove(ctx context.Context, ref string) error {
	path, err := networkPath(ref, "")
	if err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodDelete, path, nil, nil, nil)
}

// NetworkPrune removes the unused custom networks matching f.
func (c *Client) NetworkPrune(ctx context.Context, f filters.Args) (network.PruneReport, error) {
	var report network.PruneReport
	err := c.sendJSON(ctx, http.MethodPost, "/networks/prune", filtersQuery(f), nil, &report)
	return report, err
}

// NetworkConnect attaches a container to a network; ep (optional) asks for addresses and aliases.
func (c *Client) NetworkConnect(ctx context.Context, netRef, ctrRef string, ep *network.EndpointSettings) error {
	path, err := networkPath(netRef, "/connect")
	if err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, path, nil, network.ConnectRequest{Container: ctrRef, EndpointConfig: ep}, nil)
}

// NetworkDisconnect detaches a container from a network; force also works when the container
// is gone or the network is in an inconsistent state.
func (c *Client) NetworkDisconnect(ctx context.Context, netRef, ctrRef string, force bool) error {
	path, err := networkPath(netRef, "/disconnect")
	if err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, path, nil, network.DisconnectRequest{Container: ctrRef, Force: force}, nil)
}
