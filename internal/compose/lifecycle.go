package compose

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// eachContainer runs fn on the containers of the services (all when none), service by service
// in dependency order (reverse: dependents first), containers of one service in parallel.
func (e *Engine) eachContainer(ctx context.Context, p *types.Project, services []string, all, reverse bool, fn func(context.Context, container.Summary) error) error {
	names, err := serviceNames(p, services)
	if err != nil {
		return err
	}
	list, err := e.Containers(ctx, p.Name, all, OneoffExclude, services...)
	if err != nil {
		return err
	}
	groups := byService(list)
	// Services known only from labels (no file, or removed from it) join the graph unordered.
	for s := range groups {
		if _, ok := p.Services[s]; !ok {
			names = append(names, s)
		}
	}
	return inDependencyOrder(ctx, dependencyGraph(p, names), reverse, func(ctx context.Context, s string) error {
		errs := make(chan error, len(groups[s]))
		for _, c := range groups[s] {
			go func() { errs <- fn(ctx, c) }()
		}
		var first error
		for range groups[s] {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// Start starts the existing containers of services (all when none), dependencies first.
func (e *Engine) Start(ctx context.Context, p *types.Project, services []string) error {
	return e.eachContainer(ctx, p, services, true, false, func(ctx context.Context, c container.Summary) error {
		if c.State == container.StateRunning {
			return nil
		}
		if err := e.API.ContainerStart(ctx, c.ID, client.StartOptions{}); err != nil {
			return fmt.Errorf("starting container %s: %w", Name(c), err)
		}
		e.event("Container", Name(c), "Started")
		return nil
	})
}

// Stop stops the running containers, dependents first; timeout nil uses each container's own.
func (e *Engine) Stop(ctx context.Context, p *types.Project, services []string, timeout *int) error {
	return e.eachContainer(ctx, p, services, false, true, func(ctx context.Context, c container.Summary) error {
		return e.stopContainer(ctx, c, timeout)
	})
}

func (e *Engine) stopContainer(ctx context.Context, c container.Summary, timeout *int) error {
	if err := e.API.ContainerStop(ctx, c.ID, client.StopOptions{Timeout: timeout}); err != nil {
		return fmt.Errorf("stopping container %s: %w", Name(c), err)
	}
	e.event("Container", Name(c), "Stopped")
	return nil
}

// Restart restarts the containers of services, dependencies first.
func (e *Engine) Restart(ctx context.Context, p *types.Project, services []string, timeout *int) error {
	return e.eachContainer(ctx, p, services, true, false, func(ctx context.Context, c container.Summary) error {
		if err := e.API.ContainerRestart(ctx, c.ID, client.StopOptions{Timeout: timeout}); err != nil {
			return fmt.Errorf("restarting container %s: %w", Name(c), err)
		}
		e.event("Container", Name(c), "Restarted")
		return nil
	})
}

// Kill sends signal to the running containers.
func (e *Engine) Kill(ctx context.Context, p *types.Project, services []string, signal string) error {
	return e.eachContainer(ctx, p, services, false, true, func(ctx context.Context, c container.Summary) error {
		if err := e.API.ContainerKill(ctx, c.ID, signal); err != nil {
			return fmt.Errorf("killing container %s: %w", Name(c), err)
		}
		e.event("Container", Name(c), "Killed")
		return nil
	})
}

// Pause pauses the running containers; Unpause (pause false) resumes them.
func (e *Engine) Pause(ctx context.Context, p *types.Project, services []string, pause bool) error {
	return e.eachContainer(ctx, p, services, false, !pause, func(ctx context.Context, c container.Summary) error {
		call, status := e.API.ContainerPause, "Paused"
		if !pause {
			call, status = e.API.ContainerUnpause, "Unpaused"
		}
		if err := call(ctx, c.ID); err != nil {
			return fmt.Errorf("container %s: %w", Name(c), err)
		}
		e.event("Container", Name(c), status)
		return nil
	})
}

// Remove removes the stopped containers of services (running ones too with stop);
// volumes removes their anonymous volumes.
func (e *Engine) Remove(ctx context.Context, p *types.Project, services []string, stop, volumes bool) error {
	return e.eachContainer(ctx, p, services, true, true, func(ctx context.Context, c container.Summary) error {
		if c.State == container.StateRunning && !stop {
			return nil
		}
		return e.removeContainer(ctx, c, true, volumes)
	})
}

// removeContainer stops (when stop) and removes one container.
func (e *Engine) removeContainer(ctx context.Context, c container.Summary, stop, volumes bool) error {
	if stop && (c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting) {
		if err := e.stopContainer(ctx, c, nil); err != nil {
			return err
		}
	}
	err := e.API.ContainerRemove(ctx, c.ID, client.RemoveOptions{Force: true, RemoveVolumes: volumes})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", Name(c), err)
	}
	e.event("Container", Name(c), "Removed")
	return nil
}

// DownOptions are down's flags.
type DownOptions struct {
	Volumes       bool   // -v: named volumes and anonymous ones
	RemoveOrphans bool   // containers of services the file no longer has
	Images        string // --rmi: "all" or "local" (images without a custom image: name)
	Timeout       *int
}

// Down stops and removes the project's containers (dependents first), then its networks and,
// with Volumes, its volumes and, with Images, its images.
func (e *Engine) Down(ctx context.Context, p *types.Project, o DownOptions) error {
	list, err := e.Containers(ctx, p.Name, true, OneoffInclude)
	if err != nil {
		return err
	}
	groups := byService(list)
	names := p.ServiceNames()
	for s, cs := range groups {
		if _, ok := p.Services[s]; ok {
			continue
		}
		if !o.RemoveOrphans && len(p.Services) > 0 && cs[0].Labels[LabelOneoff] != "True" {
			delete(groups, s)
			continue
		}
		names = append(names, s)
	}
	err = inDependencyOrder(ctx, dependencyGraph(p, names), true, func(ctx context.Context, s string) error {
		for _, c := range groups[s] {
			if err := e.removeContainer(ctx, c, true, o.Volumes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.removeNetworks(ctx, p); err != nil {
		return err
	}
	if o.Volumes {
		if err := e.removeVolumes(ctx, p); err != nil {
			return err
		}
	}
	if o.Images != "" {
		return e.removeImages(ctx, p, o.Images)
	}
	return nil
}
