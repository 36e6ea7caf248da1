package client

import (
	"context"
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// ExecCreate sets up a command to run in a running container and returns the exec's ID.
func (c *Client) ExecCreate(ctx context.Context, containerID string, opts container.ExecCreateRequest) (container.ExecCreateResponse, error) {
	var out container.ExecCreateResponse
	if err := checkID(containerID); err != nil {
		return out, err
	}
	err := c.sendJSON(ctx, http.MethodPost, containerPath(containerID, "/exec"), nil, opts, &out)
	return out, err
}

// ExecStart starts an exec. Detached, the daemon runs it in the background and the returned
// response is empty; otherwise the connection is hijacked and carries the exec's streams (the
// caller closes it).
func (c *Client) ExecStart(ctx context.Context, execID string, opts container.ExecStartRequest) (HijackedResponse, error) {
	if execID == "" {
		return HijackedResponse{}, checkID(execID)
	}
	if opts.Detach {
		return HijackedResponse{}, c.sendJSON(ctx, http.MethodPost, "/exec/"+execID+"/start", nil, opts, nil)
	}
	return c.hijack(ctx, "/exec/"+execID+"/start", nil, opts)
}

// ExecInspect returns GET /exec/{id}/json: whether it runs and its exit code.
func (c *Client) ExecInspect(ctx context.Context, execID string) (container.ExecInspectResponse, error) {
	var out container.ExecInspectResponse
	if execID == "" {
		return out, checkID(execID)
	}
	err := c.getJSON(ctx, "/exec/"+execID+"/json", nil, &out)
	return out, err
}

// ExecResize sets the size of an exec's TTY.
func (c *Client) ExecResize(ctx context.Context, execID string, height, width uint) error {
	if execID == "" {
		return checkID(execID)
	}
	return c.sendJSON(ctx, http.MethodPost, "/exec/"+execID+"/resize", sizeQuery(height, width), nil, nil)
}
