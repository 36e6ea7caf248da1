// Package volume serves the /volumes endpoints, and berth's volume export and import under
// /berth/volumes.
package volume

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/filters"
	volumesvc "github.com/berth-project/berth/internal/volume"
)

// Backend is the volume service as these routes use it.
type Backend interface {
	Create(ctx context.Context, o volumesvc.CreateOptions) (*volume.Volume, error)
	Get(ctx context.Context, name string) (*volume.Volume, error)
	List(ctx context.Context, f filters.Args) ([]*volume.Volume, error)
	Remove(ctx context.Context, name string, force bool) error
	Prune(ctx context.Context, f filters.Args) (*volume.PruneReport, error)
	Export(ctx context.Context, name string, w io.Writer) error
	Import(ctx context.Context, name string, r io.Reader) error
}
