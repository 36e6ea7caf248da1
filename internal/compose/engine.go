package compose

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
)

// Engine runs compose operations against one daemon.
type Engine struct {
	API     *client.Client
	Version string // the value of com.docker.compose.version on what it creates
	// BuildContext makes the tar body of a build of dir (with the Dockerfile at dockerfile,
	// "" for dir/Dockerfile) and names the Dockerfile inside it, as `berth build` does.
	BuildContext func(dir, dockerfile string) (io.Reader, string, error)

	mu       sync.Mutex
	progress io.Writer
}

// NewEngine returns an engine that reports each step (" Container p-web-1  Started") to progress.
func NewEngine(api *client.Client, version string, progress io.Writer, buildContext func(dir, dockerfile string) (io.Reader, string, error)) *Engine {
	return &Engine{API: api, Version: version, BuildContext: buildContext, progress: progress}
}

// event reports one step on a network, volume, image or container.
func (e *Engine) event(kind, name, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.progress, " %s %s  %s\n", kind, name, status)
}

// Oneoff selects containers by com.docker.compose.oneoff.
type Oneoff int

// The selections of Containers.
const (
	OneoffExclude Oneoff = iota // service containers only
	OneoffInclude               // both
	OneoffOnly                  // `compose run` containers only
)

// Containers lists the project's containers (stopped ones too when all), of the given services
// when any are named, sorted by service and number.
func (e *Engine) Containers(ctx context.Context, project string, all bool, oneoff Oneoff, services ...string) ([]container.Summary, error) {
	f := projectFilter(project)
	switch oneoff {
	case OneoffExclude:
		f.Add("label", LabelOneoff+"=False")
	case OneoffOnly:
		f.Add("label", LabelOneoff+"=True")
	}
	list, err := e.API.ContainerList(ctx, client.ListOptions{All: all, Filters: f})
	if err != nil {
		return nil, err
	}
	if len(services) > 0 {
		want := map[string]bool{}
		for _, s := range services {
			want[s] = true
		}
		kept := list[:0]
		for _, c := range list {
			if want[c.Labels[LabelService]] {
				kept = append(kept, c)
			}
		}
		list = kept
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i].Labels, list[j].Labels
		if a[LabelService] != b[LabelService] {
			return a[LabelService] < b[LabelService]
		}
		na, _ := strconv.Atoi(a[LabelNumber])
		nb, _ := strconv.Atoi(b[LabelNumber])
		if na != nb {
			return na < nb
		}
		return Name(list[i]) < Name(list[j])
	})
	return list, nil
}

// Name is a listed container's name without the leading slash.
func Name(c container.Summary) string {
	if len(c.Names) == 0 {
		return c.ID
	}
	return strings.TrimPrefix(c.Names[0], "/")
}

// byService groups listed containers by their service label.
func byService(list []container.Summary) map[string][]container.Summary {
	m := map[string][]container.Summary{}
	for _, c := range list {
		s := c.Labels[LabelService]
		m[s] = append(m[s], c)
	}
	return m
}

// serviceNames is names, or every service of p when none are given; unknown names are an error.
func serviceNames(p *types.Project, names []string) ([]string, error) {
	if len(names) == 0 {
		return p.ServiceNames(), nil
	}
	for _, n := range names {
		if _, ok := p.Services[n]; !ok {
			if len(p.Services) == 0 {
				continue // a project known by name only: its containers' labels decide
			}
			return nil, errdefs.NotFoundf("no such service: %s", n)
		}
	}
	return names, nil
}
