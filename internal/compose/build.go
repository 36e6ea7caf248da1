package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/compose-spec/compose-go/v2/types"
)

// BuildOptions are the flags of compose build.
type BuildOptions struct {
	NoCache bool
	Pull    bool
	Args    map[string]*string // --build-arg, over the file's args
	Output  io.Writer          // build output; nil discards it
}

// Build builds the services with a build section (all when none are named).
func (e *Engine) Build(ctx context.Context, p *types.Project, services []string, o BuildOptions) error {
	names, err := serviceNames(p, services)
	if err != nil {
		return err
	}
	for _, n := range names {
		if s := p.Services[n]; s.Build != nil {
			if err := e.buildService(ctx, p, s, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildService sends the service's context to the daemon's builder and tags the result with
// the service's image name (and build.tags).
func (e *Engine) buildService(ctx context.Context, p *types.Project, s types.ServiceConfig, o BuildOptions) error {
	b := s.Build
	image := ImageName(p.Name, s)
	e.event("Image", image, "Building")
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = v
	}
	for k, v := range o.Args {
		args[k] = v
	}
	labels := map[string]string{LabelProject: p.Name, LabelService: s.Name, LabelVersion: e.Version}
	for k, v := range b.Labels {
		labels[k] = v
	}
	dockerfile := b.Dockerfile
	if dockerfile != "" && !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(b.Context, dockerfile)
	}
	body, dockerfile, err := e.BuildContext(b.Context, dockerfile)
	if err != nil {
		return fmt.Errorf("service %q: build: %w", s.Name, err)
	}
	q, err := buildQuery(append([]string{image}, b.Tags...), dockerfile, b.Target, args, labels, b.NoCache || o.NoCache, b.Pull || o.Pull)
	if err != nil {
		return err
	}
	r, err := e.API.ImageBuildQuery(ctx, body, q)
	if err != nil {
		return fmt.Errorf("service %q: build: %w", s.Name, err)
	}
	defer r.Close()
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	if err := progress.Display(r, out, false, 0, nil); err != nil {
		return fmt.Errorf("service %q: build: %w", s.Name, err)
	}
	e.event("Image", image, "Built")
	return nil
}

// buildQuery is POST /build's query in docker's parameter names.
func buildQuery(tags []string, dockerfile, target string, args map[string]*string, labels map[string]string, noCache, pull bool) (url.Values, error) {
	q := url.Values{}
	for _, t := range tags {
		q.Add("t", t)
	}
	q.Set("dockerfile", dockerfile)
	if target != "" {
		q.Set("target", target)
	}
	if noCache {
		q.Set("nocache", "1")
	}
	if pull {
		q.Set("pull", "1")
	}
	q.Set("rm", "1")
	for name, v := range map[string]any{"buildargs": args, "labels": labels} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		q.Set(name, string(b))
	}
	return q, nil
}
