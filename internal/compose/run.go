package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
)

// RunOptions drive compose run: a one-off container of a service.
type RunOptions struct {
	Name   string // --name; else <project>-<service>-run-<random>
	NoDeps bool   // do not start the service's dependencies
	Images ImageOptions
}

// CreateOneoff starts the dependencies of s (unless NoDeps) and creates a one-off container of
// s as given (the caller has applied the command line's overrides). It returns its name.
func (e *Engine) CreateOneoff(ctx context.Context, p *types.Project, s types.ServiceConfig, o RunOptions) (string, error) {
	if !o.NoDeps && len(s.DependsOn) > 0 {
		deps := make([]string, 0, len(s.DependsOn))
		for d := range s.DependsOn {
			deps = append(deps, d)
		}
		if err := e.Up(ctx, p, UpOptions{CreateOptions: CreateOptions{Services: deps, Images: o.Images}}); err != nil {
			return "", err
		}
		if err := e.waitDependencies(ctx, p, s); err != nil {
			return "", err
		}
		if err := e.ensureImages(ctx, p, []string{s.Name}, o.Images); err != nil {
			return "", err
		}
	} else if err := e.prepare(ctx, p, []string{s.Name}, CreateOptions{Images: o.Images}); err != nil {
		return "", err
	}
	name := o.Name
	if name == "" {
		suffix := make([]byte, 6)
		if _, err := rand.Read(suffix); err != nil {
			return "", err
		}
		name = OneoffName(p.Name, s.Name, hex.EncodeToString(suffix))
	}
	hash, err := ConfigHash(s)
	if err != nil {
		return "", err
	}
	labels := ContainerLabels(p, s, 1, true, hash, e.Version)
	if _, err := e.create(ctx, p, s, name, labels); err != nil {
		return "", err
	}
	return name, nil
}

// ServiceContainer is the name of replica index of a service, which must exist.
func (e *Engine) ServiceContainer(ctx context.Context, p *types.Project, service string, index int) (string, error) {
	list, err := e.Containers(ctx, p.Name, true, OneoffExclude, service)
	if err != nil {
		return "", err
	}
	for _, c := range list {
		if c.Labels[LabelNumber] == strconv.Itoa(index) {
			return Name(c), nil
		}
	}
	return "", fmt.Errorf("service %q is not running", service)
}
