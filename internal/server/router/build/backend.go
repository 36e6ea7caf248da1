// Package build serves the legacy builder endpoint POST /build, which streams docker's JSON build
// messages, and POST /build/prune.
package build

import (
	"context"
	"io"

	"github.com/berth-project/berth/api/types"
	buildsvc "github.com/berth-project/berth/internal/build"
)

// Backend is the build service as these routes use it.
type Backend interface {
	Build(ctx context.Context, body io.Reader, opts buildsvc.Options, rep buildsvc.Reporter) (*buildsvc.Result, error)
	Prune(ctx context.Context, opts buildsvc.PruneOptions) (*types.BuildCachePruneReport, error)
}
