package cli

import (
	"io"

	"github.com/moby/term"
)

// InStream is the CLI's standard input, knowing whether it is a terminal.
type InStream struct {
	io.Reader
	fd       uintptr
	terminal bool
}

// NewInStream wraps r; a *os.File reports whether it is a terminal.
func NewInStream(r io.Reader) *InStream {
	fd, isTerm := term.GetFdInfo(r)
	return &InStream{Reader: r, fd: fd, terminal: isTerm}
}

// IsTerminal reports whether the stream is a terminal.
func (s *InStream) IsTerminal() bool { return s.terminal }

// FD is the file descriptor behind the stream (meaningful only for files).
func (s *InStream) FD() uintptr { return s.fd }

// OutStream is the CLI's standard output, knowing whether it is a terminal.
type OutStream struct {
	io.Writer
	fd       uintptr
	terminal bool
}

// NewOutStream wraps w; a *os.File reports whether it is a terminal.
func NewOutStream(w io.Writer) *OutStream {
	fd, isTerm := term.GetFdInfo(w)
	return &OutStream{Writer: w, fd: fd, terminal: isTerm}
}

// IsTerminal reports whether the stream is a terminal.
func (s *OutStream) IsTerminal() bool { return s.terminal }

// FD is the file descriptor behind the stream (meaningful only for files).
func (s *OutStream) FD() uintptr { return s.fd }

// Width is the terminal's width in columns, or 80 when it is not a terminal.
func (s *OutStream) Width() int {
	if s.terminal {
		if ws, err := term.GetWinsize(s.fd); err == nil && ws.Width > 0 {
			return int(ws.Width)
		}
	}
	return 80
}
