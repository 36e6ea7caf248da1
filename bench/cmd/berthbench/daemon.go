package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// engine says how to start one daemon under a private root.
type engine struct {
	name string
	bin  string
	// args returns the daemon's command line for the directories of one run.
	args func(d *daemon) ([]string, error)
}

func berthEngine(bin string, extra ...string) engine {
	return engine{name: "berth", bin: bin, args: func(d *daemon) ([]string, error) {
		return append([]string{"--data-root", d.dataRoot, "--exec-root", d.execRoot, "-H", "unix://" + d.sock}, extra...), nil
	}}
}

func dockerEngine(bin string) engine {
	return engine{name: "docker", bin: bin, args: func(d *daemon) ([]string, error) {
		// A private config file keeps /etc/docker/daemon.json out of the picture and
		// the trust key inside the temp root instead of /etc/docker/key.json.
		cfg := filepath.Join(d.root, "daemon.json")
		b, _ := json.Marshal(map[string]any{"deprecated-key-path": filepath.Join(d.root, "key.json")})
		if err := os.WriteFile(cfg, b, 0o600); err != nil {
			return nil, err
		}
		return []string{
			"--data-root", d.dataRoot, "--exec-root", d.execRoot, "-H", "unix://" + d.sock,
			"--pidfile", filepath.Join(d.root, "docker.pid"), "--config-file", cfg,
			"--bridge", "none", "--iptables=false", "--ip-forward=false",
		}, nil
	}}
}

// daemon is one running engine process and the temp directory it owns.
type daemon struct {
	eng      engine
	root     string // everything below is inside root
	dataRoot string
	execRoot string
	sock     string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	api      *apiClient
	// strays are processes of this daemon that are not its descendants
	// (containerd shims re-parent to init); stop ends them too.
	strays []int
}

// startDaemon spawns the engine and returns once GET /_ping answers 200,
// together with the time that took (from just before fork).
func startDaemon(ctx context.Context, eng engine, timeout time.Duration) (*daemon, time.Duration, error) {
	root, err := os.MkdirTemp("", "berthbench-"+eng.name+"-")
	if err != nil {
		return nil, 0, err
	}
	d := &daemon{
		eng:      eng,
		root:     root,
		dataRoot: filepath.Join(root, "data"),
		execRoot: filepath.Join(root, "exec"),
		sock:     filepath.Join(root, "engine.sock"),
		logPath:  filepath.Join(root, "daemon.log"),
		exited:   make(chan struct{}),
	}
	for _, dir := range []string{d.dataRoot, d.execRoot} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			d.cleanup()
			return nil, 0, err
		}
	}
	args, err := eng.args(d)
	if err != nil {
		d.cleanup()
		return nil, 0, err
	}
	logf, err := os.Create(d.logPath)
	if err != nil {
		d.cleanup()
		return nil, 0, err
	}
	defer logf.Close()

	d.cmd = exec.Command(eng.bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// Own process group: a terminal ^C reaches only the bench, which then stops
	// the daemon in order. Pdeathsig covers the bench itself being killed.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d.api = newAPIClient(d.sock)

	begin := time.Now()
	if err := d.cmd.Start(); err != nil {
		d.cleanup()
		return nil, 0, fmt.Errorf("%s: start %s: %w", eng.name, eng.bin, err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()

	deadline := time.Now().Add(timeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		ok := d.api.ping(pctx) == nil
		cancel()
		if ok {
			return d, time.Since(begin), nil
		}
		select {
		case <-d.exited:
			err := fmt.Errorf("%s exited before answering /_ping (%v)%s", eng.name, d.waitErr, d.logTail())
			d.stop()
			return nil, 0, err
		case <-ctx.Done():
			d.stop()
			return nil, 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			err := fmt.Errorf("%s did not answer /_ping within %s%s", eng.name, timeout, d.logTail())
			d.stop()
			return nil, 0, err
		}
	}
}

func (d *daemon) logTail() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n    log " + d.logPath + ":\n      " + strings.Join(lines, "\n      ")
}

// rss is the resident set of the daemon and every process below it (for docker,
// the containerd it spawns), in bytes.
func (d *daemon) rss() (int64, error) {
	pids := append([]int{d.cmd.Process.Pid}, descendants(d.cmd.Process.Pid)...)
	var total int64
	for _, pid := range pids {
		kb, err := vmRSS(pid)
		if err != nil {
			return 0, err
		}
		total += kb * 1024
	}
	return total, nil
}

// stop ends the daemon and everything it started, unmounts what was left
// mounted below the temp root and removes it. It is safe to call twice.
func (d *daemon) stop() []error {
	var errs []error
	if d.cmd != nil && d.cmd.Process != nil {
		children := append(descendants(d.cmd.Process.Pid), d.strays...)
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(20 * time.Second):
				errs = append(errs, fmt.Errorf("%s ignored SIGTERM for 20s; killed", d.eng.name))
				_ = d.cmd.Process.Kill()
				<-d.exited
			}
		}
		// Children normally leave with their parent (dockerd stops containerd);
		// anything still there is ended here.
		for _, pid := range children {
			if !alive(pid) {
				continue
			}
			_ = syscall.Kill(pid, syscall.SIGTERM)
			if !waitGone(pid, 5*time.Second) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				if !waitGone(pid, 5*time.Second) {
					errs = append(errs, fmt.Errorf("%s: child %d survives SIGKILL", d.eng.name, pid))
				}
			}
		}
	}
	errs = append(errs, d.cleanup()...)
	return errs
}

func (d *daemon) cleanup() []error {
	if d.root == "" {
		return nil
	}
	var errs []error
	if err := unmountBelow(d.root); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(d.root); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.root, err))
	}
	d.root = ""
	return errs
}

func waitGone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return !alive(pid)
}
