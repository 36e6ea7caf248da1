package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/moby/moby/api/types/container"
)

// PathStatHeader carries the stat of a container path, base64-encoded JSON, on the replies of
// HEAD and GET /containers/{id}/archive.
const PathStatHeader = "X-Docker-Container-Path-Stat"

func archiveQuery(path string) url.Values {
	q := url.Values{}
	q.Set("path", path)
	return q
}

// ContainerStatPath describes a path inside a container (HEAD /containers/{id}/archive).
func (c *Client) ContainerStatPath(ctx context.Context, id, path string) (container.PathStat, error) {
	if err := checkID(id); err != nil {
		return container.PathStat{}, err
	}
	resp, err := c.do(ctx, request{method: http.MethodHead, path: containerPath(id, "/archive"), query: archiveQuery(path)})
	if err != nil {
		return container.PathStat{}, err
	}
	resp.Body.Close()
	return decodePathStat(resp.Header)
}

// CopyFromContainer returns a tar archive of path inside the container, and its stat; the caller
// closes the archive.
func (c *Client) CopyFromContainer(ctx context.Context, id, path string) (io.ReadCloser, container.PathStat, error) {
	if err := checkID(id); err != nil {
		return nil, container.PathStat{}, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: containerPath(id, "/archive"), query: archiveQuery(path)})
	if err != nil {
		return nil, container.PathStat{}, err
	}
	stat, err := decodePathStat(resp.Header)
	if err != nil {
		resp.Body.Close()
		return nil, stat, err
	}
	return resp.Body, stat, nil
}

// CopyToContainerOptions are the options of CopyToContainer.
type CopyToContainerOptions struct {
	// AllowOverwriteDirWithFile lets a file of the archive replace a directory (and the reverse).
	AllowOverwriteDirWithFile bool
	// CopyUIDGID keeps the owners recorded in the archive.
	CopyUIDGID bool
}

// CopyToContainer extracts the tar archive content into the directory dstPath of the container.
func (c *Client) CopyToContainer(ctx context.Context, id, dstPath string, content io.Reader, opts CopyToContainerOptions) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := archiveQuery(dstPath)
	if !opts.AllowOverwriteDirWithFile {
		q.Set("noOverwriteDirNonDir", "true")
	}
	if opts.CopyUIDGID {
		q.Set("copyUIDGID", "true")
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, path: containerPath(id, "/archive"), query: q,
		body: content, contentType: "application/x-tar"})
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func decodePathStat(h http.Header) (container.PathStat, error) {
	var stat container.PathStat
	enc := h.Get(PathStatHeader)
	if enc == "" {
		return stat, nil
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		// Some daemons send the URL-safe or unpadded alphabet.
		if raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "=")); err != nil {
			return stat, fmt.Errorf("unable to decode container path stat header: %w", err)
		}
	}
	if err := json.Unmarshal(raw, &stat); err != nil {
		return stat, fmt.Errorf("unable to decode container path stat header: %w", err)
	}
	return stat, nil
}
