package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/system"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/api/types"
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

// EventsOptions select the events of GET /events: since and until as the CLI takes them
// (timestamps or durations before now), and filters.
type EventsOptions struct {
	Since, Until string
	Filters      filters.Args
}

// Events streams GET /events, calling fn with each message until the stream ends (with until),
// fn fails or ctx is done.
func (c *Client) Events(ctx context.Context, opts EventsOptions, fn func(events.Message) error) error {
	q := url.Values{}
	now := time.Now()
	for name, v := range map[string]string{"since": opts.Since, "until": opts.Until} {
		if v == "" {
			continue
		}
		ts, err := Timestamp(v, now)
		if err != nil {
			return err // docker's CLI words it without naming the flag
		}
		q.Set(name, ts)
	}
	if enc := opts.Filters.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/events", query: q})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m events.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}
