// Package system serves the daemon-wide endpoints: ping, version, info and disk usage.
package system

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types"
	"github.com/berth-project/berth/internal/registry"
)

// Backend is what the system routes need from the daemon.
type Backend interface {
	// ImageCount is the number of images in the store.
	ImageCount() (int, error)
	// SubscribeEvents returns past events since the given time and a channel of new ones.
	SubscribeEvents(since time.Time) ([]events.Message, <-chan events.Message, func())
	// ContainerCounts counts containers by state.
	ContainerCounts() (total, running, paused, stopped int)
	// ImageDiskUsage returns every image with its sizes and the total size of all layers.
	ImageDiskUsage(ctx context.Context) ([]image.Summary, int64, error)
	// Login checks credentials against a registry.
	Login(ctx context.Context, auth registry.AuthConfig) error
	// BuildCacheDiskUsage returns the build cache records.
	BuildCacheDiskUsage(ctx context.Context) ([]types.BuildCache, error)
	// VolumeDiskUsage returns every volume with its size and reference count.
	VolumeDiskUsage(ctx context.Context) ([]*volume.Volume, error)
}

// Config is the static part of /info.
type Config struct {
	ID              string
	DataRoot        string
	ExecRoot        string
	Debug           bool
	DefaultRuntime  string
	Runtimes        map[string]string // name -> path
	InsecureCIDRs   []string
	RegistryMirrors []string
	Labels          []string
}
