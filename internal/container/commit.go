package container

import (
	"context"
	"fmt"
	"io"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
)

// Committer is the part of the image service commit needs.
type Committer interface {
	Commit(ctx context.Context, layer io.Reader, opts image.CommitOptions) (digest.Digest, error)
}

// CommitOptions are the query parameters of POST /commit.
type CommitOptions struct {
	Repo, Tag, Comment, Author string
	Pause                      bool
	Changes                    []string
	Config                     *container.Config // overrides of the container's config
}

// Commit makes an image of the container's changes on top of its image.
func (s *Service) Commit(ctx context.Context, ref string, opts CommitOptions) (digest.Digest, error) {
	committer, ok := s.images.(Committer)
	if !ok {
		return "", errdefs.NotImplementedf("commit is not supported by this image store")
	}
	c, err := s.Get(ref)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.State.Status == "removing" || c.State.Dead {
		c.mu.Unlock()
		return "", errdefs.Conflictf("You cannot commit container %s which is being removed or is dead", c.ID)
	}
	cfg := *c.Config
	createdBy := strings.Join(append([]string{c.Path}, c.Args...), " ")
	pause := opts.Pause && c.State.Running && !c.State.Paused
	c.mu.Unlock()
	if pause {
		if err := s.Pause(ctx, c.ID); err != nil {
			return "", err
		}
		defer func() {
			if err := s.Unpause(context.Background(), c.ID); err != nil {
				s.log.Warn("unpause after commit", "id", c.ID, "err", err)
			}
		}()
	}
	mergeCommitConfig(&cfg, opts.Config)

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.tarUpper(ctx, c, pw)) }()
	id, err := committer.Commit(ctx, pr, image.CommitOptions{
		Parent: c.Image, Config: imageConfig(&cfg), Changes: opts.Changes,
		Repo: opts.Repo, Tag: opts.Tag, Comment: opts.Comment, Author: opts.Author, CreatedBy: createdBy,
	})
	pr.CloseWithError(fmt.Errorf("commit ended"))
	if err != nil {
		return "", err
	}
	attrs := c.attributes()
	attrs["comment"], attrs["imageID"] = opts.Comment, id.String()
	if opts.Repo != "" {
		attrs["imageRef"] = opts.Repo
		if opts.Tag != "" {
			attrs["imageRef"] += ":" + opts.Tag
		}
	}
	s.events.Emit("container", "commit", c.ID, attrs)
	return id, nil
}

// mergeCommitConfig lets the non-empty fields of the request's config replace the container's.
func mergeCommitConfig(dst, req *container.Config) {
	if req == nil {
		return
	}
	if req.User != "" {
		dst.User = req.User
	}
	if len(req.ExposedPorts) > 0 {
		dst.ExposedPorts = req.ExposedPorts
	}
	if len(req.Env) > 0 {
		dst.Env = req.Env
	}
	if len(req.Cmd) > 0 {
		dst.Cmd = req.Cmd
	}
	if len(req.Entrypoint) > 0 {
		dst.Entrypoint = req.Entrypoint
	}
	if len(req.Volumes) > 0 {
		dst.Volumes = req.Volumes
	}
	if req.WorkingDir != "" {
		dst.WorkingDir = req.WorkingDir
	}
	if len(req.Labels) > 0 {
		if dst.Labels == nil {
			dst.Labels = map[string]string{}
		}
		for k, v := range req.Labels {
			dst.Labels[k] = v
		}
	}
	if req.StopSignal != "" {
		dst.StopSignal = req.StopSignal
	}
	if req.Healthcheck != nil {
		dst.Healthcheck = req.Healthcheck
	}
	if len(req.OnBuild) > 0 {
		dst.OnBuild = req.OnBuild
	}
	if len(req.Shell) > 0 {
		dst.Shell = req.Shell
	}
}

// imageConfig is the image run config recorded for a container config.
func imageConfig(c *container.Config) dockerspec.DockerOCIImageConfig {
	var ic dockerspec.DockerOCIImageConfig
	ic.User, ic.Env, ic.Entrypoint, ic.Cmd, ic.WorkingDir, ic.StopSignal = c.User, c.Env, c.Entrypoint, c.Cmd, c.WorkingDir, c.StopSignal
	if len(c.Labels) > 0 {
		ic.Labels = map[string]string{}
		for k, v := range c.Labels {
			ic.Labels[k] = v
		}
	}
	if len(c.ExposedPorts) > 0 {
		ic.ExposedPorts = map[string]struct{}{}
		for p := range c.ExposedPorts {
			ic.ExposedPorts[p.String()] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		ic.Volumes = map[string]struct{}{}
		for v := range c.Volumes {
			ic.Volumes[v] = struct{}{}
		}
	}
	if h := c.Healthcheck; h != nil {
		ic.Healthcheck = &dockerspec.HealthcheckConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	ic.OnBuild, ic.Shell = c.OnBuild, c.Shell
	return ic
}
