package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerPath is /containers/{id} followed by suffix.
func containerPath(id, suffix string) string { return "/containers/" + id + suffix }

// errEmptyID is returned by the container calls given no container.
func checkID(id string) error {
	if id == "" {
		return errdefs.InvalidArgumentf("container name or ID must not be empty")
	}
	return nil
}

// post sends a POST without body and discards the reply. A 304 (already in the wanted state)
// counts as success, as it does for docker's client.
func (c *Client) post(ctx context.Context, path string, query url.Values) error {
	err := c.sendJSON(ctx, http.MethodPost, path, query, nil, nil)
	if errdefs.ClassOf(err) == errdefs.NotModified {
		return nil
	}
	return err
}

// ContainerCreate creates a container (POST /containers/create). platform and name are optional.
func (c *Client) ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig,
	networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error) {
	var out container.CreateResponse
	if config == nil {
		config = &container.Config{}
	}
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if p := FormatPlatform(platform); p != "" {
		q.Set("platform", p)
	}
	body := container.CreateRequest{Config: config, HostConfig: hostConfig, NetworkingConfig: networkingConfig}
	err := c.sendJSON(ctx, http.MethodPost, "/containers/create", q, body, &out)
	return out, err
}

// FormatPlatform is os[/arch[/variant]], or "" for nil or an empty platform.
func FormatPlatform(p *ocispec.Platform) string {
	if p == nil || p.OS == "" {
		return ""
	}
	s := p.OS
	if p.Architecture != "" {
		s += "/" + p.Architecture
		if p.Variant != "" {
			s += "/" + p.Variant
		}
	}
	return s
}

// StartOptions are the options of ContainerStart.
type StartOptions struct {
	CheckpointID  string
	CheckpointDir string
}

// ContainerStart starts a container; starting a running container succeeds.
func (c *Client) ContainerStart(ctx context.Context, id string, opts StartOptions) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := url.Values{}
	if opts.CheckpointID != "" {
		q.Set("checkpoint", opts.CheckpointID)
	}
	if opts.CheckpointDir != "" {
		q.Set("checkpoint-dir", opts.CheckpointDir)
	}
	return c.post(ctx, containerPath(id, "/start"), q)
}

// StopOptions are the options of ContainerStop and ContainerRestart.
type StopOptions struct {
	// Signal to send first; "" lets the daemon use the container's stop signal.
	Signal string
	// Timeout in seconds before the daemon kills the container; nil uses the container's
	// default, -1 waits forever.
	Timeout *int
}

func (o StopOptions) query(c *Client) url.Values {
	q := url.Values{}
	if o.Timeout != nil {
		q.Set("t", strconv.Itoa(*o.Timeout))
	}
	if o.Signal != "" && CompareVersions(c.ClientVersion(), "1.42") >= 0 {
		q.Set("signal", o.Signal)
	}
	return q
}

// ContainerStop stops a container; stopping a stopped container succeeds.
func (c *Client) ContainerStop(ctx context.Context, id string, opts StopOptions) error {
	if err := checkID(id); err != nil {
		return err
	}
	if _, err := c.negotiate(ctx); err != nil {
		return err
	}
	return c.post(ctx, containerPath(id, "/stop"), opts.query(c))
}

// ContainerRestart stops (as ContainerStop) and starts a container.
func (c *Client) ContainerRestart(ctx context.Context, id string, opts StopOptions) error {
	if err := checkID(id); err != nil {
		return err
	}
	if _, err := c.negotiate(ctx); err != nil {
		return err
	}
	return c.post(ctx, containerPath(id, "/restart"), opts.query(c))
}

// ContainerKill sends signal ("" means SIGKILL) to the container's main process.
func (c *Client) ContainerKill(ctx context.Context, id, signal string) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := url.Values{}
	if signal != "" {
		q.Set("signal", signal)
	}
	return c.sendJSON(ctx, http.MethodPost, containerPath(id, "/kill"), q, nil, nil)
}

// RemoveOptions are the options of ContainerRemove.
type RemoveOptions struct {
	Force         bool // kill a running container first
	RemoveVolumes bool // remove its anonymous volumes
	RemoveLinks   bool // remove the link named id instead of a container
}

// ContainerRemove removes a container (DELETE /containers/{id}).
func (c *Client) ContainerRemove(ctx context.Context, id string, opts RemoveOptions) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := url.Values{}
	if opts.RemoveVolumes {
		q.Set("v", "1")
	}
	if opts.RemoveLinks {
		q.Set("link", "1")
	}
	if opts.Force {
		q.Set("force", "1")
	}
	return c.sendJSON(ctx, http.MethodDelete, containerPath(id, ""), q, nil, nil)
}

// ListOptions are the options of ContainerList.
type ListOptions struct {
	All     bool // include stopped containers
	Limit   int  // the n most recently created containers (of all states); <= 0 means no limit
	Size    bool // compute SizeRw and SizeRootFs
	Filters filters.Args
}

// ContainerList returns GET /containers/json.
func (c *Client) ContainerList(ctx context.Context, opts ListOptions) ([]container.Summary, error) {
	q := url.Values{}
	if opts.All {
		q.Set("all", "1")
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Size {
		q.Set("size", "1")
	}
	if enc := opts.Filters.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var list []container.Summary
	err := c.getJSON(ctx, "/containers/json", q, &list)
	return list, err
}

// ContainerInspect returns GET /containers/{id}/json decoded and as the raw bytes the daemon
// sent; size asks for SizeRw and SizeRootFs.
func (c *Client) ContainerInspect(ctx context.Context, id string, size bool) (container.InspectResponse, []byte, error) {
	var out container.InspectResponse
	if err := checkID(id); err != nil {
		return out, nil, err
	}
	q := url.Values{}
	if size {
		q.Set("size", "1")
	}
	raw, err := c.getJSONRaw(ctx, containerPath(id, "/json"), q, &out)
	return out, raw, err
}

// LogsOptions are the options of ContainerLogs.
type LogsOptions struct {
	ShowStdout bool
	ShowStderr bool
	Since      string // timestamp, unix time or duration ("42m") before now
	Until      string // same forms as Since
	Timestamps bool
	Follow     bool
	Tail       string // number of lines from the end, or "all"
	Details    bool
}

// ContainerLogs returns the log stream of a container: stdcopy frames unless the container
// has a TTY. The caller closes it.
func (c *Client) ContainerLogs(ctx context.Context, id string, opts LogsOptions) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts.ShowStdout {
		q.Set("stdout", "1")
	}
	if opts.ShowStderr {
		q.Set("stderr", "1")
	}
	now := time.Now()
	if opts.Since != "" {
		ts, err := Timestamp(opts.Since, now)
		if err != nil {
			return nil, fmt.Errorf(`invalid value for "since": %w`, err)
		}
		q.Set("since", ts)
	}
	if opts.Until != "" {
		ts, err := Timestamp(opts.Until, now)
		if err != nil {
			return nil, fmt.Errorf(`invalid value for "until": %w`, err)
		}
		q.Set("until", ts)
	}
	if opts.Timestamps {
		q.Set("timestamps", "1")
	}
	if opts.Details {
		q.Set("details", "1")
	}
	if opts.Follow {
		q.Set("follow", "1")
	}
	if opts.Tail != "" {
		q.Set("tail", opts.Tail)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: containerPath(id, "/logs"), query: q})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// waitRegisterGrace bounds how long ContainerWait waits for the daemon to acknowledge the wait
// (by sending the response headers) before it returns anyway.
const waitRegisterGrace = 2 * time.Second

// ContainerWait waits for the container to reach condition ("" means not-running). The request
// is sent before ContainerWait returns: once the daemon has sent the response headers the wait
// is registered, so a start that follows cannot be missed. Exactly one of the channels then
// delivers: the wait result (whose Error may be set) or the error of the request.
func (c *Client) ContainerWait(ctx context.Context, id string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error) {
	resultC := make(chan container.WaitResponse, 1)
	errC := make(chan error, 1)
	if err := checkID(id); err != nil {
		errC <- err
		return resultC, errC
	}
	q := url.Values{}
	if _, err := c.negotiate(ctx); err != nil {
		errC <- err
		return resultC, errC
	}
	if condition != "" && CompareVersions(c.ClientVersion(), "1.30") >= 0 {
		q.Set("condition", string(condition))
	}
	registered := make(chan struct{})
	go func() {
		resp, err := c.do(ctx, request{method: http.MethodPost, path: containerPath(id, "/wait"), query: q})
		close(registered)
		if err != nil {
			errC <- err
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			}
			errC <- err
			return
		}
		var res container.WaitResponse
		if err := json.Unmarshal(bytes.TrimSpace(raw), &res); err != nil {
			errC <- fmt.Errorf("error decoding daemon response: %w", err)
			return
		}
		resultC <- res
	}()
	timer := time.NewTimer(waitRegisterGrace)
	defer timer.Stop()
	select {
	case <-registered:
	case <-timer.C:
	case <-ctx.Done():
	}
	return resultC, errC
}

// ContainerResize sets the size of the container's TTY.
func (c *Client) ContainerResize(ctx context.Context, id string, height, width uint) error {
	if err := checkID(id); err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, containerPath(id, "/resize"), sizeQuery(height, width), nil, nil)
}

func sizeQuery(height, width uint) url.Values {
	q := url.Values{}
	q.Set("h", strconv.FormatUint(uint64(height), 10))
	q.Set("w", strconv.FormatUint(uint64(width), 10))
	return q
}

// ContainerTop lists the container's processes; psArgs are the arguments of ps ("" for -ef).
func (c *Client) ContainerTop(ctx context.Context, id, psArgs string) (container.TopResponse, error) {
	var out container.TopResponse
	if err := checkID(id); err != nil {
		return out, err
	}
	q := url.Values{}
	if psArgs != "" {
		q.Set("ps_args", psArgs)
	}
	err := c.getJSON(ctx, containerPath(id, "/top"), q, &out)
	return out, err
}

// ContainerRename gives a container a new name.
func (c *Client) ContainerRename(ctx context.Context, id, newName string) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := url.Values{}
	q.Set("name", newName)
	return c.sendJSON(ctx, http.MethodPost, containerPath(id, "/rename"), q, nil, nil)
}

// ContainerPause freezes all processes of a container.
func (c *Client) ContainerPause(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, containerPath(id, "/pause"), nil, nil, nil)
}

// ContainerUnpause thaws a paused container.
func (c *Client) ContainerUnpause(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return c.sendJSON(ctx, http.MethodPost, containerPath(id, "/unpause"), nil, nil, nil)
}

// ContainersPrune removes stopped containers matching f.
func (c *Client) ContainersPrune(ctx context.Context, f filters.Args) (container.PruneReport, error) {
	q := url.Values{}
	if enc := f.Encode(); enc != "" {
		q.Set("filters", enc)
	}
	var report container.PruneReport
	err := c.sendJSON(ctx, http.MethodPost, "/containers/prune", q, nil, &report)
	return report, err
}

// ContainerUpdate changes a container's resources and restart policy.
func (c *Client) ContainerUpdate(ctx context.Context, id string, update container.UpdateConfig) (container.UpdateResponse, error) {
	var out container.UpdateResponse
	if err := checkID(id); err != nil {
		return out, err
	}
	err := c.sendJSON(ctx, http.MethodPost, containerPath(id, "/update"), nil, update, &out)
	return out, err
}

// ContainerDiff lists the changes to the container's filesystem.
func (c *Client) ContainerDiff(ctx context.Context, id string) ([]container.FilesystemChange, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var out []container.FilesystemChange
	err := c.getJSON(ctx, containerPath(id, "/changes"), nil, &out)
	return out, err
}

// ContainerExport returns a tar archive of the container's filesystem; the caller closes it.
func (c *Client) ContainerExport(ctx context.Context, id string) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: containerPath(id, "/export")})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// CommitOptions are the options of ContainerCommit.
type CommitOptions struct {
	Reference string   // repository[:tag] of the new image; "" leaves it untagged
	Comment   string   // commit message
	Author    string   // author
	Changes   []string // Dockerfile instructions applied to the image config
	Pause     bool     // pause the container during the commit
	Config    *container.Config
}

// ContainerCommit creates an image from a container's changes (POST /commit).
func (c *Client) ContainerCommit(ctx context.Context, id string, opts CommitOptions) (common.IDResponse, error) {
	var out common.IDResponse
	if err := checkID(id); err != nil {
		return out, err
	}
	q := url.Values{}
	q.Set("container", id)
	if opts.Reference != "" {
		ref, err := reference.ParseNormalizedNamed(opts.Reference)
		if err != nil {
			return out, err
		}
		if _, ok := ref.(reference.Canonical); ok {
			return out, errors.New("refusing to create a tag with a digest reference")
		}
		ref = reference.TagNameOnly(ref)
		q.Set("repo", reference.FamiliarName(ref))
		if tagged, ok := ref.(reference.Tagged); ok {
			q.Set("tag", tagged.Tag())
		}
	}
	if opts.Comment != "" {
		q.Set("comment", opts.Comment)
	}
	if opts.Author != "" {
		q.Set("author", opts.Author)
	}
	for _, ch := range opts.Changes {
		q.Add("changes", ch)
	}
	if !opts.Pause {
		q.Set("pause", "0")
	}
	var body any
	if opts.Config != nil {
		body = opts.Config
	}
	err := c.sendJSON(ctx, http.MethodPost, "/commit", q, body, &out)
	return out, err
}

// StatsResponse is the stats stream of a container: one JSON object per sample. The caller
// closes Body.
type StatsResponse struct {
	Body   io.ReadCloser
	OSType string
}

// ContainerStats returns the container's resource usage: a sample every second with stream,
// else a single sample (for which the daemon takes two readings so CPU usage can be computed).
func (c *Client) ContainerStats(ctx context.Context, id string, stream bool) (StatsResponse, error) {
	if err := checkID(id); err != nil {
		return StatsResponse{}, err
	}
	q := url.Values{}
	q.Set("stream", "0")
	if stream {
		q.Set("stream", "1")
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: containerPath(id, "/stats"), query: q})
	if err != nil {
		return StatsResponse{}, err
	}
	return StatsResponse{Body: resp.Body, OSType: resp.Header.Get("OSType")}, nil
}
