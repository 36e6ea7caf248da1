package container

import (
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// frameWriter writes docker's multiplexed stream: an 8-byte header (stream, 0, 0, 0, big-endian
// length) before each chunk. Writers of both streams share one lock so frames never interleave.
type frameWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream byte
}

func newFrameWriters(w io.Writer) (stdout, stderr io.Writer) {
	mu := &sync.Mutex{}
	return &frameWriter{mu: mu, w: w, stream: 1}, &frameWriter{mu: mu, w: w, stream: 2}
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [8]byte
	hdr[0] = f.stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}

// detachKeys parses docker's detach key spec ("ctrl-p,ctrl-q", "a,ctrl-z") into bytes.
func detachKeys(spec string) ([]byte, error) {
	if spec == "" {
		return []byte{16, 17}, nil
	}
	var out []byte
	for _, k := range splitComma(spec) {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case len(k) == 6 && k[:5] == "ctrl-":
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c == '@':
				out = append(out, 0)
			case c == '[':
				out = append(out, 27)
			case c == '\\':
				out = append(out, 28)
			case c == ']':
				out = append(out, 29)
			case c == '^':
				out = append(out, 30)
			case c == '_':
				out = append(out, 31)
			default:
				return nil, errInvalidDetachKeys(spec)
			}
		default:
			return nil, errInvalidDetachKeys(spec)
		}
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// detachReader passes input through until the detach sequence is typed, then reports io.EOF with
// detached set. A partial match is held back and released if the next byte breaks it.
type detachReader struct {
	r        io.Reader
	keys     []byte
	matched  int
	detached bool
	pending  []byte
}

func (d *detachReader) Read(p []byte) (int, error) {
	if len(d.pending) > 0 {
		n := copy(p, d.pending)
		d.pending = d.pending[n:]
		return n, nil
	}
	if d.detached {
		return 0, io.EOF
	}
	buf := make([]byte, len(p))
	n, err := d.r.Read(buf)
	out := make([]byte, 0, n+len(d.keys))
	for _, b := range buf[:n] {
		if b == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.detached = true
				break
			}
			continue
		}
		if d.matched > 0 {
			out = append(out, d.keys[:d.matched]...)
			d.matched = 0
		}
		if b == d.keys[0] {
			d.matched = 1
			continue
		}
		out = append(out, b)
	}
	m := copy(p, out)
	d.pending = append(d.pending, out[m:]...)
	if d.detached && m == 0 {
		return 0, io.EOF
	}
	return m, err
}

func sleepShort() { time.Sleep(5 * time.Millisecond) }
