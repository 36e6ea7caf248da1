// Command berth-shim supervises one container for berthd.
//
// berthd starts it detached (its own session, stdio on /dev/null) with a ready
// OCI bundle; the shim runs `runc run --detach` (with --hold-output it copies
// no output until asked on the control socket, so attach clients connected
// after the launch miss nothing), owns the container's stdio pipes or pty,
// writes the output to a docker json-file log, serves attach and control sockets in its state directory, reaps the
// container init as a child subreaper, records the exit status in exit.json,
// deletes the container and exits. It does not depend on berthd staying up:
// berthd re-adopts a running shim through the files in the state directory
// (see internal/shim).
//
// Readiness goes to fd 3 when it is open: one JSON line, {"pid":N} once the
// container is running, or
// {"error":"..."} with the runtime's message.
//
// The shim is built to stay small: one OS thread does the work
// (GOMAXPROCS=1), all file descriptors go through the runtime poller, the
// garbage collector runs often on a tiny heap, and no reflection-based
// encoding is used.
package main

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/shim/wire"
)

type config struct {
	id, bundle, runtime, runtimeRoot string
	logPath, stateDir                string
	logMaxSize                       int64
	logMaxFiles                      int
	tty, stdin, stdinOnce            bool
	holdOutput                       bool
	noTrim                           bool
}

const usage = "usage: berth-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --log-path FILE " +
	"[--log-max-size BYTES] [--log-max-files N] --state-dir DIR [--tty] [--stdin] [--stdin-once] [--hold-output]"

func parseArgs(args []string) (*config, error) {
	c := &config{logMaxFiles: 1}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			return nil, errors.New("unexpected argument " + strconv.Quote(args[i]))
		}
		var b *bool
		switch name {
		case "tty":
			b = &c.tty
		case "stdin":
			b = &c.stdin
		case "stdin-once":
			b = &c.stdinOnce
		case "hold-output":
			b = &c.holdOutput
		case "no-trim":
			b = &c.noTrim
		}
		if b != nil {
			*b = !hasVal || val == "true" || val == "1"
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, errors.New("flag --" + name + " needs a value")
			}
			i++
			val = args[i]
		}
		var err error
		switch name {
		case "id":
			c.id = val
		case "bundle":
			c.bundle = val
		case "runtime":
			c.runtime = val
		case "runtime-root":
			c.runtimeRoot = val
		case "log-path":
			c.logPath = val
		case "state-dir":
			c.stateDir = val
		case "log-max-size":
			c.logMaxSize, err = strconv.ParseInt(val, 10, 64)
		case "log-max-files":
			c.logMaxFiles, err = strconv.Atoi(val)
		default:
			return nil, errors.New("unknown flag --" + name + "\n" + usage)
		}
		if err != nil {
			return nil, errors.New("bad value for --" + name + ": " + val)
		}
	}
	switch {
	case c.id == "", c.bundle == "", c.runtime == "", c.stateDir == "", c.logPath == "":
		return nil, errors.New("missing a required flag\n" + usage)
	}
	if c.logMaxFiles < 1 {
		c.logMaxFiles = 1
	}
	return c, nil
}

func main() {
	// One P: the shim is I/O bound and each P carries its own caches.
	runtime.GOMAXPROCS(1)
	// No allocation sampling (its bucket table is the first thing it touches).
	runtime.MemProfileRate = 0
	// A small heap goal; an idle shim allocates nothing, so this only matters
	// while attach clients are being fed.
	debug.SetGCPercent(20)
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ready := readyPipe()
	cfg, err := parseArgs(args)
	if err != nil {
		report(ready, 0, err.Error())
		os.Stderr.WriteString("berth-shim: " + err.Error() + "\n")
		return 2
	}
	for _, p := range []*string{&cfg.stateDir, &cfg.bundle, &cfg.logPath, &cfg.runtimeRoot} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	if err := os.Chdir(cfg.stateDir); err != nil {
		report(ready, 0, "state dir: "+err.Error())
		return 1
	}
	s := &shim{cfg: cfg, ready: ready, clients: map[*attachClient]struct{}{}}
	return s.run()
}

// readyPipe returns fd 3 when berthd passed one, marked close-on-exec so that
// neither runc nor the container inherit it.
func readyPipe() *os.File {
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, 3, syscall.F_GETFD, 0); errno != 0 {
		return nil
	}
	syscall.CloseOnExec(3)
	return os.NewFile(3, "ready")
}

// report sends the readiness line and closes the pipe; later calls do nothing.
func report(ready *os.File, pid int, errMsg string) {
	if ready == nil {
		return
	}
	var b []byte
	if errMsg != "" {
		b = append(b, `{"error":`...)
		b = wire.AppendString(b, errMsg)
	} else {
		b = append(b, `{"pid":`...)
		b = strconv.AppendInt(b, int64(pid), 10)
	}
	b = append(b, "}\n"...)
	ready.Write(b)
	ready.Close()
}

// writeFileAtomic writes name in the current (state) directory through a
// temporary file and a rename, so a reader never sees it half written. It does
// not fsync: the state directory lives under the exec root (/run, a tmpfs on
// most hosts), whose contents mean nothing after a reboot, and the shim's
// pid and exit files are on the critical path of every container start and exit.
func writeFileAtomic(name string, data []byte) error {
	tmp := "." + name + ".tmp"
	err := os.WriteFile(tmp, data, 0o644)
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// logf appends a diagnostic line to shim.log in the state directory.
func logf(msg string) {
	f, err := os.OpenFile(wire.ShimLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	b := wire.AppendTime(nil, time.Now())
	b = append(b, ' ')
	b = append(b, msg...)
	b = append(b, '\n')
	f.Write(b)
	f.Close()
}

func setupSignals() <-chan os.Signal {
	// A stray terminal or session signal must not take the container's
	// supervisor down; SIGTERM and SIGKILL still end it.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE, syscall.SIGTTIN, syscall.SIGTTOU)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	return ch
}
