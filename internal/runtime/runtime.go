// Package runtime drives an OCI runtime binary (runc or crun) for the operations berthd performs
// itself: signalling, pausing, deleting and exec. Creating and starting a container's init process
// is the shim's job, so the process is not a child of berthd.
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	gorunc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/host"
)

// Runtime is one configured OCI runtime.
type Runtime struct {
	Name string
	Path string
	// Root is the runtime's state directory (runc --root), private to this berthd.
	Root string
	rc   *gorunc.Runc
}

// New returns a driver for the runtime binary at path keeping its state under root.
func New(name, path, root string) (*Runtime, error) {
	if err := host.MkdirSpread(root, 0o700); err != nil {
		return nil, err
	}
	return &Runtime{Name: name, Path: path, Root: root, rc: &gorunc.Runc{Command: path, Root: root}}, nil
}

// Prepare adjusts a spec for this runtime's quirks before it is written to the bundle: crun gets
// its seccomp profile precompiled (see precompileSeccomp).
func (r *Runtime) Prepare(spec *specs.Spec) {
	if filepath.Base(r.Path) == "crun" {
		precompileSeccomp(spec)
	}
}

// Kill sends sig to the container's init process (all processes with all).
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	err := r.rc.Kill(ctx, id, int(sig), &gorunc.KillOpts{All: all})
	if err != nil && notRunning(err) {
		return errdefs.Conflictf("container %s is not running", id)
	}
	return err
}

// Pause freezes every process of the container.
func (r *Runtime) Pause(ctx context.Context, id string) error { return r.rc.Pause(ctx, id) }

// Resume thaws a paused container.
func (r *Runtime) Resume(ctx context.Context, id string) error { return r.rc.Resume(ctx, id) }

// Delete removes the runtime's state of a stopped container; a missing container is not an error.
// Without a state directory there is nothing to delete, which saves a runtime exec on the common
// path where the shim has deleted the container itself.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	if !r.Exists(id) {
		return nil
	}
	err := r.rc.Delete(ctx, id, &gorunc.DeleteOpts{Force: true})
	if err != nil && (notRunning(err) || strings.Contains(err.Error(), "does not exist")) {
		return nil
	}
	return err
}

// crunNotFound is crun's wording for a command missing from the image.
var crunNotFound = regexp.MustCompile("executable file `([^`]*)` not found in \\$PATH: No such file or directory")

// NormalizeMessage rewrites crun's start errors in runc's words, which docker clients parse to
// pick exit code 127 (not found) or 126 (cannot invoke).
func NormalizeMessage(msg string) string {
	msg = crunNotFound.ReplaceAllString(msg, `exec: "$1": executable file not found in $$PATH`)
	if strings.Contains(msg, "open executable: ") {
		msg = strings.NewReplacer("Operation not permitted", "permission denied", "Permission denied", "permission denied").Replace(msg)
	}
	return msg
}

// Exists reports whether the runtime holds state for container id (runc and crun both keep a
// directory per container under their root).
func (r *Runtime) Exists(id string) bool {
	_, err := os.Lstat(filepath.Join(r.Root, id))
	return err == nil
}

// Pids lists the host PIDs of the container's processes.
func (r *Runtime) Pids(ctx context.Context, id string) ([]int, error) {
	return r.rc.Ps(ctx, id)
}

// ExecIO is the stdio of an exec'd process; with a terminal, Console receives the pty master.
type ExecIO struct {
	Stdin          *os.File
	Stdout, Stderr *os.File
	Console        *gorunc.Socket
}

// Exec runs process p inside container id until it exits and returns its exit code. The runtime
// stays in the foreground as the process's parent, so berthd needs no subreaper to learn the code;
// pidFile receives the process's host PID once it started.
func (r *Runtime) Exec(ctx context.Context, id string, p specs.Process, io ExecIO, pidFile string) (int, error) {
	opts := &gorunc.ExecOpts{PidFile: pidFile}
	if io.Console != nil {
		opts.ConsoleSocket = io.Console
	}
	opts.IO = &fileIO{in: io.Stdin, out: io.Stdout, err: io.Stderr}
	// runc reports why an exec could not start in its log, not in the process's stderr.
	logf, lerr := os.CreateTemp("", "berth-exec-log-")
	if lerr != nil {
		return -1, lerr
	}
	logf.Close()
	defer os.Remove(logf.Name())
	rc := *r.rc
	rc.Log, rc.LogFormat = logf.Name(), gorunc.JSON
	err := rc.Exec(ctx, id, p, opts)
	var ee *gorunc.ExitError
	if errors.As(err, &ee) {
		if msg := runtimeError(logf.Name()); msg != "" {
			return ExecFailedCode(msg), errdefs.InvalidArgumentf("OCI runtime exec failed: %s: unknown", msg)
		}
		return ee.Status, nil
	}
	if err != nil {
		return -1, fmt.Errorf("%s exec: %w", r.Name, err)
	}
	return 0, nil
}

func notRunning(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "not running") || strings.Contains(msg, "container not found") ||
		errors.Is(err, os.ErrNotExist)
}

// fileIO hands fixed files to the runtime command.
type fileIO struct{ in, out, err *os.File }

func (f *fileIO) Close() error          { return nil }
func (f *fileIO) Stdin() io.WriteCloser { return nil }
func (f *fileIO) Stdout() io.ReadCloser { return nil }
func (f *fileIO) Stderr() io.ReadCloser { return nil }
func (f *fileIO) Set(cmd *exec.Cmd) {
	if f.in != nil {
		cmd.Stdin = f.in
	}
	cmd.Stdout, cmd.Stderr = f.out, f.err
}

// runtimeError returns the last error message in a runc JSON log.
func runtimeError(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	msg := ""
	for _, line := range strings.Split(string(raw), "\n") {
		var entry struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level == "error" {
			msg = entry.Msg
		}
	}
	return msg
}

// ExecFailedCode is the exit code docker reports when a process could not be started:
// 127 when the command does not exist, 126 when it cannot be run.
func ExecFailedCode(msg string) int {
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") {
		return 127
	}
	return 126
}

// Update changes the cgroup limits of a running container.
func (r *Runtime) Update(ctx context.Context, id string, res *specs.LinuxResources) error {
	if err := r.rc.Update(ctx, id, res); err != nil {
		if notRunning(err) {
			return errdefs.Conflictf("container %s is not running", id)
		}
		return fmt.Errorf("%s update: %w", r.Name, err)
	}
	return nil
}
