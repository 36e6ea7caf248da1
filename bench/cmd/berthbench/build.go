package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// buildResult holds the Dockerfile build figures of one engine, whole CLI commands.
type buildResult struct {
	cold    []time.Duration // --no-cache
	cached  []time.Duration // nothing changed: every step from the cache
	changed []time.Duration // one context file changed: the steps from its COPY on re-run
}

// benchDockerfile is the small Dockerfile the builder's goals are stated for: a base, a RUN,
// a context copy (the file the "changed" round edits) and the command.
const benchDockerfile = `FROM busybox
RUN mkdir -p /app && echo built > /app/stamp
COPY app.sh /app/
CMD ["sh", "/app/app.sh"]
`

// measureBuild times `docker build` of benchDockerfile through the classic builder
// endpoint (DOCKER_BUILDKIT=0, the one both engines serve), with --network none as
// the run rows use. Each round does a cold build, a fully cached one, and one after
// editing app.sh; the images are removed at the end.
func measureBuild(ctx context.Context, o options, d *daemon, busybox []byte, fail func(string, ...any)) *buildResult {
	br := &buildResult{}
	c := cli{host: "unix://" + d.sock, config: filepath.Join(d.root, "docker-cli"), env: []string{"DOCKER_BUILDKIT=0"}}
	dir := filepath.Join(d.root, "build-context")
	if err := writeBuildContext(dir, 0); err != nil {
		fail("build: %w", err)
		return br
	}
	if err := os.MkdirAll(c.config, 0o700); err != nil {
		fail("build: %w", err)
		return br
	}
	if err := d.api.load(ctx, busybox); err != nil {
		fail("build: load busybox: %w", err)
		return br
	}
	const tag = "berthbench-build:latest"
	build := func(into *[]time.Duration, extra ...string) bool {
		args := append([]string{"build", "-q", "--network", "none", "-t", tag}, extra...)
		begin := time.Now()
		_, err := c.run(ctx, o.timeout, append(args, dir)...)
		if err != nil {
			fail("build: %w", err)
			return false
		}
		*into = append(*into, time.Since(begin))
		return true
	}
	for i := 0; i < o.rounds && ctx.Err() == nil; i++ {
		ok := build(&br.cold, "--no-cache") && build(&br.cached)
		if ok {
			if err := writeBuildContext(dir, i+1); err != nil {
				fail("build: %w", err)
				break
			}
			ok = build(&br.changed)
		}
		if !ok {
			break
		}
	}
	if _, err := c.run(context.Background(), o.timeout, "rmi", "-f", tag); err != nil {
		fail("build: cleanup: %w", err)
	}
	// The classic builder keeps intermediate images of cached steps; prune them so the
	// registry rows that follow start from the same store on both engines.
	if _, err := c.run(context.Background(), o.timeout, "image", "prune", "-f"); err != nil {
		fail("build: cleanup: %w", err)
	}
	return br
}

// writeBuildContext writes the context of benchDockerfile; app.sh depends on version, so each
// new version invalidates its COPY.
func writeBuildContext(dir string, version int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(benchDockerfile), 0o644); err != nil {
		return err
	}
	script := fmt.Sprintf("echo version %d\n", version)
	return os.WriteFile(filepath.Join(dir, "app.sh"), []byte(script), 0o644)
}

func buildRows(rounds int) []row {
	pick := func(f func(*buildResult) []time.Duration) func(*result) (string, float64, bool) {
		return spreadCell(func(r *result) *buildResult { return r.build }, f)
	}
	return []row{
		{fmt.Sprintf("docker build FROM/RUN/COPY/CMD, --no-cache (median of %d)", rounds), pick(func(b *buildResult) []time.Duration { return b.cold })},
		{fmt.Sprintf("same, all steps cached (median of %d)", rounds), pick(func(b *buildResult) []time.Duration { return b.cached })},
		{fmt.Sprintf("same, one copied file changed (median of %d)", rounds), pick(func(b *buildResult) []time.Duration { return b.changed })},
	}
}
