// Package image serves the /images endpoints.
package image

import (
	"context"
	apiregistry "github.com/moby/moby/api/types/registry"
	"io"

	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/api/filters"
	imagesvc "github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/registry"
)

// Backend is the image service as these routes use it.
type Backend interface {
	List(ctx context.Context, f filters.Args) ([]image.Summary, error)
	Inspect(ctx context.Context, name string) (*image.InspectResponse, error)
	History(ctx context.Context, name string) ([]image.HistoryResponseItem, error)
	Tag(ctx context.Context, source, repo, tag string) error
	Remove(ctx context.Context, name string, force bool) ([]image.DeleteResponse, error)
	Prune(ctx context.Context, f filters.Args) (*image.PruneReport, error)
	Load(ctx context.Context, r io.Reader, progress imagesvc.Progress) error
	Save(ctx context.Context, names []string, w io.Writer) error
	Import(ctx context.Context, r io.Reader, opts imagesvc.ImportOptions) (digest.Digest, error)
	Pull(ctx context.Context, image string, allTags bool, opts imagesvc.PullOptions, rep imagesvc.Reporter) error
	Push(ctx context.Context, image string, auth registry.AuthConfig, rep imagesvc.Reporter) error
	Distribution(ctx context.Context, image string, auth registry.AuthConfig) (apiregistry.DistributionInspect, error)
}
