package main

import (
	"errors"
	"os"
	"syscall"
)

// The shim speaks unix sockets through raw syscalls and *os.File (which the
// runtime poller serves for non-blocking descriptors) rather than package
// net: net links the cgo resolver and libc into a default build and brings
// far more code than the shim needs.

type listener struct {
	f    *os.File
	rc   syscall.RawConn
	path string
}

// listenUnix binds a stream socket at path (relative to the state directory,
// which keeps it clear of the 108-byte sun_path limit).
func listenUnix(path string) (*listener, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	os.Remove(path)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Listen(fd, 64); err != nil {
		syscall.Close(fd)
		os.Remove(path)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &listener{f: f, rc: rc, path: path}, nil
}

var errClosed = errors.New("listener closed")

// accept waits (in the poller, honouring the read deadline) for a connection.
func (l *listener) accept() (*os.File, error) {
	var nfd int
	var aerr error
	err := l.rc.Read(func(fd uintptr) bool {
		nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		return aerr != syscall.EAGAIN
	})
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil, errClosed
		}
		return nil, err
	}
	if aerr != nil {
		return nil, aerr
	}
	return os.NewFile(uintptr(nfd), "conn"), nil
}

func (l *listener) close() {
	if l == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
}

// recvFd reads one message from c and returns the descriptors passed with it.
func recvFds(c *os.File) ([]int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 256)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	var oobn int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		_, oobn, _, _, rerr = syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_CMSG_CLOEXEC)
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		if got, err := syscall.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds, nil
}
