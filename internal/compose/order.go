package compose

import (
	"context"
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// dependencyGraph maps each of names to the services among names it depends on.
func dependencyGraph(p *types.Project, names []string) map[string][]string {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	g := map[string][]string{}
	for _, n := range names {
		g[n] = nil
		for dep := range p.Services[n].DependsOn {
			if in[dep] {
				g[n] = append(g[n], dep)
			}
		}
		sort.Strings(g[n])
	}
	return g
}

// topoOrder orders a graph's nodes so that every node follows its dependencies, or names a cycle.
func topoOrder(g map[string][]string) ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []string
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("dependency cycle detected: %v", append(path, n))
		}
		state[n] = visiting
		for _, d := range g[n] {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = done
		order = append(order, n)
		return nil
	}
	keys := make([]string, 0, len(g))
	for n := range g {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// inDependencyOrder runs fn for every service of names as soon as the services it depends on
// (among names) are done; independent services run in parallel. reverse inverts the edges,
// for stopping and removing dependents before what they depend on. The first error cancels
// what has not started and is returned.
func inDependencyOrder(ctx context.Context, g map[string][]string, reverse bool, fn func(context.Context, string) error) error {
	if _, err := topoOrder(g); err != nil {
		return err
	}
	if reverse {
		r := map[string][]string{}
		for n, deps := range g {
			if _, ok := r[n]; !ok {
				r[n] = nil
			}
			for _, d := range deps {
				r[d] = append(r[d], n)
			}
		}
		g = r
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	doneCh := map[string]chan struct{}{}
	for n := range g {
		doneCh[n] = make(chan struct{})
	}
	errs := make(chan error, len(g))
	for n, deps := range g {
		go func() {
			for _, d := range deps {
				select {
				case <-doneCh[d]:
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				}
			}
			if err := fn(ctx, n); err != nil {
				errs <- err
				cancel()
				return
			}
			close(doneCh[n])
			errs <- nil
		}()
	}
	var first error
	for range g {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
