package main

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/shim/wire"
)

// jsonLog writes container output as docker json-file lines, one message per
// output line, and rotates by size: path, path.1, ... path.(maxFiles-1).
type jsonLog struct {
	mu       sync.Mutex
	path     string
	maxSize  int64 // <= 0: never rotate
	maxFiles int   // >= 1
	f        *os.File
	size     int64
	out      []byte      // encoded lines waiting for one write
	pend     [3][]byte   // per stream: the start of a line not yet ended
	err      error       // first write error, reported once in shim.log
	onErr    func(error) // diagnostics sink
	now      func() time.Time
}

func openJSONLog(path string, maxSize int64, maxFiles int) (*jsonLog, error) {
	if maxFiles < 1 {
		maxFiles = 1
	}
	l := &jsonLog{path: path, maxSize: maxSize, maxFiles: maxFiles, now: time.Now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *jsonLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, st.Size()
	return nil
}

// write takes one chunk of a stream's output and logs every line ended in it;
// a line longer than wire.MaxLogLine goes out in pieces without the newline,
// like docker's partial messages.
func (l *jsonLog) write(stream byte, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	name := wire.StreamName(stream)
	pend := l.pend[stream]
	for len(p) > 0 {
		seg := p
		if room := wire.MaxLogLine - len(pend); len(seg) > room {
			seg = seg[:room]
		}
		if i := bytes.IndexByte(seg, '\n'); i >= 0 {
			l.entry(pend, seg[:i+1], name, now)
			pend = pend[:0]
			p = p[i+1:]
			continue
		}
		if len(pend) == 0 && len(seg) == wire.MaxLogLine {
			l.entry(nil, seg, name, now)
		} else {
			pend = append(pend, seg...)
			if len(pend) == wire.MaxLogLine {
				l.entry(pend, nil, name, now)
				pend = pend[:0]
			}
		}
		p = p[len(seg):]
	}
	if cap(pend) > 4096 && len(pend) == 0 {
		pend = nil // do not keep a large buffer around for an idle stream
	}
	l.pend[stream] = pend
	l.flushLocked()
}

// flush logs what is left of a stream's last line (at EOF).
func (l *jsonLog) flush(stream byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pend[stream]) > 0 {
		l.entry(l.pend[stream], nil, wire.StreamName(stream), l.now())
		l.pend[stream] = nil
		l.flushLocked()
	}
}

// flushThreshold bounds the encode buffer: a chunk of many short lines is
// written in several pieces rather than grown into a large buffer (which would
// be garbage, and garbage means collections, which cost resident memory).
const flushThreshold = 32 * 1024

// entry encodes one message; when it would push the file past maxSize, what
// is already encoded is written and the file rotated first.
func (l *jsonLog) entry(a, b []byte, stream string, now time.Time) {
	if l.out == nil {
		// Room for a flush's worth at once: growing into it by appends would
		// leave a trail of garbage.
		l.out = make([]byte, 0, flushThreshold+8*1024)
	}
	start := len(l.out)
	l.out = wire.AppendLogEntry(l.out, a, b, stream, now)
	if l.maxSize > 0 {
		before := l.size + int64(start)
		if before > 0 && before+int64(len(l.out)-start) > l.maxSize {
			l.writeOut(l.out[:start])
			l.rotate()
			l.out = append(l.out[:0], l.out[start:]...)
		}
	}
	if len(l.out) >= flushThreshold {
		l.flushLocked()
	}
}

func (l *jsonLog) flushLocked() {
	l.writeOut(l.out)
	l.out = l.out[:0]
	if cap(l.out) > 4*flushThreshold {
		l.out = nil // after one huge escaped line
	}
}

func (l *jsonLog) writeOut(b []byte) {
	if len(b) == 0 || l.f == nil {
		return
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	if err != nil && l.err == nil {
		l.err = err
		if l.onErr != nil {
			l.onErr(err)
		}
	}
}

func (l *jsonLog) rotate() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	if l.maxFiles > 1 {
		os.Remove(l.path + "." + strconv.Itoa(l.maxFiles-1))
		for i := l.maxFiles - 2; i >= 1; i-- {
			os.Rename(l.path+"."+strconv.Itoa(i), l.path+"."+strconv.Itoa(i+1))
		}
		if err := os.Rename(l.path, l.path+".1"); err != nil && l.onErr != nil {
			l.onErr(err)
		}
	} else if err := os.Truncate(l.path, 0); err != nil && l.onErr != nil {
		l.onErr(err)
	}
	if err := l.open(); err != nil && l.onErr != nil {
		l.onErr(err)
	}
}

func (l *jsonLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
