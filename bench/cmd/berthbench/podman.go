package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// podman has no daemon, and podman 4.3's API service answers the docker CLI's attach with 409,
// so podman is timed through its own CLI: the same container commands, whole-command times,
// with a private root so the host's storage is untouched. Its per-container supervisor is conmon.
type podman struct {
	bin  string
	root string
	env  []string
}

func newPodman(bin string) (*podman, error) {
	root, err := os.MkdirTemp("", "berthbench-podman-")
	if err != nil {
		return nil, err
	}
	// Podman asks the runtime for RLIMIT_NOFILE and RLIMIT_NPROC above what this host lets a
	// process without CAP_SYS_RESOURCE set: pin nofile to the hard limit and nproc to a modest
	// value (crun refused the host's own hard limit for nproc here).
	var nofile syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	conf := filepath.Join(root, "containers.conf")
	body := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=4096:4096\"]\n[engine]\nevents_logger = \"file\"\ncgroup_manager = \"cgroupfs\"\n",
		nofile.Max, nofile.Max)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	return &podman{bin: bin, root: root, env: append(os.Environ(), "CONTAINERS_CONF="+conf)}, nil
}

func (p *podman) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append([]string{"--root", filepath.Join(p.root, "storage"), "--runroot", filepath.Join(p.root, "run"),
		"--tmpdir", filepath.Join(p.root, "tmp")}, args...)
	cmd := exec.CommandContext(cctx, p.bin, full...)
	cmd.Env = p.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// measurePodman fills the container rows for podman; the daemon rows stay empty.
func measurePodman(ctx context.Context, o options, bin string, busybox []byte) *result {
	r := &result{load: map[string]float64{}, save: map[string]float64{}}
	fail := func(format string, args ...any) { r.errs = append(r.errs, fmt.Errorf(format, args...)) }
	p, err := newPodman(bin)
	if err != nil {
		fail("podman: %w", err)
		return r
	}
	defer func() {
		p.run(context.Background(), 2*o.timeout, "rm", "-a", "-f", "-t", "0")
		// Storage leaves overlay mounts behind; unmount them before the directory goes.
		p.run(context.Background(), o.timeout, "system", "reset", "-f")
		os.RemoveAll(p.root)
	}()
	tar := filepath.Join(p.root, "busybox.tar")
	if err := os.WriteFile(tar, busybox, 0o644); err != nil {
		fail("podman: %w", err)
		return r
	}
	if _, err := p.run(ctx, o.timeout, "load", "-q", "-i", tar); err != nil {
		fail("podman: load busybox: %w", err)
		return r
	}
	cr := &containerResult{}
	r.ctr = cr
	for i := 0; i <= o.runs && ctx.Err() == nil; i++ {
		begin := time.Now()
		_, err := p.run(ctx, o.timeout, "run", "--rm", "--network", "none", "busybox", "true")
		took := time.Since(begin)
		if err != nil {
			fail("podman: run --rm: %w", err)
			return r
		}
		if i > 0 {
			cr.runRm = append(cr.runRm, took)
		}
	}
	var ids []string
	begin := time.Now()
	for i := 0; i < o.ctrs && ctx.Err() == nil; i++ {
		out, err := p.run(ctx, o.timeout, "run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			fail("podman: run -d %d: %w", i+1, err)
			return r
		}
		ids = append(ids, strings.TrimSpace(out))
	}
	cr.runDetach = time.Since(begin)
	time.Sleep(time.Second)
	var per []float64
	for _, pid := range procsNamed([]string{"conmon"}, p.root) {
		if kb, err := vmRSS(pid); err == nil {
			cr.rss += kb * 1024
			per = append(per, float64(kb*1024))
		}
	}
	if len(per) > 0 {
		cr.shimRSS, cr.shims = int64(median(per)), len(per)
	}
	begin = time.Now()
	// -t 0: kill at once, as docker's rm -f does (podman's would wait out the stop timeout).
	if _, err := p.run(ctx, 2*o.timeout, append([]string{"rm", "-f", "-t", "0"}, ids...)...); err != nil {
		fail("podman: rm -f: %w", err)
		return r
	}
	cr.rmForce = time.Since(begin)
	return r
}
