package main

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/berth-project/berth/internal/shim/wire"
)

// maxClientBuffer bounds the output queued for one attach client; a client
// that falls further behind loses output instead of slowing the container.
const maxClientBuffer = 1 << 20

// requestTimeout bounds how long a client may take to send its request line.
const requestTimeout = 10 * time.Second

type attachClient struct {
	conn                  *os.File
	stdin, stdout, stderr bool

	mu      sync.Mutex
	cond    sync.Cond
	queue   [][]byte
	queued  int
	closing bool
	done    chan struct{} // closed when the writer has finished
}

func (s *shim) listen() error {
	var err error
	if s.attachL, err = listenUnix(wire.AttachSocket); err != nil {
		return errors.New("attach socket: " + err.Error())
	}
	if s.controlL, err = listenUnix(wire.ControlSocket); err != nil {
		return errors.New("control socket: " + err.Error())
	}
	go s.serve(s.attachL, s.handleAttach)
	go s.serve(s.controlL, s.handleControl)
	return nil
}

func (s *shim) closeListeners() {
	s.attachL.close()
	s.controlL.close()
}

func (s *shim) serve(l *listener, handle func(*os.File)) {
	for {
		c, err := l.accept()
		if err != nil {
			if err == errClosed {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like
			continue
		}
		go handle(c)
	}
}

// readRequest reads the one JSON line a client sends first; bytes after the
// newline are returned as the start of its stdin.
func readRequest(c *os.File) (wire.Fields, []byte, error) {
	c.SetReadDeadline(time.Now().Add(requestTimeout))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= 8192 {
				return nil, nil, errors.New("request line too long")
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			f, perr := wire.ParseObject(buf[:i])
			return f, buf[i+1:], perr
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

func reply(c *os.File, errMsg string) {
	if errMsg == "" {
		c.Write([]byte("{\"ok\":true}\n"))
		return
	}
	b := wire.AppendString([]byte(`{"error":`), errMsg)
	c.Write(append(b, "}\n"...))
}

func (s *shim) handleAttach(c *os.File) {
	req, rest, err := readRequest(c)
	if err != nil {
		reply(c, "bad attach request: "+err.Error())
		c.Close()
		return
	}
	cl := &attachClient{conn: c, stdin: req.Bool("stdin"), stdout: req.Bool("stdout"), stderr: req.Bool("stderr"), done: make(chan struct{})}
	cl.cond.L = &cl.mu
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		reply(c, "container has exited")
		c.Close()
		return
	}
	if cl.stdin && (s.stdinW == nil || s.stdinClosed) {
		cl.stdin = false
	}
	// Registered before the reply: output from here on is queued for it.
	s.clients[cl] = struct{}{}
	s.mu.Unlock()
	reply(c, "")
	go s.writeClient(cl)
	s.readClient(cl, rest)
}

// readClient forwards the client's bytes to the container's stdin. EOF from
// the client is only a half close: it keeps receiving output.
func (s *shim) readClient(cl *attachClient, rest []byte) {
	if !cl.stdin {
		var b [64]byte
		for {
			if _, err := cl.conn.Read(b[:]); err != nil {
				return
			}
		}
	}
	if len(rest) > 0 {
		if s.writeStdin(rest) != nil {
			return
		}
	}
	buf := make([]byte, 4096)
	for {
		n, err := cl.conn.Read(buf)
		if n > 0 {
			if s.writeStdin(buf[:n]) != nil {
				break
			}
		}
		if err != nil {
			if s.cfg.stdinOnce {
				s.closeStdin()
			}
			break
		}
	}
	// Drain (and so notice a full close).
	var b [64]byte
	for {
		if _, err := cl.conn.Read(b[:]); err != nil {
			return
		}
	}
}

func (s *shim) writeClient(cl *attachClient) {
	defer close(cl.done)
	for {
		cl.mu.Lock()
		for len(cl.queue) == 0 && !cl.closing {
			cl.cond.Wait()
		}
		if len(cl.queue) == 0 {
			cl.mu.Unlock()
			break
		}
		b := cl.queue[0]
		cl.queue[0] = nil
		cl.queue = cl.queue[1:]
		cl.queued -= len(b)
		cl.mu.Unlock()
		if _, err := cl.conn.Write(b); err != nil {
			break
		}
	}
	s.mu.Lock()
	delete(s.clients, cl)
	s.mu.Unlock()
	cl.mu.Lock()
	cl.queue, cl.queued = nil, 0
	cl.closing = true
	cl.mu.Unlock()
	cl.conn.Close()
}

func (cl *attachClient) push(b []byte) {
	cl.mu.Lock()
	if !cl.closing && cl.queued+len(b) <= maxClientBuffer {
		cl.queue = append(cl.queue, b)
		cl.queued += len(b)
		cl.cond.Signal()
	}
	cl.mu.Unlock()
}

// broadcast fans one chunk of output out to the attached clients: stdcopy
// frames without a tty, raw bytes with one.
func (s *shim) broadcast(stream byte, p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var frame []byte
	for cl := range s.clients {
		if !(stream == wire.Stdout && cl.stdout || stream == wire.Stderr && cl.stderr || s.cfg.tty && (cl.stdout || cl.stderr)) {
			continue
		}
		if frame == nil {
			if s.cfg.tty {
				frame = append([]byte(nil), p...)
			} else {
				frame = make([]byte, 8+len(p))
				wire.PutFrameHeader(frame, stream, len(p))
				copy(frame[8:], p)
			}
		}
		cl.push(frame)
	}
}

// closeClients lets every client's writer flush what is queued (bounded by a
// deadline), then closes the connections.
func (s *shim) closeClients() {
	s.mu.Lock()
	s.closing = true
	clients := make([]*attachClient, 0, len(s.clients))
	for cl := range s.clients {
		clients = append(clients, cl)
	}
	s.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for _, cl := range clients {
		cl.conn.SetWriteDeadline(deadline)
		cl.mu.Lock()
		cl.closing = true
		cl.cond.Signal()
		cl.mu.Unlock()
	}
	for _, cl := range clients {
		<-cl.done
	}
}

func (s *shim) handleControl(c *os.File) {
	defer c.Close()
	req, _, err := readRequest(c)
	if err != nil {
		reply(c, "bad control request: "+err.Error())
		return
	}
	switch op := req.Str("op"); op {
	case "resize":
		if s.console == nil {
			reply(c, "container has no tty")
			return
		}
		if err := setWinsize(s.console, req.Int("width"), req.Int("height")); err != nil {
			reply(c, "resize: "+err.Error())
			return
		}
		reply(c, "")
	case "close-stdin":
		s.closeStdin()
		reply(c, "")
	case "release":
		s.mu.Lock()
		released := s.released
		s.mu.Unlock()
		if !s.cfg.holdOutput || released {
			reply(c, "output already released")
			return
		}
		done := make(chan struct{})
		select {
		case s.releaseReq <- done:
			<-done
			reply(c, "")
		case <-time.After(30 * time.Second):
			reply(c, "output is not held")
		}
	default:
		reply(c, "unknown op "+op)
	}
}

func setWinsize(f *os.File, width, height int) error {
	if width <= 0 || height <= 0 || width > 0xffff || height > 0xffff {
		return errors.New("bad size")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ws := [4]uint16{uint16(height), uint16(width), 0, 0}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// recvConsole accepts runc's connection on the console socket and takes the
// pty master it sends with SCM_RIGHTS.
func recvConsole(l *listener) (*os.File, error) {
	l.f.SetReadDeadline(time.Now().Add(10 * time.Second))
	c, err := l.accept()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fds, err := recvFds(c)
	if err != nil {
		return nil, err
	}
	if len(fds) == 0 {
		return nil, errors.New("no file descriptor received")
	}
	for _, fd := range fds[1:] {
		syscall.Close(fd)
	}
	syscall.CloseOnExec(fds[0])
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}
