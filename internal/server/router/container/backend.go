// Package container serves the /containers and /exec endpoints.
package container

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	containersvc "github.com/berth-project/berth/internal/container"
)

// Backend is the container service as these routes use it.
type Backend interface {
	Create(ctx context.Context, name string, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) (string, []string, error)
	Start(ctx context.Context, ref string) error
	Stop(ctx context.Context, ref string, timeout *int, signal string) error
	Restart(ctx context.Context, ref string, timeout *int, signal string) error
	Kill(ctx context.Context, ref, signal string) error
	Remove(ctx context.Context, ref string, force, removeVolumes bool) error
	Wait(ctx context.Context, ref, condition string) (<-chan containersvc.WaitResult, error)
	List(ctx context.Context, all bool, limit int, f filters.Args) ([]container.Summary, error)
	Inspect(ctx context.Context, ref string) (*container.InspectResponse, error)
	Logs(ctx context.Context, ref string, opts containersvc.LogOptions, w io.Writer) error
	Attach(ctx context.Context, ref string, opts containersvc.AttachOptions, open func() (io.ReadWriter, error)) error
	Resize(ctx context.Context, ref string, height, width uint) error
	ExecCreate(ctx context.Context, ref string, req container.ExecCreateRequest) (string, error)
	ExecStart(ctx context.Context, execID string, conn io.ReadWriter, detach bool) error
	ExecInspect(ctx context.Context, execID string) (*container.ExecInspectResponse, error)
	ExecResize(ctx context.Context, execID string, height, width uint) error
	IsTTY(ref string) (bool, error)
	ExecIsTTY(execID string) (bool, error)
	Top(ctx context.Context, ref, psArgs string) (*container.TopResponse, error)
	Pause(ctx context.Context, ref string) error
	Unpause(ctx context.Context, ref string) error
	Rename(ctx context.Context, ref, newName string) error
	Update(ctx context.Context, ref string, u container.UpdateConfig) ([]string, error)
	Prune(ctx context.Context, f filters.Args) (*container.PruneReport, error)
	StatPath(ctx context.Context, ref, path string) (*container.PathStat, error)
	ArchivePath(ctx context.Context, ref, path string, start func(*container.PathStat) io.Writer) error
	ExtractToDir(ctx context.Context, ref, path string, noOverwriteDirNonDir bool, r io.Reader) error
	Changes(ctx context.Context, ref string) ([]container.FilesystemChange, error)
	Export(ctx context.Context, ref string, w io.Writer) error
	Commit(ctx context.Context, ref string, opts containersvc.CommitOptions) (digest.Digest, error)
	Stats(ctx context.Context, ref string, opts containersvc.StatsOptions, send func(*container.StatsResponse) error) error
}
