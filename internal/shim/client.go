package shim

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/shim/wire"
)

// Streams selects the attach streams.
type Streams struct {
	Stdin  bool `json:"stdin"`
	Stdout bool `json:"stdout"`
	Stderr bool `json:"stderr"`
}

// controlTimeout bounds Resize and CloseStdin.
const controlTimeout = 10 * time.Second

// dialShim connects to a socket in stateDir. A path too long for sun_path
// (108 bytes) is reached through /proc/self/fd of the opened directory.
func dialShim(ctx context.Context, stateDir, name string) (*net.UnixConn, error) {
	path := filepath.Join(absDir(stateDir), name)
	if len(path) >= 108 {
		dir, err := os.Open(filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		defer dir.Close()
		path = "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + name
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// Attach connects to the container's streams. Once it returns, output is
// being queued for the connection: without a tty as docker stdcopy frames
// (8-byte header: stream 1 or 2, three zero bytes, big-endian length), with a
// tty as raw bytes. Bytes written go to the container's stdin (when the shim
// has --stdin and streams.Stdin is set); with --stdin-once, CloseWrite on the
// returned *net.UnixConn closes the container's stdin. The shim closes the
// connection after the container exits and its output is flushed. A client
// that reads too slowly loses output (the shim buffers 1 MiB per client)
// rather than stalling the container.
func Attach(ctx context.Context, stateDir string, streams Streams) (net.Conn, error) {
	c, err := dialShim(ctx, stateDir, wire.AttachSocket)
	if err != nil {
		return nil, err
	}
	if err := request(ctx, c, streams); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func request(ctx context.Context, c *net.UnixConn, req any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := readReply(c); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	c.SetDeadline(time.Time{})
	return nil
}

func control(ctx context.Context, stateDir string, req any) error {
	c, err := dialShim(ctx, stateDir, wire.ControlSocket)
	if err != nil {
		return err
	}
	defer c.Close()
	return request(ctx, c, req)
}

// Resize sets the container's terminal size (TIOCSWINSZ on the pty master).
func Resize(stateDir string, width, height int) error {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	return control(ctx, stateDir, struct {
		Op     string `json:"op"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	}{"resize", width, height})
}

// CloseStdin closes the container's stdin (end of input for `cat` and the like).
func CloseStdin(stateDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	return control(ctx, stateDir, struct {
		Op string `json:"op"`
	}{"close-stdin"})
}

// Release lets a shim launched with HoldOutput copy the container's output to
// its log and attach clients, from the first byte.
func Release(ctx context.Context, stateDir string) error {
	return control(ctx, stateDir, struct {
		Op string `json:"op"`
	}{"release"})
}

// watcher wakes a waiter when files appear or change in some directories:
// inotify through the runtime poller, or plain polling when inotify is not
// available (a nil *watcher).
type watcher struct {
	f *os.File
}

func newWatcher(dirs ...string) *watcher {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_DELETE); err != nil {
			unix.Close(fd)
			return nil
		}
	}
	return &watcher{f: os.NewFile(uintptr(fd), "inotify")}
}

// close releases the inotify instance in the background: the kernel waits for an RCU grace
// period when one is destroyed (about 20 ms measured here), which must not delay the exit
// status or the end of a log stream that the waiter is about to deliver.
func (w *watcher) close() {
	if w != nil {
		go w.f.Close()
	}
}

// pollInterval is the sleep between checks without inotify.
const pollInterval = 100 * time.Millisecond

// wait returns after an event, after d, or with ctx's error.
func (w *watcher) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w == nil {
		t := time.NewTimer(min(d, pollInterval))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	w.f.SetReadDeadline(time.Now().Add(d))
	stop := context.AfterFunc(ctx, func() { w.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var buf [4096]byte
	w.f.Read(buf[:]) // the events only wake us; what changed is checked by the caller
	return ctx.Err()
}
