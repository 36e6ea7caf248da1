package compose

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli/progress"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
)

// ImageOptions say how up and create get the images they need.
type ImageOptions struct {
	Build   bool   // --build: build every service with a build section first
	NoBuild bool   // --no-build: never build; a missing image is an error
	Pull    string // --pull: "always", "missing" (default), "never"
}

// ensureImages builds or pulls the images of names that are missing (or all, as asked).
func (e *Engine) ensureImages(ctx context.Context, p *types.Project, names []string, o ImageOptions) error {
	for _, n := range names {
		s := p.Services[n]
		image := ImageName(p.Name, s)
		policy := s.PullPolicy
		if o.Pull != "" {
			policy = o.Pull
		}
		_, _, err := e.API.ImageInspect(ctx, image)
		present := err == nil
		if err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		switch {
		case s.Build != nil && !o.NoBuild && (o.Build || policy == types.PullPolicyBuild || !present):
			if err := e.buildService(ctx, p, s, BuildOptions{}); err != nil {
				return err
			}
		case s.Build != nil && o.NoBuild && !present:
			return fmt.Errorf("service %q has neither an image nor a build context specified: image %s is missing and --no-build was given", n, image)
		case s.Build == nil && (policy == types.PullPolicyAlways || (!present && policy != types.PullPolicyNever)):
			if err := e.pull(ctx, image); err != nil {
				return fmt.Errorf("service %q: pulling %s: %w", n, image, err)
			}
		case !present && s.Build == nil:
			return fmt.Errorf("service %q: image %s is missing and pull_policy is never", n, image)
		}
	}
	return nil
}

// pull pulls one image and drains the daemon's progress stream.
func (e *Engine) pull(ctx context.Context, image string) error {
	e.event("Image", image, "Pulling")
	r, err := e.API.ImagePull(ctx, image, client.PullOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	if err := progress.Display(r, io.Discard, false, 0, nil); err != nil {
		return err
	}
	e.event("Image", image, "Pulled")
	return nil
}

// Pull pulls the images of services with an image: (all services when none are named).
func (e *Engine) Pull(ctx context.Context, p *types.Project, services []string, ignoreFailures bool) error {
	names, err := serviceNames(p, services)
	if err != nil {
		return err
	}
	for _, n := range names {
		s := p.Services[n]
		if s.Image == "" {
			continue
		}
		if err := e.pull(ctx, s.Image); err != nil && !ignoreFailures {
			return fmt.Errorf("service %q: %w", n, err)
		}
	}
	return nil
}

// Push pushes the images of services with both image: and build:.
func (e *Engine) Push(ctx context.Context, p *types.Project, services []string, registryAuth func(image string) string) error {
	names, err := serviceNames(p, services)
	if err != nil {
		return err
	}
	for _, n := range names {
		s := p.Services[n]
		if s.Image == "" || s.Build == nil {
			continue
		}
		e.event("Image", s.Image, "Pushing")
		r, err := e.API.ImagePush(ctx, s.Image, registryAuth(s.Image))
		if err != nil {
			return err
		}
		err = progress.Display(r, io.Discard, false, 0, nil)
		r.Close()
		if err != nil {
			return fmt.Errorf("service %q: pushing %s: %w", n, s.Image, err)
		}
		e.event("Image", s.Image, "Pushed")
	}
	return nil
}

// removeImages is down --rmi: "local" removes the images built without an image: name,
// "all" every service image.
func (e *Engine) removeImages(ctx context.Context, p *types.Project, which string) error {
	if which != "all" && which != "local" {
		return fmt.Errorf("invalid --rmi value %q: use \"local\" or \"all\"", which)
	}
	seen := map[string]bool{}
	for _, n := range p.ServiceNames() {
		s := p.Services[n]
		image := ImageName(p.Name, s)
		if seen[image] || (which == "local" && s.Image != "") {
			continue
		}
		seen[image] = true
		if _, err := e.API.ImageRemove(ctx, image, false, false); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("removing image %s: %w", image, err)
		}
		e.event("Image", image, "Removed")
	}
	return nil
}
