package container

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	gorunc "github.com/containerd/go-runc"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
)

// execProc is one exec instance; it lives in memory like docker's, gone with the daemon.
type execProc struct {
	mu        sync.Mutex
	id        string
	container *Container
	req       container.ExecCreateRequest
	running   bool
	started   bool
	exitCode  *int
	pid       int
	console   *os.File // pty master while a tty exec runs
}

// ExecCreate registers a process to run in a running container.
func (s *Service) ExecCreate(ctx context.Context, ref string, req container.ExecCreateRequest) (string, error) {
	c, err := s.Get(ref)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	running := c.State.Running
	c.mu.Unlock()
	if !running {
		return "", errdefs.Conflictf("container %s is not running", c.ID)
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.InvalidArgumentf("No exec command specified")
	}
	if _, err := detachKeys(req.DetachKeys); err != nil {
		return "", err
	}
	e := &execProc{id: newID(), container: c, req: req}
	s.execMu.Lock()
	s.execs[e.id] = e
	s.execMu.Unlock()
	s.events.Emit("container", "exec_create: "+strings.Join(req.Cmd, " "), c.ID, c.attributes())
	return e.id, nil
}

func (s *Service) getExec(id string) (*execProc, error) {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	e, ok := s.execs[id]
	if !ok {
		return nil, errdefs.NotFoundf("No such exec instance: %s", id)
	}
	return e, nil
}

// ExecIsTTY reports whether the exec runs on a terminal (raw stream) or not (multiplexed).
func (s *Service) ExecIsTTY(id string) (bool, error) {
	e, err := s.getExec(id)
	if err != nil {
		return false, err
	}
	return e.req.Tty, nil
}

// execProcess builds the OCI process of an exec from the container's own spec.
func (s *Service) execProcess(e *execProc) (specs.Process, error) {
	raw, err := os.ReadFile(filepath.Join(s.stateDir(e.container.ID), "config.json"))
	if err != nil {
		return specs.Process{}, fmt.Errorf("read container spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return specs.Process{}, err
	}
	p := *spec.Process
	p.Args = e.req.Cmd
	p.Terminal = e.req.Tty
	p.Env = append(append([]string{}, p.Env...), e.req.Env...)
	if e.req.WorkingDir != "" {
		p.Cwd = e.req.WorkingDir
	}
	if e.req.User != "" {
		root := spec.Root.Path
		u, err := oci.ProcessUser(e.req.User, nil, readInRoot(root, "etc/passwd"), readInRoot(root, "etc/group"))
		if err != nil {
			return p, errdefs.As(errdefs.InvalidArgument, err)
		}
		p.User = u
	}
	if e.req.Privileged && p.Capabilities != nil {
		all, _ := oci.Capabilities(nil, nil, true)
		p.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	}
	p.ConsoleSize = nil
	return p, nil
}

// ExecStart runs the exec, streaming its stdio over conn (nil with detach) until it exits.
func (s *Service) ExecStart(ctx context.Context, id string, conn io.ReadWriter, detach bool) error {
	e, err := s.getExec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return errdefs.Conflictf("exec %s has already been started", id)
	}
	e.started, e.running = true, true
	e.mu.Unlock()
	rt, err := s.runtimeFor(e.container)
	if err != nil {
		return err
	}
	p, err := s.execProcess(e)
	if err != nil {
		e.finish(-1)
		return err
	}
	if detach {
		go s.runExec(context.Background(), rt, e, p, nil)
		return nil
	}
	return s.runExec(ctx, rt, e, p, conn)
}

func (s *Service) runExec(ctx context.Context, rt *runtime.Runtime, e *execProc, p specs.Process, conn io.ReadWriter) error {
	pidFile := filepath.Join(s.stateDir(e.container.ID), "exec-"+e.id+".pid")
	defer os.Remove(pidFile)
	var io runtime.ExecIO
	var copies sync.WaitGroup
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			f.Close()
		}
	}()
	if e.req.Tty {
		sock, err := gorunc.NewTempConsoleSocket()
		if err != nil {
			e.finish(-1)
			return err
		}
		defer sock.Close()
		io.Console = sock
		go func() {
			master, err := sock.ReceiveMaster()
			if err != nil {
				return
			}
			f := os.NewFile(master.Fd(), "pty-master")
			e.mu.Lock()
			e.console = f
			e.mu.Unlock()
			if e.req.ConsoleSize != nil {
				setWinsize(f, e.req.ConsoleSize[0], e.req.ConsoleSize[1])
			}
			if conn != nil {
				go copyInput(f, conn, e.req.DetachKeys)
				copyOutput(conn, f)
			}
		}()
	} else {
		nullOrPipe := func(want bool, forRead bool) (*os.File, *os.File, error) {
			if !want || conn == nil {
				f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
				return f, nil, err
			}
			r, w, err := os.Pipe()
			if forRead {
				return r, w, err // the process reads r, we write w
			}
			return w, r, err // the process writes w, we read r
		}
		stdin, stdinW, err := nullOrPipe(e.req.AttachStdin, true)
		if err != nil {
			e.finish(-1)
			return err
		}
		stdout, stdoutR, err := nullOrPipe(e.req.AttachStdout, false)
		if err != nil {
			e.finish(-1)
			return err
		}
		stderr, stderrR, err := nullOrPipe(e.req.AttachStderr, false)
		if err != nil {
			e.finish(-1)
			return err
		}
		io = runtime.ExecIO{Stdin: stdin, Stdout: stdout, Stderr: stderr}
		closers = append(closers, stdin, stdout, stderr)
		if conn != nil {
			outW, errW := newFrameWriters(conn)
			for _, pair := range []struct {
				r *os.File
				w ioWriter
			}{{stdoutR, outW}, {stderrR, errW}} {
				if pair.r == nil {
					continue
				}
				copies.Add(1)
				go func(r *os.File, w ioWriter) {
					defer copies.Done()
					copyOutput(w, r)
					r.Close()
				}(pair.r, pair.w)
			}
			if stdinW != nil {
				go func() {
					copyInput(stdinW, conn, e.req.DetachKeys)
					stdinW.Close()
				}()
			}
		}
	}
	go func() {
		// The pid file appears once the process runs.
		for i := 0; i < 200; i++ {
			if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				e.mu.Lock()
				e.pid = pid
				e.mu.Unlock()
				return
			}
			sleepShort()
		}
	}()
	code, err := rt.Exec(ctx, e.container.ID, p, io, pidFile)
	if err != nil && conn != nil {
		// The stream is already open: the reason goes to the client's stderr, as docker does.
		_, errW := newFrameWriters(conn)
		if e.req.Tty {
			errW = conn
		}
		errW.Write([]byte(err.Error() + "\r\n"))
		err = nil
	}
	// Our copies of the child's ends must close so the readers see EOF.
	for _, f := range closers {
		f.Close()
	}
	closers = nil
	copies.Wait()
	e.finish(code)
	s.events.Emit("container", "exec_die", e.container.ID, merge(e.container.attributes(), map[string]string{"execID": e.id, "exitCode": strconv.Itoa(code)}))
	return err
}

type ioWriter = interface{ Write([]byte) (int, error) }

func (e *execProc) finish(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	e.exitCode = &code
	if e.console != nil {
		e.console.Close()
		e.console = nil
	}
}

// ExecInspect reports an exec's state and exit code.
func (s *Service) ExecInspect(ctx context.Context, id string) (*container.ExecInspectResponse, error) {
	e, err := s.getExec(id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	entry, args := "", []string{}
	if len(e.req.Cmd) > 0 {
		entry, args = e.req.Cmd[0], e.req.Cmd[1:]
	}
	return &container.ExecInspectResponse{
		ID: e.id, Running: e.running, ExitCode: e.exitCode, ContainerID: e.container.ID, Pid: e.pid,
		OpenStdin: e.req.AttachStdin, OpenStdout: e.req.AttachStdout, OpenStderr: e.req.AttachStderr,
		ProcessConfig: &container.ExecProcessConfig{Tty: e.req.Tty, Entrypoint: entry, Arguments: args, Privileged: &e.req.Privileged, User: e.req.User},
	}, nil
}

// ExecResize sets the terminal size of a tty exec.
func (s *Service) ExecResize(ctx context.Context, id string, height, width uint) error {
	e, err := s.getExec(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.console == nil {
		return errdefs.Conflictf("exec %s has no running terminal", id)
	}
	return setWinsize(e.console, height, width)
}

func setWinsize(f *os.File, height, width uint) error {
	return unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(height), Col: uint16(width)})
}

// copyOutput copies until either side fails.
func copyOutput(w ioWriter, r *os.File) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// copyInput forwards the client's input until it closes or types the detach keys.
func copyInput(w *os.File, r interface{ Read([]byte) (int, error) }, keys string) {
	k, _ := detachKeys(keys)
	d := &detachReader{r: r, keys: k}
	buf := make([]byte, 32*1024)
	for {
		n, err := d.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
