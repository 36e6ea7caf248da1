package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// registryBinary is Debian's reference distribution registry.
const registryBinary = "/usr/bin/docker-registry"

// registryResult holds the push and pull times of the big image, whole CLI commands.
type registryResult struct {
	push, pull []time.Duration
}

// startRegistry runs docker-registry on a free loopback port with its storage below dir; the
// returned function stops it.
func startRegistry(ctx context.Context, dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	cfg := filepath.Join(dir, "config.yml")
	body := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(registryBinary, "serve", cfg)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("docker-registry did not answer on %s", addr)
}

// measureRegistry pushes the big image to a fresh local registry and pulls it back after
// removing it, o.rounds times; a fresh registry each round keeps every push a full upload.
func measureRegistry(ctx context.Context, o options, d *daemon, big archive, fail func(string, ...any)) *registryResult {
	rr := &registryResult{}
	if _, err := os.Stat(registryBinary); err != nil {
		return rr
	}
	c := cli{host: "unix://" + d.sock, config: filepath.Join(d.root, "docker-cli")}
	if err := os.MkdirAll(c.config, 0o700); err != nil {
		fail("registry: %w", err)
		return rr
	}
	if err := d.api.load(ctx, big.data); err != nil {
		fail("registry: load %s: %w", big.label, err)
		return rr
	}
	local := big.ref
	for i := 0; i < o.rounds && ctx.Err() == nil; i++ {
		addr, stop, err := startRegistry(ctx, filepath.Join(d.root, fmt.Sprintf("registry-%d", i)))
		if err != nil {
			fail("registry: %w", err)
			return rr
		}
		remote := addr + "/bench/big:1"
		timed := func(into *[]time.Duration, args ...string) bool {
			begin := time.Now()
			_, err := c.run(ctx, o.timeout, args...)
			if err != nil {
				fail("registry: %w", err)
				return false
			}
			*into = append(*into, time.Since(begin))
			return true
		}
		var none []time.Duration
		ok := timed(&none, "tag", local, remote) && timed(&rr.push, "push", remote) &&
			timed(&none, "rmi", "-f", local, remote) && timed(&rr.pull, "pull", remote)
		stop()
		if !ok {
			break
		}
		local = remote
	}
	if err := d.api.remove(ctx, local); err != nil {
		fail("registry: %w", err)
	}
	return rr
}

func registryRows(label string, rounds int) []row {
	pick := func(f func(*registryResult) []time.Duration) func(*result) (string, float64, bool) {
		return spreadCell(func(r *result) *registryResult { return r.reg }, f)
	}
	return []row{
		{fmt.Sprintf("docker push %s to a local registry (median of %d)", label, rounds), pick(func(r *registryResult) []time.Duration { return r.push })},
		{fmt.Sprintf("docker pull %s from a local registry (median of %d)", label, rounds), pick(func(r *registryResult) []time.Duration { return r.pull })},
	}
}
