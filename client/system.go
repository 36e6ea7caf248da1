package client

import (
	"context"

	"github.com/berth-project/berth/api/types"
	"github.com/moby/moby/api/types/system"
)

// Version returns GET /version.
func (c *Client) Version(ctx context.Context) (system.VersionResponse, error) {
	var v system.VersionResponse
	err := c.getJSON(ctx, "/version", nil, &v)
	return v, err
}

// Info returns GET /info.
func (c *Client) Info(ctx context.Context) (system.Info, error) {
	var info system.Info
	err := c.getJSON(ctx, "/info", nil, &info)
	return info, err
}

// DiskUsage returns GET /system/df.
func (c *Client) DiskUsage(ctx context.Context) (types.DiskUsage, error) {
	var du types.DiskUsage
	err := c.getJSON(ctx, "/system/df", nil, &du)
	return du, err
}
