package compose

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli/format"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// Recreate says when an existing container is replaced.
type Recreate int

// The recreate policies of up and create.
const (
	RecreateDiverged Recreate = iota // when its config hash or image changed
	RecreateForce                    // always (--force-recreate)
	RecreateNever                    // never (--no-recreate)
)

// CreateOptions drive create and the create phase of up.
type CreateOptions struct {
	Services      []string // the services to converge (and their dependencies); empty is all
	Recreate      Recreate
	RemoveOrphans bool
	Images        ImageOptions
	NoStart       bool
}

// UpOptions are CreateOptions plus the start phase.
type UpOptions struct {
	CreateOptions
	Wait        bool          // wait for running (and healthy, with a healthcheck) containers
	WaitTimeout time.Duration // 0 waits as long as it takes
}

// Up converges the project and starts it: networks and volumes first, then images, then every
// service once its dependencies meet their conditions; independent services in parallel.
func (e *Engine) Up(ctx context.Context, p *types.Project, o UpOptions) error {
	names, err := withDependencies(p, o.Services)
	if err != nil {
		return err
	}
	if err := e.prepare(ctx, p, names, o.CreateOptions); err != nil {
		return err
	}
	err = inDependencyOrder(ctx, dependencyGraph(p, names), false, func(ctx context.Context, name string) error {
		s := p.Services[name]
		if !o.NoStart {
			if err := e.waitDependencies(ctx, p, s); err != nil {
				return err
			}
		}
		ids, err := e.converge(ctx, p, s, o.Recreate)
		if err != nil || o.NoStart {
			return err
		}
		return e.startAll(ctx, ids)
	})
	if err != nil || !o.Wait {
		return err
	}
	wctx := ctx
	if o.WaitTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, o.WaitTimeout)
		defer cancel()
	}
	return e.waitReady(wctx, p, names)
}

// prepare makes what containers need: networks, volumes, images; and deals with orphans.
func (e *Engine) prepare(ctx context.Context, p *types.Project, names []string, o CreateOptions) error {
	if err := e.handleOrphans(ctx, p, o.RemoveOrphans); err != nil {
		return err
	}
	if err := e.ensureNetworks(ctx, p); err != nil {
		return err
	}
	if err := e.ensureVolumes(ctx, p); err != nil {
		return err
	}
	return e.ensureImages(ctx, p, names, o.Images)
}

// withDependencies is names (all services when empty) with everything they depend on.
func withDependencies(p *types.Project, names []string) ([]string, error) {
	if len(names) == 0 {
		return p.ServiceNames(), nil
	}
	seen := map[string]bool{}
	var out []string
	var add func(n string) error
	add = func(n string) error {
		if seen[n] {
			return nil
		}
		s, ok := p.Services[n]
		if !ok {
			return errdefs.NotFoundf("no such service: %s", n)
		}
		seen[n] = true
		for dep := range s.DependsOn {
			if err := add(dep); err != nil {
				return err
			}
		}
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// handleOrphans removes (or warns about) the project's containers of services the file no
// longer has.
func (e *Engine) handleOrphans(ctx context.Context, p *types.Project, remove bool) error {
	list, err := e.Containers(ctx, p.Name, true, OneoffExclude)
	if err != nil {
		return err
	}
	var orphans []container.Summary
	for _, c := range list {
		s := c.Labels[LabelService]
		if _, ok := p.Services[s]; !ok {
			if _, disabled := p.DisabledServices[s]; !disabled {
				orphans = append(orphans, c)
			}
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	if !remove {
		e.event("WARN", "", fmt.Sprintf("Found orphan containers (%d) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.", len(orphans)))
		return nil
	}
	for _, c := range orphans {
		if err := e.removeContainer(ctx, c, true, false); err != nil {
			return err
		}
	}
	return nil
}

// converge makes the service's containers match its config and scale and returns their IDs,
// in number order: surplus replicas are removed, diverged ones recreated, missing ones created.
func (e *Engine) converge(ctx context.Context, p *types.Project, s types.ServiceConfig, policy Recreate) ([]string, error) {
	hash, err := ConfigHash(s)
	if err != nil {
		return nil, err
	}
	existing, err := e.Containers(ctx, p.Name, true, OneoffExclude, s.Name)
	if err != nil {
		return nil, err
	}
	imageID := ""
	if img, _, err := e.API.ImageInspect(ctx, ImageName(p.Name, s)); err == nil {
		imageID = img.ID
	}
	scale := s.GetScale()
	byNumber := map[int]container.Summary{}
	for _, c := range existing {
		n, err := strconv.Atoi(c.Labels[LabelNumber])
		if _, dup := byNumber[n]; err != nil || n < 1 || n > scale || dup {
			if err := e.removeContainer(ctx, c, true, false); err != nil {
				return nil, err
			}
			continue
		}
		byNumber[n] = c
	}
	var ids []string
	for n := 1; n <= scale; n++ {
		c, ok := byNumber[n]
		if ok {
			diverged := c.Labels[LabelConfigHash] != hash || (imageID != "" && c.ImageID != imageID)
			if policy == RecreateNever || (policy == RecreateDiverged && !diverged) {
				e.event("Container", Name(c), "Running")
				ids = append(ids, c.ID)
				continue
			}
			e.event("Container", Name(c), "Recreate")
			if err := e.removeContainer(ctx, c, true, false); err != nil {
				return nil, err
			}
		}
		id, err := e.createContainer(ctx, p, s, n, hash)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// createContainer creates replica n of s.
func (e *Engine) createContainer(ctx context.Context, p *types.Project, s types.ServiceConfig, n int, hash string) (string, error) {
	if s.ContainerName != "" && s.GetScale() > 1 {
		return "", fmt.Errorf("service %q: container_name %q allows a single container, scale is %d", s.Name, s.ContainerName, s.GetScale())
	}
	name := ContainerName(p.Name, s, n)
	return e.create(ctx, p, s, name, ContainerLabels(p, s, n, false, hash, e.Version))
}

func (e *Engine) create(ctx context.Context, p *types.Project, s types.ServiceConfig, name string, labels map[string]string) (string, error) {
	req, err := containerRequest(p, s, name, labels)
	if err != nil {
		return "", err
	}
	resp, err := e.API.ContainerCreate(ctx, req.config, req.hostConfig, req.networking, nil, req.name)
	if err != nil {
		return "", fmt.Errorf("creating container %s: %w", name, err)
	}
	e.event("Container", name, "Created")
	return resp.ID, nil
}

// startAll starts the given containers, those already running included.
func (e *Engine) startAll(ctx context.Context, ids []string) error {
	for _, id := range ids {
		ctr, _, err := e.API.ContainerInspect(ctx, id, false)
		if err != nil {
			return err
		}
		if ctr.State != nil && ctr.State.Running {
			continue
		}
		if err := e.API.ContainerStart(ctx, id, client.StartOptions{}); err != nil {
			return fmt.Errorf("starting container %s: %w", trimSlash(ctr.Name), err)
		}
		e.event("Container", trimSlash(ctr.Name), "Started")
	}
	return nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// waitDependencies blocks until every dependency of s meets its condition.
func (e *Engine) waitDependencies(ctx context.Context, p *types.Project, s types.ServiceConfig) error {
	for _, dep := range format.SortedKeys(s.DependsOn) {
		cond := s.DependsOn[dep].Condition
		if cond == "" || cond == types.ServiceConditionStarted {
			continue
		}
		list, err := e.Containers(ctx, p.Name, true, OneoffExclude, dep)
		if err != nil {
			return err
		}
		for _, c := range list {
			if err := e.waitCondition(ctx, c.ID, Name(c), cond); err != nil {
				if !s.DependsOn[dep].Required {
					e.event("WARN", "", fmt.Sprintf("optional dependency %q failed: %v", dep, err))
					continue
				}
				return err
			}
		}
	}
	return nil
}

// waitCondition polls container id until cond holds (healthy, or exited with 0).
func (e *Engine) waitCondition(ctx context.Context, id, name, cond string) error {
	if cond == types.ServiceConditionHealthy {
		e.event("Container", name, "Waiting")
	}
	for {
		ctr, _, err := e.API.ContainerInspect(ctx, id, false)
		if err != nil {
			return err
		}
		st := ctr.State
		switch cond {
		case types.ServiceConditionHealthy:
			if st.Health == nil {
				return fmt.Errorf("container %s has no healthcheck configured", name)
			}
			switch st.Health.Status {
			case container.Healthy:
				e.event("Container", name, "Healthy")
				return nil
			case container.Unhealthy:
				return fmt.Errorf("dependency failed to start: container %s is unhealthy", name)
			}
			if !st.Running && !st.Restarting {
				return fmt.Errorf("dependency failed to start: container %s exited (%d)", name, st.ExitCode)
			}
		case types.ServiceConditionCompletedSuccessfully:
			if !st.Running && !st.Restarting && st.Status != container.StateCreated {
				if st.ExitCode != 0 {
					return fmt.Errorf("dependency failed to start: container %s didn't complete successfully: exit %d", name, st.ExitCode)
				}
				e.event("Container", name, "Exited")
				return nil
			}
		case "running":
			if st.Running && (st.Health == nil || st.Health.Status == container.Healthy) {
				e.event("Container", name, "Healthy")
				return nil
			}
			if st.Health != nil && st.Health.Status == container.Unhealthy {
				return fmt.Errorf("container %s is unhealthy", name)
			}
			if !st.Running && !st.Restarting {
				return fmt.Errorf("container %s exited (%d)", name, st.ExitCode)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s: %w", name, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitReady is up --wait: every container of names running, and healthy when it has a check.
func (e *Engine) waitReady(ctx context.Context, p *types.Project, names []string) error {
	list, err := e.Containers(ctx, p.Name, true, OneoffExclude, names...)
	if err != nil {
		return err
	}
	for _, c := range list {
		if err := e.waitCondition(ctx, c.ID, Name(c), "running"); err != nil {
			return err
		}
	}
	return nil
}
